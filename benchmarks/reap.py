"""What `prdeck reap --yes` costs: Kubernetes and GitHub requests (counted by the sandboxes) and wall time.

Two clusters, each with 150 previews that must go (50 of closed PRs, 50 expired, 50 orphans of PRs that do not
exist) and a number that stay (open, not expired): 50 (200 previews, the issue's case) and 200 (350). The
request counts of the two runs must be equal: nothing is asked per kept preview.

Prints, for each run: previews removed, Kubernetes requests by kind, GitHub requests (REST, GraphQL), wall time
of the reap in-process, and a second reap right after (nothing left: its requests and time).

Run: .venv/bin/python benchmarks/reap.py
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from prdeck.tui.cli.main import main as prdeck_main

GOING = 150


def seed(kept: int) -> dict:
    pulls = [{"number": n, "title": f"Change {n}", "author": "bench", "branch": f"b/{n}", "ci": "SUCCESS"}
             for n in range(1, kept + 101)]
    for pull in pulls[kept + 50:]:
        pull["state"] = "closed"
    previews = [{"repo": "bench/app", "number": n, "state": "ready", "expires_in": "2d"} for n in range(1, kept + 1)]
    previews += [{"repo": "bench/app", "number": n, "state": "ready", "expires_in": "-1h"}
                 for n in range(kept + 1, kept + 51)]
    previews += [{"repo": "bench/app", "number": n, "state": "ready"} for n in range(kept + 51, kept + 101)]
    previews += [{"repo": "bench/app", "number": n, "state": "empty"} for n in range(5001, 5051)]
    return {"users": [{"login": "bench"}],
            "repos": [{"name": "bench/app", "default_branch": "main", "files": {"README.md": "# app\n"},
                       "pulls": pulls}],
            "previews": previews,
            "kube": {"timing": {"schedule": 0.02, "create": 0.05, "ready": 0.1, "log_every": 3600}}}


def start_sandbox(seed: dict, workdir: Path) -> tuple[subprocess.Popen, dict]:
    """`prdeck sandbox` in its own process (as benchmarks/ls_requests.py), so the servers never compete with the
    client for the GIL."""
    seed_path, info_path = workdir / "seed.json", workdir / "info.json"
    seed_path.write_text(json.dumps(seed))
    process = subprocess.Popen([str(Path(sys.executable).parent / "prdeck"), "sandbox", "--seed", str(seed_path),
                                "--info", str(info_path)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not info_path.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit("the sandbox did not start")
        time.sleep(0.1)
    return process, json.loads(info_path.read_text())


def call(url: str, method: str = "GET", context: ssl.SSLContext | None = None) -> dict:
    request = urllib.request.Request(url, data=b"{}" if method == "POST" else None, method=method)
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return json.load(response)


def reap() -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = prdeck_main(["reap", "--yes", "--json", "--repo", "bench/app"])
    assert status == 0, f"prdeck reap failed ({status})"
    return json.loads(out.getvalue())


def run(kept: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        process, info = start_sandbox(seed(kept), Path(tmp))
        try:
            kube_ssl = ssl.create_default_context(cafile=info["kube_ca"]) if info.get("kube_ca") else None
            os.environ.update({**info["env"], "PRDECK_CONFIG": str(Path(tmp) / "none.toml")})
            github, kube = info["github_admin_url"], info["kube_admin_url"]
            deadline = time.monotonic() + 120  # every seeded pod running first: the cluster at rest
            while True:
                listing = json.loads(subprocess_ls())
                states = [row["preview"]["state"] for row in listing["pulls"] if row["preview"]]
                if states.count("ready") >= kept or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            rounds = []
            for _ in range(2):
                call(f"{github}/reset-stats", "POST")
                call(f"{kube}/reset-stats", "POST", kube_ssl)
                started = time.perf_counter()
                result = reap()
                seconds = time.perf_counter() - started
                rounds.append((result, seconds, call(f"{kube}/stats", context=kube_ssl), call(f"{github}/stats")))
        finally:
            process.terminate()
            process.wait(timeout=15)
    total = kept + GOING
    for label, (result, seconds, kube_counts, github_counts) in zip(("reap", "again"), rounds, strict=True):
        print(f"{total} previews, {kept} kept: {label}: removed {len(result['removed'])} "
              f"(errors {len(result['errors'])}, deployments inactive {result['deployments_inactive']}); "
              f"{seconds * 1000:.0f} ms")
        print(f"  kubernetes requests: {sum(kube_counts.values())} {dict(sorted(kube_counts.items()))}")
        print(f"  github requests: {github_counts['total']} (rest {github_counts['rest']}, "
              f"graphql {github_counts['graphql']})")


def subprocess_ls() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        prdeck_main(["ls", "--json", "--repo", "bench/app"])
    return out.getvalue()


def main() -> None:
    for kept in (50, 200):
        run(kept)


if __name__ == "__main__":
    main()
