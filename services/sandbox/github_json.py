"""GitHub REST representations of sandbox objects, shaped like api.github.com's answers."""

from __future__ import annotations

import zlib
from typing import Any

from services.sandbox.github_state import Comment, Deployment, Pull, Repo, Status, User, iso


class Shapes:
    """Builds JSON objects whose URLs point back at one sandbox (``api_url`` for REST, ``web_url`` for HTML)."""

    def __init__(self, api_url: str, web_url: str) -> None:
        self.api = api_url.rstrip("/")
        self.web = web_url.rstrip("/")

    def user(self, user: User, *, full: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "login": user.login,
            "id": user.id,
            "node_id": f"U_{user.id}",
            "avatar_url": f"{self.web}/{user.login}.png",
            "url": f"{self.api}/users/{user.login}",
            "html_url": f"{self.web}/{user.login}",
            "type": user.type,
            "site_admin": False,
        }
        if full:
            data.update(
                {
                    "name": user.name,
                    "company": None,
                    "blog": "",
                    "location": None,
                    "email": None,
                    "bio": None,
                    "public_repos": 0,
                    "followers": 0,
                    "following": 0,
                    "created_at": "2020-01-01T00:00:00Z",
                    "updated_at": "2020-01-01T00:00:00Z",
                }
            )
        return data

    def repo(self, repo: Repo, owner: User, *, fork_of: Repo | None = None) -> dict[str, Any]:
        base = f"{self.api}/repos/{repo.full_name}"
        data: dict[str, Any] = {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(owner),
            "html_url": f"{self.web}/{repo.full_name}",
            "description": repo.description or None,
            "fork": fork_of is not None,
            "url": base,
            "pulls_url": f"{base}/pulls{{/number}}",
            "statuses_url": f"{base}/statuses/{{sha}}",
            "deployments_url": f"{base}/deployments",
            "clone_url": f"{self.web}/{repo.full_name}.git",
            "default_branch": repo.default_branch,
            "visibility": "private" if repo.private else "public",
            "archived": False,
            "disabled": False,
            "open_issues_count": sum(1 for pull in repo.pulls.values() if pull.state == "open"),
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
            "pushed_at": "2020-01-01T00:00:00Z",
        }
        return data

    def pull(self, repo: Repo, pull: Pull, users: dict[str, User], *, full: bool = False) -> dict[str, Any]:
        base = f"{self.api}/repos/{repo.full_name}"
        author = users[pull.author]
        owner = users[repo.owner]
        head_owner = author if pull.fork else owner
        head_repo = Repo(head_owner.login, repo.name, repo.id + 500_000, repo.default_branch) if pull.fork else repo
        data: dict[str, Any] = {
            "url": f"{base}/pulls/{pull.number}",
            "id": pull.id,
            "node_id": f"PR_{pull.id}",
            "html_url": f"{self.web}/{repo.full_name}/pull/{pull.number}",
            "diff_url": f"{self.web}/{repo.full_name}/pull/{pull.number}.diff",
            "issue_url": f"{base}/issues/{pull.number}",
            "commits_url": f"{base}/pulls/{pull.number}/commits",
            "statuses_url": f"{base}/statuses/{pull.head_sha}",
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self.user(author),
            "body": pull.body or None,
            "labels": [self.label(repo, name) for name in pull.labels],
            "created_at": iso(pull.created_at),
            "updated_at": iso(pull.updated_at),
            "closed_at": iso(pull.closed_at),
            "merged_at": iso(pull.merged_at),
            "draft": pull.draft,
            "head": {
                "label": f"{head_owner.login}:{pull.branch}",
                "ref": pull.branch,
                "sha": pull.head_sha,
                "user": self.user(head_owner),
                "repo": self.repo(head_repo, head_owner, fork_of=repo if pull.fork else None),
            },
            "base": {
                "label": f"{owner.login}:{pull.base_branch}",
                "ref": pull.base_branch,
                "sha": pull.base_sha,
                "user": self.user(owner),
                "repo": self.repo(repo, owner),
            },
            "author_association": "OWNER" if pull.author == repo.owner else "CONTRIBUTOR",
        }
        if full:
            data.update(
                {
                    "merged": pull.merged,
                    "mergeable": None if pull.merged else True,
                    "comments": sum(1 for c in repo.comments.values() if c.issue_number == pull.number),
                    "commits": 1,
                    "additions": 0,
                    "deletions": 0,
                    "changed_files": 0,
                }
            )
        return data

    def issue(self, repo: Repo, pull: Pull, users: dict[str, User]) -> dict[str, Any]:
        data = self.pull(repo, pull, users)
        base = f"{self.api}/repos/{repo.full_name}"
        return {
            key: data[key]
            for key in (
                "id",
                "node_id",
                "html_url",
                "number",
                "state",
                "locked",
                "title",
                "user",
                "body",
                "labels",
                "created_at",
                "updated_at",
                "closed_at",
                "author_association",
            )
        } | {
            "url": f"{base}/issues/{pull.number}",
            "repository_url": base,
            "comments_url": f"{base}/issues/{pull.number}/comments",
            "comments": sum(1 for c in repo.comments.values() if c.issue_number == pull.number),
            "pull_request": {"url": data["url"], "html_url": data["html_url"], "diff_url": data["diff_url"]},
        }

    def commit(self, repo: Repo, sha: str, info: dict[str, str]) -> dict[str, Any]:
        base = f"{self.api}/repos/{repo.full_name}"
        person = {"name": info["name"], "email": info["email"], "date": info["date"]}
        return {
            "sha": sha,
            "node_id": f"C_{sha}",
            "url": f"{base}/commits/{sha}",
            "html_url": f"{self.web}/{repo.full_name}/commit/{sha}",
            "commit": {
                "message": info["message"],
                "author": person,
                "committer": person,
                "tree": {"sha": info["tree"], "url": f"{base}/git/trees/{info['tree']}"},
                "url": f"{base}/git/commits/{sha}",
            },
            "parents": [{"sha": parent, "url": f"{base}/commits/{parent}"} for parent in info["parents"].split()],
            "author": None,
            "committer": None,
        }

    def label(self, repo: Repo, name: str) -> dict[str, Any]:
        return {
            "id": zlib.crc32(f"{repo.full_name}/{name}".encode()),
            "name": name,
            "color": "ededed",
            "url": f"{self.api}/repos/{repo.full_name}/labels/{name}",
            "default": False,
            "description": None,
        }

    def status(self, repo: Repo, status: Status, creator: User) -> dict[str, Any]:
        return {
            "url": f"{self.api}/repos/{repo.full_name}/statuses/{status.id}",
            "id": status.id,
            "node_id": f"SC_{status.id}",
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": iso(status.created_at),
            "updated_at": iso(status.updated_at),
            "creator": self.user(creator),
        }

    def deployment(self, repo: Repo, deployment: Deployment, creator: User) -> dict[str, Any]:
        url = f"{self.api}/repos/{repo.full_name}/deployments/{deployment.id}"
        return {
            "url": url,
            "id": deployment.id,
            "node_id": f"DE_{deployment.id}",
            "sha": deployment.sha,
            "ref": deployment.ref,
            "task": deployment.task,
            "payload": deployment.payload,
            "original_environment": deployment.environment,
            "environment": deployment.environment,
            "description": deployment.description,
            "creator": self.user(creator),
            "created_at": iso(deployment.created_at),
            "updated_at": iso(deployment.updated_at),
            "statuses_url": f"{url}/statuses",
            "repository_url": f"{self.api}/repos/{repo.full_name}",
            "transient_environment": deployment.transient_environment,
            "production_environment": deployment.production_environment,
        }

    def comment(self, repo: Repo, comment: Comment, author: User) -> dict[str, Any]:
        return {
            "id": comment.id,
            "node_id": f"IC_{comment.id}",
            "url": f"{self.api}/repos/{repo.full_name}/issues/comments/{comment.id}",
            "html_url": f"{self.web}/{repo.full_name}/pull/{comment.issue_number}#issuecomment-{comment.id}",
            "issue_url": f"{self.api}/repos/{repo.full_name}/issues/{comment.issue_number}",
            "body": comment.body,
            "user": self.user(author),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "author_association": "OWNER" if comment.author == repo.owner else "CONTRIBUTOR",
        }
