"""Every way a launch can fail says which step failed and why, tells GitHub, and leaves nothing unlabelled."""

from __future__ import annotations

import os
import signal
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prdeck.services.deck import open_deck
from prdeck.services.launch.journal import LaunchBusy, LaunchJournal
from prdeck.services.launch.results import ApprovalNeeded, LaunchFailed
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import LoopbackRegistry, SimulatedBuilder, free_port, sandbox_builder
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import PRDECK, admin
from tests.kube_support import eventually, kube_admin
from tests.launch_support import Rig, app_seed, make_rig, require_docker, stack_config, stack_deck

pytestmark = pytest.mark.timeout(180)


def simulated(tmp: Path, seed: dict[str, Any], **settings: Any) -> Iterator[Rig]:
    with SandboxStack(seed, builds="simulate") as stack:
        yield make_rig(stack, tmp, lambda: SimulatedBuilder(pace=0), **settings)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    yield from simulated(tmp_path, app_seed(free_port()))


def failed_step(rig: Rig, **options: Any) -> LaunchFailed:
    with pytest.raises(LaunchFailed) as failure:
        rig.launch(1, **options)
    return failure.value


def test_a_repository_without_a_spec_fails_at_fetch(tmp_path: Path) -> None:
    seed = app_seed(free_port())
    del seed["repos"][0]["files"][".prdeck/compose.yml"]
    for rig in simulated(tmp_path, seed):
        failure = failed_step(rig)
        assert failure.step == "fetch" and "no preview spec" in failure.title


def test_a_missing_dockerfile_fails_the_build_and_github_hears_of_it(tmp_path: Path) -> None:
    seed = app_seed(free_port(), files={".prdeck/compose.yml": "services:\n  web:\n    build:\n      context: .\n"
                                        "      dockerfile: Dockerfile.preview\nx-prdeck:\n  ingress: {service: web, "
                                        "port: 80}\n"})
    for rig in simulated(tmp_path, seed):
        failure = failed_step(rig)
        assert failure.step == "build" and "No Dockerfile.preview" in failure.title
        repo = rig.stack.github.state.repo("octo", "app")
        sha = repo.pulls[1].head_sha
        assert repo.statuses[sha][0].state == "failure" and "build failed" in repo.statuses[sha][0].description
        (deployment,) = repo.deployments.values()
        assert deployment.statuses[-1]["state"] == "failure"


def test_pull_failure_crash_loop_and_timeout_report_reason_events_and_logs(rig: Rig) -> None:
    sha = rig.stack.github.state.repo("octo", "app").pulls[1].head_sha
    image = f"{rig.stack.registry_address}/octo-app-web:pr-1-{sha[:12]}"
    kube_admin(rig.stack.kube, "images", {"image": image, "missing": True})
    pulled = failed_step(rig)
    assert (pulled.step == "rollout" and "ErrImagePull" in pulled.title) or "ImagePullBackOff" in pulled.title
    assert any("Failed" in line or "pull" in line.lower() for line in pulled.output), pulled.output

    kube_admin(rig.stack.kube, "images", {"image": image, "crash": True})
    crashed = failed_step(rig)
    assert crashed.step == "rollout" and ("CrashLoopBackOff" in crashed.title or "restarting" in crashed.title)
    assert any(line.startswith("--- log of") for line in crashed.output), crashed.output

    kube_admin(rig.stack.kube, "images", {"image": image, "never_ready": True})
    rig.launcher.settings = type(rig.launcher.settings)(**{**rig.launcher.settings.__dict__, "rollout_timeout": 1.5})
    timed_out = failed_step(rig)
    assert timed_out.step == "rollout" and "timed out after 2 s" in timed_out.title
    assert timed_out.title.endswith("still waiting for container web"), "issue 14: name what is still starting"


def test_github_failing_to_take_the_report_never_breaks_the_preview(tmp_path: Path) -> None:
    with SandboxStack(app_seed(free_port()), builds="simulate") as stack:
        rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0), retries=0)

        def break_github(event: Any) -> None:
            rig.events.append(event)
            if event.kind == "step" and event.step == "build" and event.state == "running":
                admin(stack.github, "faults", {"scope": "rest", "status": 502, "times": 50})

        result = rig.launcher.launch(RepoRef("octo", "app"), 1, break_github)
        assert all(step.state in ("done", "skipped") for step in result.steps)
        told = [w for w in result.warnings if w.startswith("GitHub was not told")]
        # the rest are the API server's own warnings for the applied objects (Pod Security "restricted")
        assert told and all("PodSecurity" in w for w in result.warnings if w not in told)


