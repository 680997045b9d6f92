"""Caps (issue 15 item 6): ``preview.max_parallel_launches`` queues launches in one prdeck (``queued #1``), and
``preview.max_previews`` refuses a launch past the cluster's count before anything is built, even when two
processes launch at once. Also several PRs in one ``prdeck launch``."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from prdeck.services.models import LaunchEvent, RepoRef
from prdeck.services.sandbox.images import SimulatedBuilder, free_port
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import PRDECK, run_prdeck
from tests.kube_support import api, eventually
from tests.launch_support import app_seed, stack_deck

pytestmark = pytest.mark.timeout(300)

APP = RepoRef("octo", "app")
SLOW_DOCKERFILE = "FROM scratch\nCOPY site /www\n" + "".join(f"RUN step-{n}\n" for n in range(20))
PULLS = [{"number": n, "title": f"Page {n}", "author": "dev", "branch": f"feature/page-{n}",
          "files": {"site/index.html": f"<h1>page of PR {n}</h1>\n"}} for n in (1, 2, 3)]


@pytest.fixture
def stack() -> Iterator[SandboxStack]:
    seed = app_seed(free_port(), pulls=PULLS, files={"Dockerfile": SLOW_DOCKERFILE})
    with SandboxStack(seed, builds="simulate") as running:
        yield running


def cli_env(stack: SandboxStack, tmp: Path, **config: int) -> dict[str, str]:
    path = tmp / "config.toml"
    path.write_text("[preview]\n" + "".join(f"{key} = {value}\n" for key, value in config.items()))
    return {**os.environ, **{k: str(v) for k, v in stack.info()["env"].items()}, "PRDECK_REPOS": "octo/app",
            "PRDECK_CONFIG": str(path), "XDG_STATE_HOME": str(tmp / "state"), "XDG_CACHE_HOME": str(tmp / "cache")}


def live(stack: SandboxStack) -> list[str]:
    with api(stack.kube) as api_client:
        items = client.CoreV1Api(api_client).list_namespace(label_selector="app.kubernetes.io/managed-by=prdeck").items
    return sorted(ns.metadata.name for ns in items if not ns.metadata.deletion_timestamp)


def test_a_launch_past_the_parallel_cap_waits_in_the_queue(stack: SandboxStack, tmp_path: Path) -> None:
    deck = stack_deck(stack, tmp_path, lambda: SimulatedBuilder(),
                      **{"preview.max_parallel_launches": 1})
    seen: dict[int, list[LaunchEvent]] = {1: [], 2: []}
    rows: list[tuple[str, str | None]] = []
    first_building = threading.Event()

    def emit(number: int):
        def record(event: LaunchEvent) -> None:
            seen[number].append(event)
            if number == 1 and event.step == "build":
                first_building.set()
            if number == 2 and event.kind == "note":
                rows.extend((p.state, p.reason) for p in deck.previews if p.number == 2)
        return record

    try:
        one = threading.Thread(target=deck.launch, args=(APP, 1, emit(1)), kwargs={"wait": False})
        one.start()
        assert first_building.wait(60)
        deck.launch(APP, 2, emit(2), wait=False)  # waits for #1 to end, then runs
        one.join(60)
    finally:
        deck.close()
    notes = [event.text for event in seen[2] if event.kind == "note"]
    assert notes[0].startswith("queued #1 (preview.max_parallel_launches: 1 at once)"), notes
    assert rows[0] == ("queued", "#1")
    first_done = max(i for i, e in enumerate(seen[1]) if e.kind == "step")
    assert all(e.kind != "step" for e in seen[2][:1])  # the queue note comes before any of #2's steps
    assert first_done >= 0 and [e.step for e in seen[2] if e.kind == "step" and e.state == "running"][:1] == ["fetch"]
    assert live(stack) == ["prdeck-octo-app-pr-1", "prdeck-octo-app-pr-2"]


def test_the_preview_cap_counts_the_cluster_under_two_concurrent_launches(stack: SandboxStack, tmp_path: Path) -> None:
    env = cli_env(stack, tmp_path, max_previews=1)
    procs = [subprocess.Popen([PRDECK, "launch", str(n), "--wait"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for n in (1, 2)]
    outs = [proc.communicate(timeout=240) for proc in procs]
    codes = [proc.returncode for proc in procs]
    assert sorted(codes) == [0, 1], outs
    won, lost = (0, 1) if codes[0] == 0 else (1, 0)
    refused = outs[lost][1]
    assert "prdeck: The cluster already has 1 live preview (preview.max_previews is 1)" in refused, refused
    assert f"octo/app#{won + 1}" in refused and "nothing was built" in refused
    assert "==> build" not in refused  # refused before any build
    eventually(lambda: live(stack) == [f"prdeck-octo-app-pr-{won + 1}"], timeout=20)
    again = run_prdeck("launch", str(won + 1), "--wait", env=env, timeout=240)  # a relaunch is not a new preview
    assert again.returncode == 0, again.stderr
    slept = run_prdeck("sleep", str(won + 1), env=env)  # asleep: not live, its place is free
    assert slept.returncode == 0, slept.stderr
    third = run_prdeck("launch", "3", "--wait", env=env, timeout=240)
    assert third.returncode == 0, third.stderr
    assert live(stack) == [f"prdeck-octo-app-pr-{won + 1}", "prdeck-octo-app-pr-3"]
    woken = run_prdeck("wake", str(won + 1), env=env)  # waking would make two live previews
    assert woken.returncode == 1 and "waking prdeck-octo-app-pr-" in woken.stderr, (woken.stdout, woken.stderr)
    assert woken.stderr.rstrip().endswith("octo/app#3"), woken.stderr  # what could be slept or reaped


def test_launch_takes_several_prs_and_reports_each(stack: SandboxStack, tmp_path: Path) -> None:
    env = cli_env(stack, tmp_path, max_parallel_launches=1)
    done = run_prdeck("launch", "1", "2", "9", "--wait", "--json", env=env, timeout=240)
    assert done.returncode == 1, done.stderr  # 9 does not exist
    results = {r["number"]: r for r in json.loads(done.stdout)}
    assert results[1]["ok"] and results[2]["ok"] and not results[9]["ok"], (results, done.stderr)
    assert results[1]["namespace"] == "prdeck-octo-app-pr-1" and results[1]["result"].startswith("ready: ")
    assert "[octo/app#2] build done" in done.stderr
    queued = [line for line in done.stderr.splitlines() if "queued #" in line]  # one place: the others waited
    assert queued and all(line.endswith("(preview.max_parallel_launches: 1 at once)") for line in queued), queued
    assert live(stack) == ["prdeck-octo-app-pr-1", "prdeck-octo-app-pr-2"]
