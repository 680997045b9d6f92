"""The GitHub sandbox's REST API as the real PyGithub (and plain HTTP) sees it."""

from __future__ import annotations

import pytest
import requests
from github import Auth, Github, GithubException

from tests.conftest import pull, seed_with


@pytest.fixture
def box(make_sandbox):
    pulls = [
        pull(n, updated_at=f"2026-01-{n:02d}T00:00:00Z", files={f"src/f{n}.py": f"x = {n}\n"}) for n in range(1, 8)
    ]
    pulls.append(pull(8, state="closed"))
    pulls.append(pull(9, fork=True, author="forker"))
    return make_sandbox(seed_with(pulls))


@pytest.fixture
def gh(box):
    client = Github(
        auth=Auth.Token(box.token),
        base_url=box.api_url,
        per_page=3,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    yield client
    client.close()


def test_user_and_repo(gh, box):
    assert gh.get_user().login == "maintainer"
    repo = gh.get_repo("octo/app")
    assert (repo.full_name, repo.default_branch, repo.private) == ("octo/app", "main", False)
    assert repo.clone_url == f"{box.url}/octo/app.git"


def test_pulls_paginate_with_link_headers(gh):
    repo = gh.get_repo("octo/app")
    numbers = [p.number for p in repo.get_pulls(state="open", sort="created", direction="asc")]
    assert numbers == [1, 2, 3, 4, 5, 6, 7, 9]
    assert [p.number for p in repo.get_pulls(state="closed")] == [8]
    assert len(list(repo.get_pulls(state="all"))) == 9


def test_single_pull_and_its_files(gh):
    repo = gh.get_repo("octo/app")
    fork = repo.get_pull(9)
    assert fork.head.repo.full_name == "forker/app" and fork.head.repo.fork
    assert fork.base.repo.full_name == "octo/app"
    (changed,) = list(repo.get_pull(3).get_files())
    assert (changed.filename, changed.status, changed.additions) == ("src/f3.py", "added", 1)
    assert "+x = 3" in changed.patch


def test_commit_statuses_feed_the_combined_status(gh):
    repo = gh.get_repo("octo/app")
    sha = repo.get_pull(2).head.sha
    assert repo.get_commit(sha).get_combined_status().state == "success"
    repo.get_commit(sha).create_status("failure", description="preview failed", context="prdeck/preview")
    combined = repo.get_commit(sha).get_combined_status()
    assert combined.state == "failure"
    assert {s.context for s in combined.statuses} == {"ci/build", "prdeck/preview"}
    with pytest.raises(GithubException) as caught:
        repo.get_commit(sha).create_status("bogus")
    assert caught.value.status == 422


def test_deployments_life_cycle(gh):
    repo = gh.get_repo("octo/app")
    head = repo.get_pull(1).head.sha
    deployment = repo.create_deployment(
        ref=head,
        environment="preview/pr-1",
        transient_environment=True,
        auto_merge=False,
        required_contexts=[],
        description="prdeck preview",
    )
    assert deployment.sha == head and deployment.environment == "preview/pr-1"
    for state in ("queued", "in_progress"):
        deployment.create_status(state)
    deployment.create_status("success", environment_url="http://pr-1.preview.test")
    statuses = list(deployment.get_statuses())
    assert [s.state for s in statuses] == ["success", "in_progress", "queued"]
    assert statuses[0].environment_url == "http://pr-1.preview.test"
    assert [d.id for d in repo.get_deployments(environment="preview/pr-1")] == [deployment.id]
    deployment.create_status("inactive")
    assert repo._requester.requestJsonAndCheck("DELETE", deployment.url) is not None
    assert list(repo.get_deployments(environment="preview/pr-1")) == []


def test_deployment_of_unknown_ref_conflicts(gh):
    with pytest.raises(GithubException) as caught:
        gh.get_repo("octo/app").create_deployment(ref="no-such-branch", required_contexts=[])
    assert caught.value.status == 409


def test_sticky_comment_create_update_list(gh):
    issue = gh.get_repo("octo/app").get_issue(4)
    comment = issue.create_comment("Preview: building…")
    comment.edit("Preview ready: http://pr-4.preview.test")
    (listed,) = list(issue.get_comments())
    assert (listed.id, listed.body) == (comment.id, "Preview ready: http://pr-4.preview.test")


def test_errors_have_githubs_bodies(box):
    wrong = requests.get(f"{box.api_url}/user", headers={"Authorization": "token nope"}, timeout=5)
    assert wrong.status_code == 401
    assert wrong.json()["message"] == "Bad credentials"
    assert wrong.headers["X-RateLimit-Limit"] == "60"
    missing = requests.get(f"{box.api_url}/repos/octo/nope", headers={"Authorization": f"token {box.token}"}, timeout=5)
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found"
    anonymous_write = requests.post(f"{box.api_url}/repos/octo/app/statuses/main", json={"state": "success"}, timeout=5)
    assert anonymous_write.status_code == 401


def test_etag_and_conditional_requests_do_not_cost_rate_limit(box):
    headers = {"Authorization": f"token {box.token}"}
    first = requests.get(f"{box.api_url}/repos/octo/app/pulls", headers=headers, timeout=5)
    remaining = int(first.headers["X-RateLimit-Remaining"])
    assert first.headers["ETag"].startswith('W/"')
    again = requests.get(
        f"{box.api_url}/repos/octo/app/pulls", headers={**headers, "If-None-Match": first.headers["ETag"]}, timeout=5
    )
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["X-RateLimit-Remaining"]) == remaining
    assert gh_rate(box)["resources"]["core"]["remaining"] == remaining


def gh_rate(box):
    return requests.get(f"{box.api_url}/rate_limit", headers={"Authorization": f"token {box.token}"}, timeout=5).json()


def test_rate_limit_headers_on_every_api_answer(box):
    response = requests.post(
        f"{box.url}/api/graphql",
        json={"query": "{ viewer { login } }"},
        headers={"Authorization": f"bearer {box.token}"},
        timeout=5,
    )
    assert response.json() == {"data": {"viewer": {"login": "maintainer"}}}
    assert response.headers["X-RateLimit-Resource"] == "graphql"
    assert int(response.headers["X-RateLimit-Remaining"]) == 4999
    unauthenticated = requests.post(f"{box.url}/api/graphql", json={"query": "{ viewer { login } }"}, timeout=5)
    assert unauthenticated.status_code == 401
