"""A launch that is not waited for, interrupted, or destroyed while it runs (issue 13, items 1-3): GitHub, the
cluster and what the command printed must agree afterwards. Each case asserts all three sides."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from prdeck.services import naming
from prdeck.services.launch.journal import LaunchJournal
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import SimulatedBuilder, free_port
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import PRDECK, run_prdeck
from tests.kube_support import api, eventually, kube_admin
from tests.launch_support import app_seed, stack_deck

pytestmark = pytest.mark.timeout(240)

NAMESPACE = "prdeck-octo-app-pr-1"
SLOW_DOCKERFILE = "FROM scratch\nCOPY site /www\n" + "".join(f"RUN step-{n}\n" for n in range(60))
"""The simulated builder takes 0.15 s a step: about 9 s of build to interrupt."""


@pytest.fixture
def stack() -> Iterator[SandboxStack]:
    with SandboxStack(app_seed(free_port(), files={"Dockerfile": SLOW_DOCKERFILE}), builds="simulate") as running:
        yield running


def cli_env(stack: SandboxStack, tmp: Path) -> dict[str, str]:
    return {**os.environ, **{k: str(v) for k, v in stack.info()["env"].items()}, "PRDECK_REPOS": "octo/app",
            "XDG_STATE_HOME": str(tmp / "state"), "XDG_CACHE_HOME": str(tmp / "cache")}


def deployment_states(stack: SandboxStack) -> list[list[str]]:
    """The status states of every deployment of preview/pr-1, oldest deployment first."""
    repo = stack.github.state.repo("octo", "app")
    found = sorted((d for d in repo.deployments.values() if d.environment == "preview/pr-1"), key=lambda d: d.id)
    return [[status["state"] for status in deployment.statuses] for deployment in found]


def commit_states(stack: SandboxStack) -> list[str]:
    """The states of the head's prdeck/preview statuses, oldest first (GitHub keeps them newest first)."""
    repo = stack.github.state.repo("octo", "app")
    found = [s.state for s in repo.statuses.get(repo.pulls[1].head_sha, []) if s.context == "prdeck/preview"]
    return found[::-1]


def namespace(stack: SandboxStack) -> Any:
    with api(stack.kube) as api_client:
        try:
            return client.CoreV1Api(api_client).read_namespace(NAMESPACE)
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise


def policies(stack: SandboxStack) -> list[str]:
    with api(stack.kube) as api_client:
        items = client.NetworkingV1Api(api_client).list_namespaced_network_policy(NAMESPACE).items
    return [item.metadata.name for item in items]


