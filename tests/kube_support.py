"""Helpers for tests against the Kubernetes sandbox: fast timings, the real client, admin calls."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from kubernetes import client, config

from prdeck.services.sandbox.kube.sandbox import KubeSandbox

FAST = {"schedule": 0.02, "create": 0.05, "ready": 0.1, "log_every": 0.1, "crash_after": 0.2, "backoff": 0.3,
        "terminate": 0.05}


def fast_seed(seed: dict[str, Any] | None = None) -> dict[str, Any]:
    seed = dict(seed or {})
    kube = dict(seed.get("kube") or {})
    kube["timing"] = {**FAST, **(kube.get("timing") or {})}
    seed["kube"] = kube
    return seed


def api(box: KubeSandbox) -> client.ApiClient:
    return config.new_client_from_config(str(box.kubeconfig))


def kube_admin(box: KubeSandbox, path: str, body: dict[str, Any] | None = None, method: str = "POST") -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{box.url}/_sandbox/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10, context=box.client_ssl_context()) as response:
        return json.load(response)


def eventually(check: Callable[[], Any], timeout: float = 10, every: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy (the sandbox's controllers take real time)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out; last value: {last!r}")
