"""prdeck.services.github.service against the sandbox over real HTTP, with the real PyGithub."""

from __future__ import annotations

import socket
import sys
import time
from datetime import UTC, datetime

import pytest

from prdeck.services.errors import AuthError, NotFound, RateLimited, Unavailable
from prdeck.services.github.service import GitHubService
from prdeck.services.models import RepoRef
from tests.conftest import admin, pull, seed_with, stats

APP = RepoRef("octo", "app")


def test_lists_open_pulls_with_every_field(sandbox):
    with GitHubService(sandbox.api_url, sandbox.token) as github:
        pulls = github.open_pulls(RepoRef("acme", "storefront"))
    by_number = {p.number: p for p in pulls}
    assert 90 not in by_number, "closed pull requests are not listed"
    assert len(pulls) == 12
    fork = by_number[103]
    assert (fork.title, fork.author, fork.branch, fork.fork, fork.draft) == (
        "Dark mode for the storefront",
        "aylin",
        "feature/dark-mode",
        True,
        False,
    )
    assert fork.labels == ("feature", "ui")
    assert (fork.ci, fork.review) == ("PENDING", "REVIEW_REQUIRED")
    assert fork.url == f"{sandbox.url}/acme/storefront/pull/103"
    assert len(fork.head_sha) == 40
    assert by_number[104].draft and by_number[104].review is None
    assert by_number[108].ci is None
    assert [p.updated_at for p in pulls] == sorted((p.updated_at for p in pulls), reverse=True)


def test_pages_through_every_pull_100_per_request(make_sandbox):
    box = make_sandbox({"users": [{"login": "maintainer"}], "generate": [{"repo": "octo/app", "pulls": 250}]})
    admin(box, "reset-stats", {})
    with GitHubService(box.api_url, box.token) as github:
        pulls = github.open_pulls(APP)
    assert len(pulls) == 250
    assert len({p.number for p in pulls}) == 250
    assert stats(box)["graphql"] == 3
    assert stats(box)["rest"] == 0


def test_several_repositories_in_the_given_order(sandbox):
    with GitHubService(sandbox.api_url, sandbox.token) as github:
        repos = (RepoRef("acme", "docs"), RepoRef("acme", "storefront"))
        pulls = [pull for repo in repos for pull in github.open_pulls(repo)]
    assert [str(p.repo) for p in pulls][:2] == ["acme/docs", "acme/docs"]
    assert {str(p.repo) for p in pulls[2:]} == {"acme/storefront"}


def test_whoami_reports_login_and_scopes(sandbox):
    with GitHubService(sandbox.api_url, sandbox.token) as github:
        identity = github.whoami()
    assert identity.login == "demo-maintainer"
    assert identity.scopes == ("repo", "read:org", "workflow")


def test_bad_token_is_an_auth_error(sandbox):
    with GitHubService(sandbox.api_url, "ghp_wrong") as github, pytest.raises(AuthError) as caught:
        github.open_pulls(RepoRef("acme", "storefront"))
    assert "401" in caught.value.title
    assert "prdeck login" in caught.value.detail


def test_unknown_repository_is_not_found(sandbox):
    with GitHubService(sandbox.api_url, sandbox.token) as github, pytest.raises(NotFound) as caught:
        github.open_pulls(RepoRef("acme", "nope"))
    assert "acme/nope" in caught.value.detail


def test_private_repository_without_access_is_not_found(make_sandbox):
    seed = seed_with([pull(1)], private=True, collaborators=["maintainer"])
    seed["users"].append({"login": "outsider", "token": "outsider-token"})
    box = make_sandbox(seed)
    with GitHubService(box.api_url, box.token) as github:
        assert len(github.open_pulls(APP)) == 1
    with GitHubService(box.api_url, "outsider-token") as github, pytest.raises(NotFound):
        github.open_pulls(APP)


