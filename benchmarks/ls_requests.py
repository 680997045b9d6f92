"""How many GitHub requests `prdeck ls` makes for 1,000 open pull requests, and what it costs over the wire.

Prints:
- requests: what a full `prdeck ls --json` sent to the sandbox (target: 10, GraphQL's minimum at 100 a page);
- ratio: wall time of `prdeck ls --json` (in-process: config, token, PyGithub, parsing, JSON output)
  divided by the time of the same ten GraphQL fetches sent bare with `requests` (target: <= 1.3). The two
  run alternately, round after round, against a sandbox in its own process; the median ratio is printed;
- for reference, the same command as a fresh process (interpreter start and imports included).

Run: .venv/bin/python benchmarks/ls_requests.py [--pulls 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import requests

from prdeck.services.github.graphql import load_query
from prdeck.tui.cli.main import main as prdeck_main


class Endpoint:
    """The URLs and token of a running sandbox, from its info file."""

    def __init__(self, info: dict) -> None:
        self.admin_url = info["github_admin_url"]
        self.graphql_url = info["graphql_url"]
        self.token = info["token"]


def admin(box: Endpoint, path: str, method: str = "GET") -> dict[str, int]:
    request = urllib.request.Request(f"{box.admin_url}/{path}", data=b"{}" if method == "POST" else None, method=method)
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def bare_fetch(box: Endpoint, owner: str, name: str) -> int:
    """The GraphQL pages alone, with a plain HTTP session: the floor prdeck is measured against."""
    query = load_query("open_pull_requests")
    cursor = None
    count = 0
    with requests.Session() as session:
        session.headers["Authorization"] = f"bearer {box.token}"
        while True:
            body = {"query": query, "variables": {"owner": owner, "name": name, "after": cursor}}
            page = session.post(box.graphql_url, json=body, timeout=30).json()["data"]["repository"]["pullRequests"]
            count += len(page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                return count
            cursor = page["pageInfo"]["endCursor"]


def prdeck_ls() -> int:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = prdeck_main(["ls", "--json", "--repo", "bench/big"])
    assert status == 0, "prdeck ls failed"
    return len(json.loads(out.getvalue())["pulls"])


def start_sandbox(seed: dict, workdir: Path) -> tuple[subprocess.Popen, dict]:
    """`prdeck sandbox` in its own process, so the server never competes with the client for the GIL."""
    seed_path, info_path = workdir / "seed.json", workdir / "info.json"
    seed_path.write_text(json.dumps(seed))
    cli = str(Path(sys.executable).parent / "prdeck")
    process = subprocess.Popen(
        [cli, "sandbox", "--seed", str(seed_path), "--info", str(info_path)], stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not info_path.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit("the sandbox did not start")
        time.sleep(0.1)
    return process, json.loads(info_path.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    seed = {"users": [{"login": "bench"}], "generate": [{"repo": "bench/big", "pulls": args.pulls}]}
    with tempfile.TemporaryDirectory() as tmp:
        process, info = start_sandbox(seed, Path(tmp))
        try:
            box = Endpoint(info)
            os.environ.update({**info["env"], "PRDECK_CONFIG": str(Path(tmp) / "none.toml")})
            bare_fetch(box, "bench", "big")  # warm up both paths once
            prdeck_ls()
            admin(box, "reset-stats", "POST")
            listed = prdeck_ls()
            counts = admin(box, "stats")
            bare_times, full_times = [], []
            for _ in range(args.rounds):
                started = time.perf_counter()
                fetched = bare_fetch(box, "bench", "big")
                bare_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                prdeck_ls()
                full_times.append(time.perf_counter() - started)
            cli = str(Path(sys.executable).parent / "prdeck")
            started = time.perf_counter()
            subprocess.run([cli, "ls", "--json", "--repo", "bench/big"], check=True, capture_output=True)
            fresh = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=15)
    ratio = statistics.median(full / bare for full, bare in zip(full_times, bare_times, strict=True))
    bare, full = statistics.median(bare_times), statistics.median(full_times)
    print(f"pull requests listed: {listed} (bare fetch saw {fetched})")
    print(
        f"requests for one `prdeck ls`: {counts['total']} (graphql {counts['graphql']}, rest {counts['rest']}); "
        f"target {-(-args.pulls // 100)}"
    )
    print(f"bare GraphQL fetches: {bare * 1000:.0f} ms; prdeck ls in-process: {full * 1000:.0f} ms (medians)")
    print(f"ratio prdeck ls / bare fetches: {ratio:.2f} (median of {args.rounds} paired rounds; target <= 1.3)")
    print(
        f"prdeck ls as a fresh process: {fresh * 1000:.0f} ms (ratio {fresh / bare:.2f}, interpreter start and "
        "imports included)"
    )


if __name__ == "__main__":
    main()
