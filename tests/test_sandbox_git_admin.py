"""Git over smart HTTP, the admin API and the HTML pages of the GitHub sandbox."""

from __future__ import annotations

import subprocess

import pytest
import requests

from prdeck.services.github.service import GitHubService
from prdeck.services.models import RepoRef
from tests.conftest import admin, pull, seed_with, stats

APP = RepoRef("octo", "app")


def git(*args: str, cwd=None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def box(make_sandbox):
    return make_sandbox(
        seed_with(
            [pull(1, files={"app.py": "print('pr 1')\n"}), pull(2, fork=True)],
            files={"README.md": "# app\n", "Dockerfile": "FROM scratch\n"},
        )
    )


def test_fetch_pull_head_with_real_git(box, tmp_path):
    repo = tmp_path / "mirror.git"
    git("init", "--bare", "-q", str(repo))
    for number in (1, 2):
        git("fetch", "-q", f"{box.url}/octo/app.git", f"refs/pull/{number}/head:refs/pr/{number}", cwd=repo)
        assert git("rev-parse", f"refs/pr/{number}", cwd=repo) == box.state.repo("octo", "app").pulls[number].head_sha
    assert git("show", "refs/pr/1:app.py", cwd=repo) == "print('pr 1')"
    assert git("show", "refs/pr/1:Dockerfile", cwd=repo) == "FROM scratch", "a PR head sits on the default branch"
    branches = git("ls-remote", "--heads", f"{box.url}/octo/app.git", cwd=repo)
    assert "refs/heads/feature/1" in branches
    assert "refs/heads/feature/2" not in branches, "a fork's branch lives in the fork, not here"
    assert stats(box)["git"] >= 3


def test_push_is_refused(box, tmp_path):
    work = tmp_path / "work"
    git("clone", "-q", f"{box.url}/octo/app.git", str(work))
    result = subprocess.run(
        ["git", "push", "origin", "HEAD:refs/heads/evil"], cwd=work, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0


def test_private_repository_needs_a_token_for_git(make_sandbox, tmp_path):
    box = make_sandbox(seed_with([pull(1)], private=True))
    url = f"{box.url}/octo/app.git"
    env = {"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin"}
    denied = subprocess.run(["git", "ls-remote", url], capture_output=True, text=True, env=env, check=False)
    assert denied.returncode != 0
    authed = url.replace("http://", f"http://x-access-token:{box.token}@")
    allowed = subprocess.run(["git", "ls-remote", authed], capture_output=True, text=True, env=env, check=False)
    assert "refs/pull/1/head" in allowed.stdout


def test_admin_actions_show_up_in_the_list(box):
    with GitHubService(box.api_url, box.token) as github:
        before = {p.number: p for p in github.open_pulls(APP)}
        opened = admin(
            box,
            "pulls",
            {
                "action": "open",
                "repo": "octo/app",
                "title": "Brand new",
                "author": "zoe",
                "branch": "feature/new",
                "ci": "PENDING",
            },
        )
        admin(box, "pulls", {"action": "retitle", "repo": "octo/app", "number": 1, "title": "Renamed"})
        pushed = admin(box, "pulls", {"action": "push", "repo": "octo/app", "number": 2, "files": {"x.txt": "new\n"}})
        admin(box, "pulls", {"action": "ci", "repo": "octo/app", "number": 2, "state": "FAILURE"})
        after = {p.number: p for p in github.open_pulls(APP)}
        assert after[opened["number"]].title == "Brand new" and after[opened["number"]].ci == "PENDING"
        assert after[1].title == "Renamed"
        assert after[2].head_sha == pushed["head_sha"] != before[2].head_sha
        assert after[2].ci == "FAILURE"
        assert after[2].updated_at >= before[2].updated_at
        admin(box, "pulls", {"action": "close", "repo": "octo/app", "number": 1})
        admin(box, "pulls", {"action": "merge", "repo": "octo/app", "number": 2})
        assert {p.number for p in github.open_pulls(APP)} == {opened["number"]}


def test_stats_count_by_kind_and_reset(box):
    admin(box, "reset-stats", {})
    with GitHubService(box.api_url, box.token) as github:
        github.open_pulls(APP)
        github.whoami()
    requests.get(f"{box.url}/octo/app/pull/1", timeout=5)
    assert stats(box) == {"rest": 1, "graphql": 1, "git": 0, "html": 1, "total": 3}
    admin(box, "reset-stats", {})
    assert stats(box)["total"] == 0


def test_admin_rejects_bad_requests(box):
    response = requests.post(f"{box.admin_url}/pulls", json={"action": "explode", "repo": "octo/app"}, timeout=5)
    assert response.status_code == 400 and "action must be one of" in response.json()["error"]
    response = requests.post(
        f"{box.admin_url}/pulls", json={"action": "close", "repo": "octo/app", "number": 99}, timeout=5
    )
    assert response.status_code == 400


def test_pull_page_escapes_hostile_titles(make_sandbox):
    box = make_sandbox(seed_with([pull(1, title="<script>alert(1)</script> [bold]")]))
    page = requests.get(f"{box.url}/octo/app/pull/1", timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; [bold]" in page.text
    assert "<script>" not in page.text
    assert requests.get(f"{box.url}/octo/app/pull/42", timeout=5).status_code == 404
