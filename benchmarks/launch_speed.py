"""Launch speed against the sandboxes with the real Docker engine and registry (run it with DOCKER_HOST set).

Prints, per round:
- ``prdeck launch N --wait`` wall time (the console script, as a user runs it) divided by the same steps done by
  hand in the same run: ``git fetch`` of the PR head, ``git archive`` + ``docker build``, ``docker push``, one
  server-side apply per object and a wait for the pod to be ready (target <= 1.15);
- a relaunch of the unchanged PR (target < 1 s, no build);
- the console script's start-up: from starting ``prdeck launch`` to its first step;
- the delay from the rollout completing (the launch's rollout step done) to the row reading ready, seen through
  the deck's preview watch as the TUI sees it (target < 1 s).

Each round uses two pull requests with different content, so neither side finds the other's layers in the cache.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prdeck.services.deck import ClusterParts, Deck
from prdeck.services.github.service import GitHubService
from prdeck.services.kube.client import load_api_client
from prdeck.services.kube.service import ClusterService
from prdeck.services.launch.deploy import Deployer
from prdeck.services.launch.journal import LaunchJournal
from prdeck.services.launch.launches import Launches
from prdeck.services.launch.pipeline import Launcher
from prdeck.services.launch.settings import LaunchSettings
from prdeck.services.models import LaunchEvent, RepoRef
from prdeck.services.sandbox.images import free_port, sandbox_builder
from prdeck.services.sandbox.stack import SandboxStack
from tests.launch_support import app_seed

ROUNDS = 3
REPO = RepoRef("octo", "app")
PRDECK = str(Path(sys.executable).with_name("prdeck"))


def seed() -> dict:
    pulls = [
        {"number": n, "title": f"Change {n}", "author": "dev", "branch": f"change/{n}",
         "files": {"site/index.html": f"<h1>page {n}</h1>\n" + "x" * 200_000 + f"\n{n}\n"}}
        for n in range(1, 3 * ROUNDS + 2)
    ]
    spec = app_seed(free_port(), pulls=pulls)
    spec["kube"] = {}  # the sandbox's default pod timing (a few seconds to ready), not the tests' fast one
    return spec


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> None:
    subprocess.run(args, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def by_hand(stack: SandboxStack, launcher: Launcher, number: int, work: Path,
            contexts: dict[str, str] | None = None) -> float:
    """The same steps with plain tools: git fetch, git archive, docker build, docker push, apply, wait.

    ``contexts``: the services' build folders (default: one service, ``web``, from the root); several build side by
    side and push side by side, as ``docker compose build`` (BuildKit) and a shell's ``&`` would.
    """
    contexts = contexts or {"web": "."}
    pull = stack.github.state.repo("octo", "app").pulls[number]
    refs = {name: f"{stack.registry_address}/octo-app-{name}:manual-{number}-{pull.head_sha[:12]}"
            for name in contexts}
    clone = stack.github.info()["git_url"].rstrip("/") + "/octo/app.git"
    repo_dir, tree = work / f"manual-{number}.git", work / f"tree-{number}"
    tree.mkdir()
    started = time.monotonic()
    run("git", "init", "-q", "--bare", str(repo_dir))
    run("git", "--git-dir", str(repo_dir), "fetch", "-q", "--depth=50", clone, f"+refs/pull/{number}/head:refs/pr")
    archive = subprocess.run(["git", "--git-dir", str(repo_dir), "archive", "refs/pr"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    side_by_side([["docker", "build", "-q", "-t", ref, str(tree / contexts[name])] for name, ref in refs.items()])
    side_by_side([["docker", "push", "-q", ref] for ref in refs.values()])
    plan = launcher.plan(REPO, number, check_approval=False)
    plan.images = dict(refs)
    deployer = Deployer(launcher.cluster)
    deployer.apply(launcher.objects(plan), lambda _line: None)
    deployer.wait_rollout(plan.placement.namespace, plan.placement.launch_id, 120, lambda _status: None)
    return time.monotonic() - started


def side_by_side(commands: list[list[str]]) -> None:
    processes = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for command in commands]
    for process, command in zip(processes, commands, strict=True):
        if process.wait() != 0:
            raise SystemExit(f"failed: {' '.join(command)}")


def in_process(launcher: Launcher, number: int) -> float:
    started = time.monotonic()
    launcher.launch(REPO, number, lambda _event: None)
    return time.monotonic() - started


STARTUPS: list[float] = []
"""Seconds from starting ``prdeck launch`` to its first step (``==> fetch``): the console script's start-up."""


