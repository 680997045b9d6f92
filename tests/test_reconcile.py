"""`prdeck reconcile` (issue 15 item 7) against both sandboxes: the previews become those of the open PRs that
match the selectors, at their heads; forks only at an approved head; a second run right after does nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from prdeck.services.deck.reconcile import Selectors, plan_reconcile
from prdeck.services.models import Preview, PullRequest, RepoRef
from prdeck.services.sandbox.images import free_port
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import admin, run_prdeck
from tests.kube_support import api, eventually
from tests.launch_support import app_seed

pytestmark = pytest.mark.timeout(300)

APP = RepoRef("octo", "app")
PULLS = [
    {"number": 1, "title": "Wanted", "author": "dev", "branch": "feature/one", "labels": ["preview"],
     "files": {"site/index.html": "<h1>one</h1>\n"}},
    {"number": 2, "title": "A draft", "author": "dev", "branch": "feature/two", "labels": ["preview"], "draft": True,
     "files": {"site/index.html": "<h1>two</h1>\n"}},
    {"number": 3, "title": "No label", "author": "dev", "branch": "feature/three",
     "files": {"site/index.html": "<h1>three</h1>\n"}},
    {"number": 4, "title": "From a fork", "author": "stranger", "branch": "feature/four", "labels": ["preview"],
     "fork": True, "files": {"site/index.html": "<h1>four</h1>\n"}},
]


@pytest.fixture
def stack() -> Iterator[SandboxStack]:
    seed = app_seed(free_port(), pulls=PULLS)
    seed["previews"] = [{"repo": "octo/app", "number": 3, "state": "ready"}]  # a preview nobody wants any more
    with SandboxStack(seed, builds="simulate") as running:
        yield running


def cli_env(stack: SandboxStack, tmp: Path) -> dict[str, str]:
    return {**os.environ, **{k: str(v) for k, v in stack.info()["env"].items()}, "PRDECK_REPOS": "octo/app",
            "XDG_STATE_HOME": str(tmp / "state"), "XDG_CACHE_HOME": str(tmp / "cache")}


def live(stack: SandboxStack) -> list[str]:
    with api(stack.kube) as api_client:
        items = client.CoreV1Api(api_client).list_namespace(label_selector="app.kubernetes.io/managed-by=prdeck").items
    return sorted(ns.metadata.name for ns in items if not ns.metadata.deletion_timestamp)


def reconcile(env: dict[str, str], *extra: str) -> tuple[int, dict]:
    done = run_prdeck("reconcile", "--label", "preview", "--no-drafts", "--json", *extra, env=env, timeout=240)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def actions(plan: dict) -> dict[str, list[int]]:
    return {action: [item["number"] for item in plan[action]] for action in ("launch", "destroy", "skip")}


def test_reconcile_launches_destroys_and_then_does_nothing(stack: SandboxStack, tmp_path: Path) -> None:
    env = cli_env(stack, tmp_path)
    code, plan = reconcile(env, "--dry-run")
    assert code == 0 and plan["dry_run"] and actions(plan) == {"launch": [1], "destroy": [3], "skip": [4]}, plan
    assert plan["destroy"][0]["reason"] == "without the label 'preview'"
    assert plan["skip"][0]["reason"].startswith("fork: its head is not approved")
    assert live(stack) == ["prdeck-octo-app-pr-3"]  # a dry run changes nothing

    code, done = reconcile(env)
    assert code == 0, done
    assert sorted((r["action"], r["number"], r["ok"]) for r in done["results"]) == [
        ("destroy", 3, True), ("launch", 1, True)]
    assert live(stack) == ["prdeck-octo-app-pr-1"]

    code, again = reconcile(env)  # right after: nothing to do
    assert code == 0 and actions(again) == {"launch": [], "destroy": [], "skip": [4]} and again["results"] == []
    assert again["kept"] == 1
    text = run_prdeck("reconcile", "--label", "preview", "--no-drafts", env=env, timeout=120)
    assert text.returncode == 0 and text.stdout.startswith("Nothing to do (1 preview up to date)."), text.stdout

    admin(stack.github, "pulls", {"action": "push", "repo": "octo/app", "number": 1,
                                  "files": {"site/index.html": "<h1>one, again</h1>\n"}})
    code, plan = reconcile(env, "--dry-run")
    assert actions(plan)["launch"] == [1] and plan["launch"][0]["reason"].startswith("stale: runs ")
    code, done = reconcile(env)
    assert code == 0 and [(r["action"], r["number"], r["ok"]) for r in done["results"]] == [("launch", 1, True)]
    assert actions(reconcile(env)[1]) == {"launch": [], "destroy": [], "skip": [4]}

    approved = run_prdeck("launch", "4", "--wait", "--approve-sha",
                          stack.github.state.repo("octo", "app").pulls[4].head_sha, env=env, timeout=240)
    assert approved.returncode == 0, approved.stderr
    code, plan = reconcile(env)  # an approved fork at its head is wanted, and up to date
    assert actions(plan) == {"launch": [], "destroy": [], "skip": []} and plan["kept"] == 2
    eventually(lambda: live(stack) == ["prdeck-octo-app-pr-1", "prdeck-octo-app-pr-4"])


def _pull(number: int, **fields) -> PullRequest:
    from datetime import UTC, datetime

    values = {"repo": APP, "number": number, "title": "t", "author": "a", "branch": "b", "head_sha": "a" * 40,
              "fork": False, "draft": False, "labels": ("preview",), "ci": None, "review": None,
              "updated_at": datetime.now(UTC), "url": "", **fields}
    return PullRequest(**values)


def _preview(number: int, state: str = "ready", sha: str | None = "a" * 40, **fields) -> Preview:
    return Preview(APP, number, f"prdeck-octo-app-pr-{number}", state, None, None, sha, None, **fields)


def test_the_plan_leaves_alone_what_is_under_way_asleep_or_of_another_repository() -> None:
    other = RepoRef("octo", "other")
    pulls = [_pull(1), _pull(2), _pull(3), _pull(5), _pull(6, fork=True, head_sha="b" * 40)]
    previews = [_preview(1, "deploying", None), _preview(2, "asleep"), _preview(3, "failed", None),
                _preview(5, "ready", "c" * 40), _preview(6, approved_sha="a" * 40),
                Preview(other, 9, "prdeck-octo-other-pr-9", "ready", None, None, "a" * 40, None),
                _preview(8, "terminating")]
    plan = plan_reconcile(pulls, previews, [APP], Selectors(("preview",)))
    got = {(item.action, item.number): item.reason for item in plan.items}
    assert set(got) == {("skip", 1), ("skip", 2), ("launch", 3), ("launch", 5), ("skip", 6)}, got
    assert got[("launch", 3)] == "failed, no pods" and got[("launch", 5)].startswith("stale: runs cccccccccccc")
    assert "not approved" in got[("skip", 6)]
    based = plan_reconcile([_pull(1)], [], [APP], Selectors(base="main"), lambda _pull: "develop")
    assert [(i.action, i.reason) for i in based.items] == []  # not wanted, no preview: nothing to do
    based = plan_reconcile([_pull(1)], [_preview(1)], [APP], Selectors(base="main"), lambda _pull: "develop")
    assert [(i.action, i.reason) for i in based.items] == [("destroy", "based on 'develop', not 'main'")]


def test_the_author_association_selects_too() -> None:
    pulls = [_pull(1, association="MEMBER"), _pull(2, association="FIRST_TIME_CONTRIBUTOR"), _pull(3)]
    plan = plan_reconcile(pulls, [_preview(2)], [APP], Selectors(associations=("OWNER", "MEMBER")))
    got = {(item.action, item.number): item.reason for item in plan.items}
    assert got == {("launch", 1): got[("launch", 1)], ("destroy", 2): "by a first time contributor (--association)"}


def test_prs_carry_githubs_author_association(sandbox) -> None:
    from prdeck.services.github.service import GitHubService

    with GitHubService(sandbox.api_url, sandbox.token) as github:
        pulls = {pull.number: pull for pull in github.open_pulls(RepoRef("acme", "storefront"))}
    assert pulls[103].fork and pulls[103].association == "CONTRIBUTOR"
    assert not pulls[101].fork and pulls[101].association in ("MEMBER", "OWNER")
    rest = admin_get(sandbox, "/repos/acme/storefront/pulls/103")
    assert rest["author_association"] == pulls[103].association, "REST and GraphQL agree"


def admin_get(sandbox, path: str):
    import json
    import urllib.request

    request = urllib.request.Request(f"{sandbox.api_url}{path}", headers={"Authorization": f"token {sandbox.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)
