"""Launch speed of a three-service compose spec, and of one service with GitHub at a realistic latency.

Run it with a Docker engine (DOCKER_HOST; tests/run starts one) and the registry from the sandbox stack:

    python benchmarks/launch_speed_services.py [--github-latency 0.1] [--rounds 3]

Prints, per round:
- three services: ``prdeck launch N --wait`` (the console script) against the same steps by hand: ``git fetch``,
  ``git archive``, the three ``docker build`` side by side (as ``docker compose build`` runs them with BuildKit),
  the three ``docker push`` side by side, one apply and the wait for the pod (target <= 1.15);
- one service: the same ratio with every GitHub request (REST, GraphQL and git) held ``--github-latency`` seconds;
  the by-hand yardstick reports nothing to GitHub, so this is where prdeck's 14 GitHub round trips would show;
- a relaunch of the unchanged PR (target < 1 s; at GitHub latency it still asks GitHub a few times).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.launch_speed import STARTUPS, by_hand, with_prdeck
from prdeck.services.github.service import GitHubService
from prdeck.services.kube.client import load_api_client
from prdeck.services.kube.service import ClusterService
from prdeck.services.launch.journal import LaunchJournal
from prdeck.services.launch.pipeline import Launcher
from prdeck.services.launch.settings import LaunchSettings
from prdeck.services.sandbox.images import free_port, sandbox_builder
from prdeck.services.sandbox.stack import SandboxStack
from tests.launch_support import DOCKERFILE, app_seed

SERVICES = ("web", "worker", "admin")


def compose(port: int) -> str:
    services = "".join(
        f"  {name}:\n    build: ./{name}\n" + (f"    ports: ['{port}']\n" if name == "web" else "")
        for name in SERVICES)
    return f"services:\n{services}x-prdeck:\n  ingress: {{service: web, port: {port}}}\n"


def seed(rounds: int, services: bool) -> dict:
    port = free_port()
    files: dict[str, str] = {}
    if services:
        files[".prdeck/compose.yml"] = compose(port)
        for name in SERVICES:
            files[f"{name}/Dockerfile"] = DOCKERFILE.format(port=port)
            files[f"{name}/site/index.html"] = f"<h1>{name}</h1>\n"
    pulls = []
    for number in range(1, 2 * rounds + 2):
        changed = {f"{name}/site/index.html" if services else "site/index.html":
                   f"<h1>{name} {number}</h1>\n" + "x" * 200_000 + f"\n{number}\n" for name in SERVICES}
        pulls.append({"number": number, "title": f"Change {number}", "author": "dev", "branch": f"change/{number}",
                      "files": changed})
    spec = app_seed(port, pulls=pulls, files=files)
    spec["kube"] = {}
    return spec


def slow_github(stack: SandboxStack, seconds: float) -> None:
    """Every GitHub request (REST, GraphQL, git) waits ``seconds`` first, as across the internet."""
    body = json.dumps({"scope": "all", "times": 10**9, "delay": seconds}).encode()
    request = urllib.request.Request(f"{stack.github.admin_url}/faults", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()


def measure(rounds: int, services: bool, latency: float) -> None:
    work = Path(tempfile.mkdtemp(prefix="prdeck-bench-"))
    label = "three services" if services else f"one service, GitHub at {latency * 1000:.0f} ms a request"
    with SandboxStack(seed(rounds, services), builds="docker") as stack:
        info = stack.info()
        env = {**os.environ, **{k: str(v) for k, v in info["env"].items()}, "PRDECK_REPOS": "octo/app",
               "XDG_STATE_HOME": str(work / "state"), "XDG_CACHE_HOME": str(work / "cache")}
        github = GitHubService(stack.github.api_url, stack.github.token)
        cluster = ClusterService(load_api_client(str(stack.kube.kubeconfig), None))
        settings = LaunchSettings(registry=stack.registry_address or "", launched_by="bench")
        launcher = Launcher(github, cluster, settings, sandbox_builder(simulate=False), LaunchJournal(work / "j"),
                            work / "mirrors")
        with_prdeck(env, 2 * rounds + 1)  # warm-up: base image, mirror, imports
        if latency:
            slow_github(stack, latency)
        ratios, relaunches = [], []
        for index in range(rounds):
            mine, theirs = 2 * index + 1, 2 * index + 2
            ours = with_prdeck(env, mine)
            plain = by_hand(stack, launcher, theirs, work, {name: name for name in SERVICES} if services else None)
            again = with_prdeck(env, mine)
            ratios.append(ours / plain)
            relaunches.append(again)
            print(f"{label}, round {index + 1}: prdeck launch --wait {ours:.2f}s, by hand {plain:.2f}s, "
                  f"ratio {ours / plain:.2f}; relaunch {again:.2f}s", flush=True)
        print(f"{label}: launch / by hand median {statistics.median(ratios):.2f} (target <= 1.15); relaunch max "
              f"{max(relaunches):.2f}s, median {statistics.median(relaunches):.2f}s (target < 1 s); console start-up "
              f"median {statistics.median(STARTUPS):.2f}s", flush=True)
        STARTUPS.clear()
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--github-latency", type=float, default=0.1, help="seconds each GitHub request waits")
    args = parser.parse_args()
    if shutil.which("docker") is None or not os.environ.get("DOCKER_HOST"):
        print("needs a Docker engine: set DOCKER_HOST (tests/run starts one)", file=sys.stderr)
        sys.exit(2)
    measure(args.rounds, services=True, latency=0.0)
    measure(args.rounds, services=False, latency=args.github_latency)


if __name__ == "__main__":
    main()
