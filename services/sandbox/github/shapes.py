"""GitHub REST representations of sandbox objects, shaped like api.github.com's answers."""

from __future__ import annotations

import zlib
from typing import Any

from prdeck.services.sandbox.github.state import Comment, Deployment, Pull, Repo, Status, User, author_association, iso

_PLAIN_REPO_LINKS = (
    "forks",
    "teams",
    "hooks",
    "events",
    "tags",
    "languages",
    "stargazers",
    "contributors",
    "subscribers",
    "subscription",
    "merges",
    "downloads",
    "deployments",
)
_TEMPLATED_REPO_LINKS = {
    "issue_events": "issues/events{/number}",
    "assignees": "assignees{/user}",
    "branches": "branches{/branch}",
    "blobs": "git/blobs{/sha}",
    "git_tags": "git/tags{/sha}",
    "git_refs": "git/refs{/sha}",
    "trees": "git/trees{/sha}",
    "statuses": "statuses/{sha}",
    "commits": "commits{/sha}",
    "git_commits": "git/commits{/sha}",
    "comments": "comments{/number}",
    "issue_comment": "issues/comments{/number}",
    "contents": "contents/{+path}",
    "compare": "compare/{base}...{head}",
    "archive": "{archive_format}{/ref}",
    "issues": "issues{/number}",
    "pulls": "pulls{/number}",
    "milestones": "milestones{/number}",
    "notifications": "notifications{?since,all,participating}",
    "labels": "labels{/name}",
    "releases": "releases{/id}",
    "keys": "keys{/key_id}",
    "collaborators": "collaborators{/collaborator}",
}