def test_a_launch_not_waited_for_is_reported_once_by_the_next_prdeck_that_sees_it(
    stack: SandboxStack, tmp_path: Path
) -> None:
    """Item 1: without --wait the deployment stayed in_progress and the commit status pending forever."""
    env = cli_env(stack, tmp_path)
    done = run_prdeck("launch", "1", env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "next prdeck that sees it ready" in done.stdout
    assert deployment_states(stack)[-1][-1] == "in_progress" and commit_states(stack)[-1] == "pending"

    def reported() -> bool:
        listed = run_prdeck("ls", "--json", env=env, timeout=60)
        assert listed.returncode == 0, listed.stderr
        return deployment_states(stack)[-1][-1] == "success"

    eventually(reported, timeout=30, every=0.5)
    assert commit_states(stack)[-1] == "success"
    assert namespace(stack).metadata.annotations[naming.ANNOTATION_PHASE] == "ready"
    for command in (["ls"], ["status", "1"]):  # whoever comes later finds nothing left to report
        assert run_prdeck(*command, env=env, timeout=60).returncode == 0
    assert deployment_states(stack)[-1].count("success") == 1 and commit_states(stack).count("success") == 1


def _launch_until(stack: SandboxStack, tmp: Path, marker: str, *extra: str) -> subprocess.Popen[str]:
    process = subprocess.Popen([PRDECK, "launch", "1", "--wait", *extra], env=cli_env(stack, tmp),
                               stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith(marker):
            return process
    process.wait(30)
    pytest.fail(f"the launch ended before {marker!r}: exit {process.returncode}")


@pytest.mark.parametrize(("step", "how", "code"), [
    ("build", signal.SIGINT, 130), ("build", signal.SIGTERM, 143), ("rollout", signal.SIGINT, 130),
    ("rollout", signal.SIGTERM, 143), ("build", "pipe", 1),
])
def test_an_interrupted_launch_is_recorded_everywhere_and_the_next_one_succeeds(
    stack: SandboxStack, tmp_path: Path, step: str, how: Any, code: int
) -> None:
    """Item 2: Ctrl+C, SIGTERM and a closed pipe left no record, GitHub in_progress, exit status 0."""
    sha = stack.github.state.repo("octo", "app").pulls[1].head_sha
    image = f"{stack.registry_address}/octo-app-web:pr-1-{sha[:12]}"
    if step == "rollout":
        kube_admin(stack.kube, "images", {"image": image, "never_ready": True})
    process = _launch_until(stack, tmp_path, f"==> {step}")
    assert process.stderr is not None
    if how == "pipe":
        process.stderr.close()
    else:
        process.send_signal(how)
    assert process.wait(15) == code
    assert deployment_states(stack)[-1][-1] == "error" and commit_states(stack)[-1] == "error"
    ns = namespace(stack)
    assert ns.metadata.annotations[naming.ANNOTATION_PHASE] == "interrupted"
    assert "prdeck-default-deny" in policies(stack), "never a namespace without its network policy"
    (record,) = LaunchJournal(tmp_path / "state" / "prdeck" / "launches").interrupted()
    assert record.step == step and record.namespace == NAMESPACE, "the row reads interrupted until the next launch"

    kube_admin(stack.kube, "images", {"image": image, "never_ready": False})
    again = run_prdeck("launch", "1", "--wait", env=cli_env(stack, tmp_path), timeout=120)
    assert again.returncode == 0, again.stderr
    assert deployment_states(stack)[-1][-1] == "success" and commit_states(stack)[-1] == "success"


def test_a_destroy_during_the_build_stops_the_launch_here_and_nothing_comes_back(
    stack: SandboxStack, tmp_path: Path
) -> None:
    """Item 3: destroy said "destroyed" and the launch then recreated everything."""
    deck = stack_deck(stack, tmp_path, lambda: SimulatedBuilder(pace=0.15))
    building = threading.Event()
    outcome: dict[str, BaseException] = {}

    def on_event(event: Any) -> None:
        if event.kind == "step" and event.step == "build" and event.state == "running":
            building.set()

    def launch() -> None:
        try:
            deck.launch(RepoRef("octo", "app"), 1, on_event, wait=True)
        except BaseException as exc:  # the launch's end, checked below
            outcome["error"] = exc

    thread = threading.Thread(target=launch)
    thread.start()
    assert building.wait(60)
    preview = deck.find_preview(RepoRef("octo", "app"), 1)  # no pods yet: found by its namespace's record
    assert preview.state == "building"
    lines = list(deck.destroy(preview))
    thread.join(30)
    assert not thread.is_alive()
    assert any("stopping the launch" in line for line in lines), lines
    assert type(outcome.get("error")).__name__ == "LaunchDestroyed"
    assert namespace(stack) is None, "the launch did not bring the namespace back"
    assert deployment_states(stack)[-1][-1] in ("error", "inactive")
    assert all(p.namespace != NAMESPACE for p in deck.list_previews()), "no 'interrupted' row for a destroyed one"


def test_a_destroy_from_another_prdeck_stops_a_launch_at_its_next_step(stack: SandboxStack, tmp_path: Path) -> None:
    """Item 3 across processes: the launch finds its namespace destroyed and does not recreate it."""
    process = _launch_until(stack, tmp_path, "==> build")
    destroyed = run_prdeck("destroy", "1", "--yes", env=cli_env(stack, tmp_path / "other"), timeout=120)
    assert destroyed.returncode == 0, destroyed.stderr
    assert "asked the running launch" in destroyed.stdout + destroyed.stderr
    assert process.stderr is not None
    rest = process.stderr.read()
    assert process.wait(60) == 1
    assert "destroyed during the launch" in rest or "cancelled by a destroy" in rest, rest
    assert namespace(stack) is None


def test_a_failed_rollout_prints_its_events_and_log_tail_and_json_gets_a_result(
    stack: SandboxStack, tmp_path: Path
) -> None:
    """Item 10: a rollout failure on the CLI was one line (the events and log tail only in the TUI), and --json
    printed nothing on failure."""
    sha = stack.github.state.repo("octo", "app").pulls[1].head_sha
    kube_admin(stack.kube, "images", {"image": f"{stack.registry_address}/octo-app-web:pr-1-{sha[:12]}",
                                      "crash": True})
    done = run_prdeck("launch", "1", "--wait", "--json", "--timeout", "20", env=cli_env(stack, tmp_path), timeout=120)
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["ok"] is False and result["step"] == "rollout" and result["output"], result
    assert "rollout output (last" in done.stderr and done.stderr.count("\n      ") >= 2, done.stderr
    assert deployment_states(stack)[-1][-1] == "failure" and commit_states(stack)[-1] == "failure"


def test_without_a_domain_no_fake_url_is_published(stack: SandboxStack, tmp_path: Path) -> None:
    """Item 8: every preview's "URL" was http://localhost:8080/ — in the annotation, GitHub, the output."""
    done = run_prdeck("launch", "1", "--wait", env=cli_env(stack, tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert "no public URL without cluster.domain; `prdeck open 1` relays it here" in done.stdout
    assert "localhost" not in done.stdout
    repo = stack.github.state.repo("octo", "app")
    (deployment,) = [d for d in repo.deployments.values() if d.environment == "preview/pr-1"]
    assert not deployment.statuses[-1].get("environment_url") and "prdeck open 1" in deployment.statuses[-1][
        "description"]
    status = next(s for s in repo.statuses[repo.pulls[1].head_sha] if s.context == "prdeck/preview")
    assert status.state == "success" and not getattr(status, "target_url", None)
    assert naming.ANNOTATION_URL not in namespace(stack).metadata.annotations