def test_two_launches_of_one_pr_one_proceeds_the_other_says_so(rig: Rig) -> None:
    journal = rig.launcher.journal
    busy = pytest.raises(LaunchBusy, match="already running")
    with journal.hold(RepoRef("octo", "app"), 1, "prdeck-octo-app-pr-1", "x"), busy:
        rig.launch(1)
    assert rig.launch(1).steps[-1].state == "done"


def test_a_new_commit_during_the_launch_marks_the_preview_stale(rig: Rig, tmp_path: Path) -> None:
    def push_during_rollout(event: Any) -> None:
        if event.kind == "step" and event.step == "rollout" and event.state == "running":
            admin(rig.stack.github, "pulls", {"action": "push", "repo": "octo/app", "number": 1,
                                              "files": {"site/index.html": "<h1>newer</h1>\n"}})

    result = rig.launcher.launch(RepoRef("octo", "app"), 1, push_during_rollout)
    assert result.stale and any("stale" in warning for warning in result.warnings)
    deck = stack_deck(rig.stack, tmp_path, None)
    row = next(row for row in deck.snapshot().with_previews(deck.list_previews()).rows if row.pull.number == 1)
    assert row.preview is not None and row.preview.state == "stale"


def test_a_fork_needs_an_approval_for_its_exact_head_and_uses_the_base_spec(tmp_path: Path) -> None:
    evil = "services:\n  web:\n    image: evil\nx-prdeck:\n  ingress: {service: web, port: 1}\n"
    seed = app_seed(free_port(), pulls=[{"number": 1, "title": "Fork", "author": "stranger", "branch": "fork/x",
                                         "fork": True, "files": {".prdeck/compose.yml": evil}}])
    for rig in simulated(tmp_path, seed):
        check = rig.launcher.check(RepoRef("octo", "app"), 1)
        assert check.fork and ".prdeck/compose.yml" in check.build_files
        with pytest.raises(LaunchFailed) as unapproved:
            rig.launch(1)
        assert isinstance(unapproved.value.cause, ApprovalNeeded) and check.head_sha in unapproved.value.detail
        with pytest.raises(LaunchFailed, match="is not the head of octo/app#1"):
            rig.launch(1, approved_sha="0" * 40)
        result = rig.launch(1, approved_sha=check.head_sha)
        assert result.images and "evil" not in " ".join(result.images), "the fork's own compose file is ignored"


def test_a_killed_launch_shows_interrupted_and_a_relaunch_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SandboxStack(app_seed(free_port()), builds="simulate") as stack:
        env = {**os.environ, **{k: str(v) for k, v in stack.info()["env"].items()},
               "PRDECK_REPOS": "octo/app", "XDG_STATE_HOME": str(tmp_path / "state")}
        image_host = stack.registry_address
        sha = stack.github.state.repo("octo", "app").pulls[1].head_sha
        kube_admin(stack.kube, "images", {"image": f"{image_host}/octo-app-web:pr-1-{sha[:12]}", "never_ready": True})
        process = subprocess.Popen([PRDECK, "launch", "1", "--wait"], env=env, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("==> rollout"):
                break
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        journal = LaunchJournal(tmp_path / "state" / "prdeck" / "launches")
        (record,) = journal.interrupted()
        assert record.step == "rollout" and record.number == 1

        rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0))
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the killed command's journal
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        deck = open_deck(stack_config(stack), [RepoRef("octo", "app")], token=stack.github.token,
                         builder=lambda: SimulatedBuilder(pace=0))
        preview = next(p for p in deck.list_previews() if p.number == 1)
        assert preview.state == "interrupted" and "rollout" in (preview.reason or "")
        kube_admin(stack.kube, "images", {"image": f"{image_host}/octo-app-web:pr-1-{sha[:12]}", "never_ready": False})
        deck.launch(RepoRef("octo", "app"), 1, lambda event: None)
        assert journal.interrupted() == []
        eventually(lambda: next(p for p in deck.list_previews() if p.number == 1).state == "ready")
        namespace = rig.cluster.core.read_namespace("prdeck-octo-app-pr-1")
        for kind in ("list_namespaced_pod", "list_namespaced_service", "list_namespaced_config_map"):
            for item in getattr(rig.cluster.core, kind)("prdeck-octo-app-pr-1").items:
                assert item.metadata.labels.get("app.kubernetes.io/managed-by") == "prdeck", item.metadata.name
        assert namespace.metadata.labels["app.kubernetes.io/managed-by"] == "prdeck"


