"""What a sandbox container prints: startup lines, a steady stream of requests, and the last words of a crash."""

from __future__ import annotations

from typing import Any

PATHS = ("/", "/products", "/products?page=2", "/cart", "/healthz", "/api/search?q=lamp", "/static/app.js")

CRASH_LINES = ("panic: cannot connect to database: connection refused", "exit status 1")


def startup_lines(pod: dict[str, Any], container: dict[str, Any]) -> list[str]:
    sha = (pod["metadata"].get("annotations") or {}).get("prdeck.dev/head-sha", "")[:7]
    return [
        f"starting {container['name']} from {container['image']}" + (f" (commit {sha})" if sha else ""),
        "loading configuration from environment",
        "listening on :8080",
        "GET /healthz 200 1ms",
    ]


def request_line(tick: int) -> str:
    """The ``tick``-th access log line: a fixed cycle of paths, an occasional 404, varying latencies."""
    path = PATHS[tick % len(PATHS)]
    status = 200 if tick % 11 else 404
    return f"GET {path} {status} {3 + (tick * 7) % 40}ms"
