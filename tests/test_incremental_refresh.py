"""An incremental refresh (prdeck.services.github.changes) gives exactly the rows of a full reload.

Each case loads everything, changes GitHub through the sandbox's admin API, refreshes incrementally and
compares with a full reload made afterwards, over real HTTP with the real PyGithub.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from prdeck.services.errors import Unavailable
from prdeck.services.github.changes import CHANGES_PAGE, PullTracker
from prdeck.services.github.service import GitHubService
from prdeck.services.models import PullRequest, RepoRef
from prdeck.services.sandbox.github.sandbox import GitHubSandbox
from tests.conftest import admin, pull, seed_with, stats

APP, API = RepoRef("octo", "app"), RepoRef("octo", "api")


def _seed() -> dict[str, Any]:
    def repo(name: str, pulls: list[dict[str, Any]]) -> dict[str, Any]:
        return {"name": name, "default_branch": "main", "files": {"README.md": "# x\n"}, "pulls": pulls}

    app = [pull(n, ci=["SUCCESS", "PENDING", "FAILURE", None][n % 4], labels=["ui"] if n % 2 else [],
                updated_ago=f"{n}h") for n in range(1, 13)]
    api = [pull(n, updated_ago=f"{n}h") for n in range(1, 5)]
    return {"users": [{"login": "maintainer"}], "repos": [repo("octo/app", app), repo("octo/api", api)]}


@pytest.fixture(scope="module")
def box() -> Iterator[GitHubSandbox]:
    with GitHubSandbox(_seed()) as running:
        yield running


def _full(github: GitHubService, repos: tuple[RepoRef, ...]) -> list[PullRequest]:
    return [p for repo in repos for p in github.open_pulls(repo)]


def _change(box: GitHubSandbox, action: str, repo: RepoRef = APP, **body: Any) -> dict[str, Any]:
    result: dict[str, Any] = admin(box, "pulls", {"action": action, "repo": str(repo), **body})
    return result


CASES: dict[str, Callable[[GitHubSandbox], Callable[[PullRequest | None], bool]]] = {
    "new PR": lambda b: (lambda n: lambda p: p is not None and p.title == "Brand new")(
        _change(b, "open", title="Brand new")["number"]),
    "closed PR": lambda b: (_change(b, "close", number=3), lambda p: p is None)[1],
    "merged PR": lambda b: (_change(b, "merge", number=5), lambda p: p is None)[1],
    "retitled PR": lambda b: (_change(b, "retitle", number=6, title="Renamed"),
                              lambda p: p is not None and p.title == "Renamed")[1],
    "pushed commit": lambda b: (lambda sha: lambda p: p is not None and p.head_sha == sha and p.ci is None)(
        _change(b, "push", number=8)["head_sha"]),
    "CI finished": lambda b: (_change(b, "ci", number=2, state="SUCCESS"),
                              lambda p: p is not None and p.ci == "SUCCESS")[1],
    "CI re-run failed": lambda b: (_change(b, "ci", number=4, state="FAILURE"),
                                   lambda p: p is not None and p.ci == "FAILURE")[1],
    "review change": lambda b: (_change(b, "review", number=9, review="CHANGES_REQUESTED"),
                                lambda p: p is not None and p.review == "CHANGES_REQUESTED")[1],
    "label change": lambda b: (_change(b, "labels", number=10, labels=["ui", "urgent"]),
                               lambda p: p is not None and p.labels == ("ui", "urgent"))[1],
    "draft toggled": lambda b: (_change(b, "draft", number=11, draft=True),
                                lambda p: p is not None and p.draft)[1],
}
NUMBERS = {"closed PR": 3, "merged PR": 5, "retitled PR": 6, "pushed commit": 8, "CI finished": 2,
           "CI re-run failed": 4, "review change": 9, "label change": 10, "draft toggled": 11}


@pytest.mark.parametrize("case", list(CASES))
def test_a_refresh_after_one_change_equals_a_full_reload(box, case):
    repos = (APP, API)
    with GitHubService(box.api_url, box.token) as github:
        tracker = PullTracker(github, repos)
        for _ in tracker.full_pages():
            pass
        before = tracker.pulls()
        check = CASES[case](box)
        sent = stats(box)["graphql"]
        after = tracker.refresh()
        assert stats(box)["graphql"] - sent == 1, "one request for both repositories and the CI rollups"
        assert tracker.last_cost == 1
        assert after == _full(github, repos)
        assert after != before
        number = NUMBERS.get(case, max(p.number for p in after if p.repo == APP))
        assert check(next((p for p in after if p.repo == APP and p.number == number), None))


def test_a_reopened_pr_comes_back(box):
    repos = (APP, API)
    with GitHubService(box.api_url, box.token) as github:
        tracker = PullTracker(github, repos)
        for _ in tracker.full_pages():
            pass
        _change(box, "close", API, number=2)
        assert 2 not in [p.number for p in tracker.refresh() if p.repo == API]
        _change(box, "reopen", API, number=2)
        after = tracker.refresh()
        assert 2 in [p.number for p in after if p.repo == API]
        assert after == _full(github, repos)


def test_more_changes_than_a_page_are_read_page_by_page(make_sandbox):
    box = make_sandbox({"users": [{"login": "maintainer"}], "generate": [{"repo": "octo/app", "pulls": 60}]})
    with GitHubService(box.api_url, box.token) as github:
        tracker = PullTracker(github, (APP,))
        for _ in tracker.full_pages():
            pass
        for number in range(30, 30 + CHANGES_PAGE * 2 + 3):
            _change(box, "retitle", number=number, title=f"Renamed {number}")
        after = tracker.refresh()
        assert tracker.last_requests == 3
        assert after == _full(github, (APP,))


def test_finished_ci_of_many_pulls_is_swept_within_a_few_refreshes(make_sandbox):
    """Above 100 open pull requests, running CI is checked on every refresh, the rest in a rotating sweep."""
    box = make_sandbox({"users": [{"login": "maintainer"}], "generate": [{"repo": "octo/app", "pulls": 250}]})
    with GitHubService(box.api_url, box.token) as github:
        tracker = PullTracker(github, (APP,))
        for _ in tracker.full_pages():
            pass
        pending = next(p for p in tracker.pulls() if p.ci == "PENDING")
        done = next(p for p in tracker.pulls() if p.ci == "SUCCESS")
        _change(box, "ci", number=pending.number, state="FAILURE")
        _change(box, "ci", number=done.number, context="ci/rerun", state="PENDING")
        after = tracker.refresh()
        assert next(p for p in after if p.number == pending.number).ci == "FAILURE", "running CI: next refresh"
        refreshes = 1
        while after != _full(github, (APP,)):
            after = tracker.refresh()
            refreshes += 1
            assert refreshes <= 6, "the sweep reaches every head within a few refreshes"
        assert next(p for p in after if p.number == done.number).ci == "PENDING"


def test_more_than_100_running_heads_are_all_checked_in_extra_requests(make_sandbox):
    box = make_sandbox({"users": [{"login": "maintainer"}], "generate": [{"repo": "octo/app", "pulls": 600}]})
    with GitHubService(box.api_url, box.token) as github:
        tracker = PullTracker(github, (APP,))
        for _ in tracker.full_pages():
            pass
        running = [p for p in tracker.pulls() if p.ci == "PENDING"]
        assert len(running) > 100
        for pending in (running[0], running[-1]):
            _change(box, "ci", number=pending.number, state="SUCCESS")
        after = tracker.refresh()
        assert tracker.last_requests == 2, "100 running heads ride along with the changes, the rest in one more request"
        assert after == _full(github, (APP,))


def test_pull_requests_closed_before_the_load_are_not_read_again(make_sandbox):
    """The marks come from GitHub's clock at the load: a repository whose open pull requests are old, or that
    has none, does not re-read its recently closed ones on every refresh."""
    closed = [pull(n, state="closed", updated_ago=f"{n}m") for n in range(1, 31)]
    box = make_sandbox(seed_with([*closed, pull(40, updated_ago="30d")]))
    with GitHubService(box.api_url, box.token) as github:
        tracker = PullTracker(github, (APP,))
        for _ in tracker.full_pages():
            pass
        tracker.refresh()
        assert tracker.last_requests == 1
        _change(box, "reopen", number=3)
        assert [p.number for p in tracker.refresh()] == [3, 40]
        assert tracker.last_requests == 1


def test_a_refresh_failing_between_pages_reads_them_again_next_time(make_sandbox):
    """The mark moves only once a repository's pages are all read (no overlap here to hide a lost page)."""
    box = make_sandbox({"users": [{"login": "maintainer"}], "generate": [{"repo": "octo/app", "pulls": 60}]})
    with GitHubService(box.api_url, box.token, retries=0) as github:
        tracker = PullTracker(github, (APP,), overlap=timedelta(0))
        for _ in tracker.full_pages():
            pass
        for number in range(30, 30 + CHANGES_PAGE + 5):
            _change(box, "retitle", number=number, title=f"Renamed {number}")
        time.sleep(1.1)  # updatedAt has whole seconds: the last change is newer than the others
        _change(box, "retitle", number=2, title="Renamed last")
        admin(box, "faults", {"scope": "graphql", "status": 502, "times": 1, "after": 1})
        with pytest.raises(Unavailable):
            tracker.refresh()
        assert tracker.refresh() == _full(github, (APP,))