# Docker and registry failures -------------------------------------------------------------------------------
@pytest.fixture
def docker_rig(tmp_path: Path) -> Iterator[Rig]:
    require_docker()
    with SandboxStack(app_seed(free_port()), builds="docker") as stack:
        yield make_rig(stack, tmp_path, sandbox_builder(simulate=False))


def test_a_failing_build_shows_the_output_tail(docker_rig: Rig) -> None:
    admin(docker_rig.stack.github, "pulls", {"action": "push", "repo": "octo/app", "number": 1, "files": {
        "Dockerfile": "FROM prdeck.localhost/busybox:stable\nRUN echo about to fail && false\n"}})
    failure = failed_step(docker_rig)
    assert failure.step == "build" and "failed" in failure.title
    assert any("about to fail" in line for line in failure.output), failure.output


def test_an_unreachable_registry_is_named(docker_rig: Rig) -> None:
    closed = f"127.0.0.1:{free_port()}"
    docker_rig.launcher.settings = type(docker_rig.launcher.settings)(
        **{**docker_rig.launcher.settings.__dict__, "registry": closed})
    failure = failed_step(docker_rig)
    assert failure.step == "build" and f"registry {closed} is not reachable" in failure.title


def test_a_registry_refusing_the_credentials_says_how_to_log_in(docker_rig: Rig, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(f"ci:{crypt.crypt('right', crypt.mksalt(crypt.METHOD_BLOWFISH))}\n")
    registry = LoopbackRegistry(tmp_path / "locked", htpasswd).start()
    try:
        docker_rig.launcher.settings = type(docker_rig.launcher.settings)(**{
            **docker_rig.launcher.settings.__dict__, "registry": registry.address,
            "registry_auth": {"username": "ci", "password": "wrong"}})
        docker_rig.launcher._builder = None
        from prdeck.services.launch.builder import Builder, docker_client

        docker_rig.launcher._builder_factory = lambda: Builder(docker_client(), {"username": "ci", "password": "wrong"})
        failure = failed_step(docker_rig)
        assert "refused the credentials" in failure.title and "docker login" in failure.detail
    finally:
        registry.stop()


def test_a_sticky_comment_is_edited_in_place_and_destroy_marks_deployments_inactive(tmp_path: Path) -> None:
    with SandboxStack(app_seed(free_port()), builds="simulate") as stack:
        rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0), **{"preview.sticky_comment": True})
        first = rig.launch(1)
        admin(stack.github, "pulls", {"action": "push", "repo": "octo/app", "number": 1,
                                      "files": {"site/index.html": "<h1>second</h1>\n"}})
        second = rig.launch(1)
        repo = stack.github.state.repo("octo", "app")
        (comment,) = [c for c in repo.comments.values() if c.issue_number == 1]
        assert comment.body.startswith("<!-- prdeck:preview -->") and second.sha[:12] in comment.body
        assert first.sha[:12] not in comment.body

        deck = stack_deck(stack, tmp_path, lambda: SimulatedBuilder(pace=0))
        preview = next(p for p in deck.list_previews() if p.number == 1)
        lines = list(deck.destroy(preview))
        assert any("marked inactive" in line for line in lines), lines
        latest = [d.statuses[-1]["state"] for d in repo.deployments.values()]
        assert latest == ["inactive", "inactive"], latest


def test_a_service_that_ends_cleanly_and_is_restarted_gets_a_hint_to_run_it_once(rig: Rig) -> None:
    """Compose runs a service without restart: once; a pod restarts it forever. The rollout failure says why."""
    sha = rig.stack.github.state.repo("octo", "app").pulls[1].head_sha
    image = f"{rig.stack.registry_address}/octo-app-web:pr-1-{sha[:12]}"
    kube_admin(rig.stack.kube, "images", {"image": image, "crash": True, "exit_code": 0})
    failure = failed_step(rig)
    assert failure.step == "rollout"
    hints = [line for line in failure.output if line.startswith("hint: web ended with status 0")]
    assert hints and 'restart: "no"' in hints[0], failure.output