def test_exhausted_graphql_rate_limit_says_when_it_resets(make_sandbox):
    box = make_sandbox(seed_with([pull(1)]))
    admin(box, "rate-limit", {"login": "maintainer", "resource": "graphql", "remaining": 0, "reset_in": 900})
    with GitHubService(box.api_url, box.token) as github, pytest.raises(RateLimited) as caught:
        github.open_pulls(APP)
    assert caught.value.reset_at is not None
    assert 800 < (caught.value.reset_at - datetime.now(UTC)).total_seconds() <= 900
    assert "resets at" in caught.value.detail


def test_exhausted_rest_rate_limit_fails_fast_instead_of_sleeping(make_sandbox):
    box = make_sandbox(seed_with([pull(1)]))
    admin(box, "rate-limit", {"login": "maintainer", "resource": "core", "remaining": 0, "reset_in": 900})
    started = time.monotonic()
    with GitHubService(box.api_url, box.token) as github, pytest.raises(RateLimited):
        github.whoami()
    assert time.monotonic() - started < 10


def test_server_errors_are_retried_then_reported(make_sandbox):
    box = make_sandbox(seed_with([pull(1)]))
    admin(box, "faults", {"scope": "graphql", "status": 502, "times": 1})
    with GitHubService(box.api_url, box.token, retries=2) as github:
        assert len(github.open_pulls(APP)) == 1, "one 502 is retried away"
    admin(box, "faults", {"scope": "graphql", "status": 500, "times": 10})
    admin(box, "reset-stats", {})
    with GitHubService(box.api_url, box.token, retries=2) as github, pytest.raises(Unavailable) as caught:
        github.open_pulls(APP)
    assert "HTTP 500" in caught.value.title
    assert stats(box)["graphql"] == 3, "the first try and two retries, then one error"


def test_timeout_is_unavailable(make_sandbox):
    box = make_sandbox(seed_with([pull(1)]))
    admin(box, "faults", {"scope": "graphql", "delay": 2.5, "times": 5})
    with GitHubService(box.api_url, box.token, timeout=1, retries=1) as github, pytest.raises(Unavailable) as caught:
        github.open_pulls(APP)
    assert "timed out" in caught.value.title


def test_network_down_is_unavailable_after_backoff():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        GitHubService(f"http://127.0.0.1:{port}/api/v3", "token", retries=2) as github,
        pytest.raises(Unavailable) as caught,
    ):
        github.open_pulls(APP)
    assert f"127.0.0.1:{port}" in caught.value.title
    assert "connection refused" in caught.value.detail


HOSTILE = [
    "fix [/] parser [bold]red[/bold] \x1b[31mred\x1b[0m",
    "x" * 10_000,
    "emoji 🎉👩‍👩‍👧 and RTL עברית مرحبا \u202etxt.exe",
    "control \x07\x08\x00 chars",
]


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_arrive_exactly(make_sandbox, title):
    box = make_sandbox(
        seed_with([pull(1, title=title, branch="fix/[x]".replace("[", "").replace("]", ""), labels=["[bold]", "🎉"])])
    )
    with GitHubService(box.api_url, box.token) as github:
        (found,) = github.open_pulls(APP)
    assert found.title == title
    assert found.labels == ("[bold]", "🎉")


def test_one_service_answers_several_threads_each_its_own_question(make_sandbox):
    """PyGithub sends a request in two calls on one connection object (store, then send): a client shared by
    threads could send one thread's request twice and answer the other with it. Each thread has its own."""
    from concurrent.futures import ThreadPoolExecutor

    box = make_sandbox({"users": [{"login": "maintainer"}], "generate": [{"repo": "octo/app", "pulls": 40}]})
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch between any two bytecodes: a shared client's race shows at once
    try:
        with GitHubService(box.api_url, box.token) as github, ThreadPoolExecutor(8) as pool:
            numbers = [n for _ in range(5) for n in range(1, 41)]
            answers = list(pool.map(lambda n: (n, github.pull_detail(APP, n).number), numbers))
            identities = list(pool.map(lambda _: github.whoami().login, range(16)))
    finally:
        sys.setswitchinterval(interval)
    assert all(asked == got for asked, got in answers)
    assert identities == ["maintainer"] * 16
