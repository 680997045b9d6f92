"""A relaunch of the commit that already runs, ready, tells GitHub nothing new (issue 17): no new deployment, no
new statuses; anything that changes what GitHub shows (the URL, a failure) is still reported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from prdeck.services import naming
from prdeck.services.github.report import GitHubReporter
from prdeck.services.launch.record import ClusterRecord
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import free_port, sandbox_builder
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import admin, stats
from tests.launch_support import Rig, app_seed, make_rig

pytestmark = pytest.mark.timeout(180)

REPO = RepoRef("octo", "app")


@pytest.fixture
def stack() -> Iterator[SandboxStack]:
    with SandboxStack(app_seed(free_port()), builds="simulate") as running:
        yield running


def rig_for(stack: SandboxStack, tmp: Path, **values: object) -> Rig:
    return make_rig(stack, tmp, sandbox_builder(simulate=True), **values)


def deployments(stack: SandboxStack) -> list[tuple[int, list[str]]]:
    repo = stack.github.state.repo("octo", "app")
    found = sorted((d for d in repo.deployments.values() if d.environment == "preview/pr-1"), key=lambda d: d.id)
    return [(d.id, [status["state"] for status in d.statuses]) for d in found]


def commit_states(stack: SandboxStack) -> list[str]:
    repo = stack.github.state.repo("octo", "app")
    return [s.state for s in repo.statuses.get(repo.pulls[1].head_sha, []) if s.context == "prdeck/preview"][::-1]


def test_a_relaunch_of_the_running_commit_sends_github_no_write(stack: SandboxStack, tmp_path: Path) -> None:
    rig = rig_for(stack, tmp_path)
    first = rig.launch(1)
    shown = deployments(stack), commit_states(stack)
    assert shown == ([(shown[0][0][0], ["queued", "in_progress", "in_progress", "success"])], ["pending", "success"])

    for _ in range(2):  # the second relaunch finds the first one's record as complete as the launch's
        admin(stack.github, "reset-stats")
        again = rig.launch(1)
        assert not again.built and not again.stale and again.sha == first.sha
        assert (deployments(stack), commit_states(stack)) == shown, "GitHub already showed exactly this"
        sent = stats(stack.github)
        assert sent["rest"] == 0 and sent["graphql"] == 2, sent  # the head, before and after; nothing written
        record = ClusterRecord(rig.cluster).read(first.namespace)
        assert record is not None and not record.unreported and record.phase == "ready"
        assert record.annotations[naming.ANNOTATION_DEPLOYMENT] == str(shown[0][0][0])
        assert record.annotations[naming.ANNOTATION_SHOWN] == f"{record.launch_id} {shown[0][0][0]}"


def test_a_launch_whose_reports_github_refused_is_reported_again_by_its_relaunch(
    stack: SandboxStack, tmp_path: Path
) -> None:
    """The namespace said "reported" before GitHub answered: a relaunch standing on that would leave the commit
    status pending for good. Only what GitHub took is stood on."""
    rig = rig_for(stack, tmp_path)
    rig.launcher.plan(REPO, 1, check_approval=False)  # the mirror knows where to fetch from: no REST read left
    admin(stack.github, "faults", {"scope": "rest", "status": 422, "times": 1000})
    first = rig.launch(1)
    assert any("GitHub was not told" in warning for warning in first.warnings)
    assert deployments(stack) == [] and commit_states(stack) == []
    admin(stack.github, "faults", method="DELETE")
    rig.launch(1)
    assert [states for _, states in deployments(stack)] == [["queued", "in_progress", "success"]]
    assert commit_states(stack) == ["pending", "success"]


def test_a_relaunch_not_waited_for_reports_on_a_deployment_of_its_own(stack: SandboxStack, tmp_path: Path) -> None:
    """Its end is reported by whoever sees it; that must not land on the deployment it would have stood on."""
    rig = rig_for(stack, tmp_path)
    rig.launch(1)
    rig.launch(1, wait=False)
    found = deployments(stack)
    assert len(found) == 2 and found[0][1][-1] == "success" and found[1][1][:1] == ["queued"]


def test_a_relaunch_that_changes_the_url_reports_a_new_deployment(stack: SandboxStack, tmp_path: Path) -> None:
    rig_for(stack, tmp_path).launch(1)
    rig_for(stack, tmp_path, **{"cluster.domain": "preview.test"}).launch(1)
    found = deployments(stack)
    reported = ["queued", "in_progress", "in_progress", "success"]
    assert [states for _, states in found] == [[*reported, "inactive"], reported]  # auto_inactive, as on GitHub
    repo = stack.github.state.repo("octo", "app")
    newest = max((d for d in repo.deployments.values() if d.environment == "preview/pr-1"), key=lambda d: d.id)
    assert newest.statuses[-1]["environment_url"].endswith(".preview.test/")
    assert commit_states(stack) == ["pending", "success", "pending", "success"]


def test_a_relaunch_that_fails_gets_a_deployment_of_its_own(stack: SandboxStack, tmp_path: Path) -> None:
    """The adopted deployment still runs what it said (the pods were kept): the failure is a new deployment."""
    rig = rig_for(stack, tmp_path)
    result = rig.launch(1)
    ((deployment_id, reported),) = deployments(stack)
    reporter = GitHubReporter(rig.github, REPO, 1, result.sha, warn=pytest.fail)
    admin(stack.github, "reset-stats")
    reporter.adopt(deployment_id)
    reporter.progress("Deploying")
    assert stats(stack.github)["total"] == 0 and reporter.deployment_id == deployment_id
    reporter.failed("apply", "the cluster refused it")
    ((kept, states), (new, failed)) = deployments(stack)
    assert (kept, states) == (deployment_id, reported) and new != deployment_id
    assert failed == ["queued", "failure"] and commit_states(stack)[-1] == "failure"