def with_prdeck(env: dict, number: int) -> float:
    started = time.monotonic()
    process = subprocess.Popen([PRDECK, "launch", str(number), "--wait"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    tail: deque[str] = deque(maxlen=40)
    for line in process.stderr:
        if line.startswith("==> fetch"):
            STARTUPS.append(time.monotonic() - started)
        tail.append(line)
    if process.wait() != 0:
        raise SystemExit(f"prdeck launch {number} failed:\n{''.join(tail)}")
    return time.monotonic() - started


def ready_delay(stack: SandboxStack, launcher: Launcher, journal: LaunchJournal, number: int) -> float:
    """Rollout done -> the deck's preview (as the TUI's row gets it) reads ready."""
    deck = Deck(launcher.github, [REPO], ClusterParts(launcher.cluster, None, Launches(lambda: launcher, journal)))
    stop = threading.Event()
    seen: dict[str, float] = {}

    def changed(previews: tuple) -> None:
        for preview in previews:
            if preview.number == number and preview.state == "ready" and "rollout" in seen:
                seen.setdefault("ready", time.monotonic())

    def emit(event: LaunchEvent) -> None:
        if event.kind == "step" and event.step == "rollout" and event.state == "done":
            seen["rollout"] = time.monotonic()

    follower = threading.Thread(target=deck.follow_previews, args=(changed, lambda _e: None, stop), daemon=True)
    follower.start()
    time.sleep(0.5)
    deck.launch(REPO, number, emit)
    deadline = time.monotonic() + 10
    while "ready" not in seen and time.monotonic() < deadline:
        time.sleep(0.005)
    stop.set()
    return seen.get("ready", float("inf")) - seen["rollout"]


def main() -> None:
    if shutil.which("docker") is None or not os.environ.get("DOCKER_HOST"):
        print("needs a Docker engine: set DOCKER_HOST (tests/run starts one)", file=sys.stderr)
        sys.exit(2)
    work = Path(tempfile.mkdtemp(prefix="prdeck-bench-"))
    with SandboxStack(seed(), builds="docker") as stack:
        info = stack.info()
        env = {**os.environ, **{k: str(v) for k, v in info["env"].items()}, "PRDECK_REPOS": "octo/app",
               "XDG_STATE_HOME": str(work / "state"), "XDG_CACHE_HOME": str(work / "cache")}
        github = GitHubService(stack.github.api_url, stack.github.token)
        cluster = ClusterService(load_api_client(str(stack.kube.kubeconfig), None))
        journal = LaunchJournal(work / "journal")
        settings = LaunchSettings(registry=stack.registry_address or "", launched_by="bench")
        launcher = Launcher(github, cluster, settings, sandbox_builder(simulate=False), journal, work / "mirrors")
        with_prdeck(env, 3 * ROUNDS + 1)  # warm-up: base image, mirror, imports
        ratios, relaunches, delays = [], [], []
        pipeline_ratios = []
        for index in range(ROUNDS):
            mine, theirs, third = 3 * index + 1, 3 * index + 2, 3 * index + 3
            ours = with_prdeck(env, mine)
            plain = by_hand(stack, launcher, theirs, work)
            pipeline = in_process(launcher, third)
            again = with_prdeck(env, mine)
            ratios.append(ours / plain)
            pipeline_ratios.append(pipeline / plain)
            relaunches.append(again)
            print(f"round {index + 1}: prdeck launch --wait {ours:.2f}s (pipeline alone, in-process: {pipeline:.2f}s), "
                  f"by hand {plain:.2f}s, ratio {ours / plain:.2f} (pipeline {pipeline / plain:.2f}); "
                  f"relaunch {again:.2f}s")
        for number in (1, 3):
            cluster.core.delete_namespace(f"prdeck-octo-app-pr-{number}")
        time.sleep(1)
        for number in (1, 3):
            delays.append(ready_delay(stack, launcher, journal, number))
        print(f"launch --wait / by hand: median {statistics.median(ratios):.2f} (target <= 1.15), "
              f"all {', '.join(f'{r:.2f}' for r in ratios)}")
        print(f"pipeline in-process / by hand: median {statistics.median(pipeline_ratios):.2f} "
              "(the difference is the interpreter start and imports of the console script)")
        print(f"relaunch of an unchanged PR: max {max(relaunches):.2f}s, median {statistics.median(relaunches):.2f}s "
              "(target < 1 s)")
        print(f"console start-up (process start -> first step): median {statistics.median(STARTUPS):.2f}s "
              f"of {len(STARTUPS)} launches")
        print(f"rollout done -> row ready: {', '.join(f'{d * 1000:.0f} ms' for d in delays)} (target < 1 s)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