class Shapes:
    """Builds JSON objects whose URLs point back at one sandbox (``api_url`` for REST, ``web_url`` for HTML)."""

    def __init__(self, api_url: str, web_url: str) -> None:
        self.api = api_url.rstrip("/")
        self.web = web_url.rstrip("/")

    def user(self, user: User, *, full: bool = False) -> dict[str, Any]:
        url = f"{self.api}/users/{user.login}"
        data: dict[str, Any] = {
            "login": user.login,
            "id": user.id,
            "node_id": f"U_{user.id}",
            "avatar_url": f"{self.web}/{user.login}.png",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{self.web}/{user.login}",
            "type": user.type,
            "site_admin": False,
            "user_view_type": "public",
            **{
                f"{name}_url": f"{url}/{name}"
                for name in ("followers", "organizations", "repos", "subscriptions", "received_events")
            },
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "events_url": f"{url}/events{{/privacy}}",
        }
        if full:
            data.update(
                {
                    "user_view_type": "private",
                    "name": user.name,
                    "company": None,
                    "blog": "",
                    "location": None,
                    "email": None,
                    "hireable": None,
                    "twitter_username": None,
                    "bio": None,
                    "public_repos": 0,
                    "public_gists": 0,
                    "private_gists": 0,
                    "followers": 0,
                    "following": 0,
                    "total_private_repos": 0,
                    "owned_private_repos": 0,
                    "disk_usage": 0,
                    "collaborators": 0,
                    "two_factor_authentication": False,
                    "plan": {"name": "free", "space": 976562499, "private_repos": 10000, "collaborators": 0},
                    "created_at": "2020-01-01T00:00:00Z",
                    "updated_at": "2020-01-01T00:00:00Z",
                }
            )
        return data

    def repo(self, repo: Repo, owner: User, *, fork_of: Repo | None = None) -> dict[str, Any]:
        base = f"{self.api}/repos/{repo.full_name}"
        open_count = sum(1 for pull in repo.pulls.values() if pull.state == "open")
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
            **{f"{name}_url": f"{base}/{name}" for name in _PLAIN_REPO_LINKS},
            **{f"{name}_url": f"{base}/{path}" for name, path in _TEMPLATED_REPO_LINKS.items()},
            "git_url": f"git://{self.web.split('://', 1)[-1]}/{repo.full_name}.git",
            "ssh_url": f"git@{self.web.split('://', 1)[-1].split(':')[0]}:{repo.full_name}.git",
            "clone_url": f"{self.web}/{repo.full_name}.git",
            "svn_url": f"{self.web}/{repo.full_name}",
            "mirror_url": None,
            "homepage": None,
            "language": "Python",
            "license": None,
            "size": 1,
            "default_branch": repo.default_branch,
            "visibility": "private" if repo.private else "public",
            "archived": False,
            "disabled": False,
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers": 0,
            "watchers_count": 0,
            "network_count": 0,
            "subscribers_count": 0,
            "open_issues": open_count,
            "open_issues_count": open_count,
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
            "patch_url": f"{self.web}/{repo.full_name}/pull/{pull.number}.patch",
            "issue_url": f"{base}/issues/{pull.number}",
            "commits_url": f"{base}/pulls/{pull.number}/commits",
            "review_comments_url": f"{base}/pulls/{pull.number}/comments",
            "review_comment_url": f"{base}/pulls/comments{{/number}}",
            "comments_url": f"{base}/issues/{pull.number}/comments",
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
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "milestone": None,
            "auto_merge": None,
            "active_lock_reason": None,
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
            "author_association": author_association(repo.owner, pull),
        }
        data["_links"] = {
            name: {"href": href}
            for name, href in (
                ("self", data["url"]),
                ("html", data["html_url"]),
                ("issue", data["issue_url"]),
                ("comments", data["comments_url"]),
                ("review_comments", data["review_comments_url"]),
                ("review_comment", data["review_comment_url"]),
                ("commits", data["commits_url"]),
                ("statuses", data["statuses_url"]),
            )
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
                    "merged_by": None,
                    "maintainer_can_modify": False,
                    "mergeable_state": "unknown" if pull.merged else "clean",
                    "rebaseable": True,
                    "review_comments": 0,
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
            "labels_url": f"{base}/issues/{pull.number}/labels{{/name}}",
            "events_url": f"{base}/issues/{pull.number}/events",
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments_url": f"{base}/issues/{pull.number}/comments",
            "comments": sum(1 for c in repo.comments.values() if c.issue_number == pull.number),
            "pull_request": {key: data[key] for key in ("url", "html_url", "diff_url", "patch_url", "merged_at")},
        }

    def commit(self, repo: Repo, sha: str, info: dict[str, str], author: User | None) -> dict[str, Any]:
        base = f"{self.api}/repos/{repo.full_name}"
        account = self.user(author) if author else {}
        person = {"name": info["name"], "email": info["email"], "date": info["date"]}
        return {
            "sha": sha,
            "node_id": f"C_{repo.id}_{sha}",
            "url": f"{base}/commits/{sha}",
            "html_url": f"{self.web}/{repo.full_name}/commit/{sha}",
            "commit": {
                "message": info["message"],
                "author": person,
                "committer": person,
                "tree": {"sha": info["tree"], "url": f"{base}/git/trees/{info['tree']}"},
                "url": f"{base}/git/commits/{sha}",
                "comment_count": 0,
            },
            "comments_url": f"{base}/commits/{sha}/comments",
            "parents": [{"sha": parent, "url": f"{base}/commits/{parent}"} for parent in info["parents"].split()],
            "author": account,
            "committer": account,
        }

    def label(self, repo: Repo, name: str) -> dict[str, Any]:
        label_id = zlib.crc32(f"{repo.full_name}/{name}".encode())
        return {
            "id": label_id,
            "node_id": f"LA_{label_id}",
            "name": name,
            "color": "ededed",
            "url": f"{self.api}/repos/{repo.full_name}/labels/{name}",
            "default": False,
            "description": "",
        }

    def status(self, repo: Repo, status: Status, creator: User) -> dict[str, Any]:
        return {
            "url": f"{self.api}/repos/{repo.full_name}/statuses/{status.id}",
            "id": status.id,
            "node_id": f"SC_{status.id}",
            "avatar_url": f"{self.web}/{status.creator}.png",
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
