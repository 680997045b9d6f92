"""REST endpoints of the GitHub sandbox (under ``/api/v3``, the GitHub Enterprise Server layout)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from prdeck.services.sandbox.github.http_util import USER, Traffic, error_body
from prdeck.services.sandbox.github.shapes import Shapes
from prdeck.services.sandbox.github.state import Comment, Deployment, GitHubState, Pull, Repo, User, iso, now

PREFIX = "/api/v3"
STATUS_STATES = {"error", "failure", "pending", "success"}
DEPLOYMENT_STATES = {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}


def not_found() -> web.HTTPException:
    return web.HTTPNotFound(text=json.dumps(error_body("Not Found", status=404)), content_type="application/json")


def invalid(message: str, field: str = "", code: str = "invalid") -> web.HTTPException:
    body = error_body(message, status=422)
    if field:
        body["errors"] = [{"resource": "Resource", "field": field, "code": code}]  # type: ignore[assignment]
    return web.HTTPUnprocessableEntity(text=json.dumps(body), content_type="application/json")


def requires_auth() -> web.HTTPException:
    return web.HTTPUnauthorized(
        text=json.dumps(error_body("Requires authentication", status=401)), content_type="application/json"
    )


class RestApi:
    """Route handlers bound to one sandbox's state."""

    def __init__(self, state: GitHubState, shapes: Shapes, traffic: Traffic) -> None:
        self.state = state
        self.shapes = shapes
        self.traffic = traffic

    def routes(self) -> list[web.RouteDef]:
        p = PREFIX
        return [
            web.get(f"{p}/user", self.get_user),
            web.get(f"{p}/rate_limit", self.rate_limit),
            web.get(f"{p}/repos/{{owner}}/{{repo}}", self.get_repo),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/pulls", self.list_pulls),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/pulls/{{number:\\d+}}", self.get_pull),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/pulls/{{number:\\d+}}/files", self.pull_files),
            web.post(f"{p}/repos/{{owner}}/{{repo}}/statuses/{{sha}}", self.create_status),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/commits/{{ref:.+}}/status", self.combined_status),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/commits/{{ref:[^/]+}}", self.get_commit),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/commits/{{ref:.+}}/statuses", self.list_statuses),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/deployments", self.list_deployments),
            web.post(f"{p}/repos/{{owner}}/{{repo}}/deployments", self.create_deployment),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/deployments/{{id:\\d+}}", self.get_deployment),
            web.delete(f"{p}/repos/{{owner}}/{{repo}}/deployments/{{id:\\d+}}", self.delete_deployment),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/deployments/{{id:\\d+}}/statuses", self.list_deployment_statuses),
            web.post(f"{p}/repos/{{owner}}/{{repo}}/deployments/{{id:\\d+}}/statuses", self.create_deployment_status),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/issues/{{number:\\d+}}", self.get_issue),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/issues/{{number:\\d+}}/comments", self.list_comments),
            web.post(f"{p}/repos/{{owner}}/{{repo}}/issues/{{number:\\d+}}/comments", self.create_comment),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/issues/comments/{{id:\\d+}}", self.get_comment),
            web.patch(f"{p}/repos/{{owner}}/{{repo}}/issues/comments/{{id:\\d+}}", self.update_comment),
        ]

    # helpers ---------------------------------------------------------------------------------------
    def _user(self, request: web.Request) -> User | None:
        return request.get(USER)

    def _repo(self, request: web.Request, *, write: bool = False) -> Repo:
        repo = self.state.repo(request.match_info["owner"], request.match_info["repo"])
        user = self._user(request)
        if repo is None or not repo.visible_to(user.login if user else None):
            raise not_found()
        if write:
            if user is None:
                raise requires_auth()
            if user.login != repo.owner and user.login not in repo.collaborators:
                raise web.HTTPForbidden(
                    text=json.dumps(error_body("Must have push access to repository", status=403)),
                    content_type="application/json",
                )
        return repo

    def _pull(self, repo: Repo, request: web.Request) -> Pull:
        pull = repo.pulls.get(int(request.match_info["number"]))
        if pull is None:
            raise not_found()
        return pull

    def _paginate(self, request: web.Request, items: list[Any]) -> web.Response:
        try:
            per_page = min(max(int(request.query.get("per_page", "30")), 1), 100)
            page = max(int(request.query.get("page", "1")), 1)
        except ValueError as exc:
            raise invalid("Invalid pagination parameter") from exc
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        base = f"{self.shapes.api}{request.path.removeprefix(PREFIX)}"

        def link(number: int, rel: str) -> str:
            query = {**request.query, "per_page": str(per_page), "page": str(number)}
            return f'<{base}?{urlencode(query)}>; rel="{rel}"'

        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        response = web.json_response(chunk)
        if links:
            response.headers["Link"] = ", ".join(links)
        return response

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise web.HTTPBadRequest(
                text=json.dumps(error_body("Problems parsing JSON", status=400)), content_type="application/json"
            ) from exc
        if not isinstance(body, dict):
            raise invalid("Invalid request. The body must be a JSON object.")
        return body

    def _creator(self, login: str) -> User:
        return self.state.users.get(login) or self.state.add_user(login)

    # endpoints -------------------------------------------------------------------------------------
    async def get_user(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            raise requires_auth()
        return web.json_response(self.shapes.user(user, full=True))

    async def rate_limit(self, request: web.Request) -> web.Response:
        user = self._user(request)
        who = user.login if user else ""
        resources = {}
        for name in ("core", "graphql", "search"):
            bucket = self.traffic.bucket(who, name)
            resources[name] = {
                "limit": bucket.limit,
                "remaining": bucket.remaining,
                "reset": bucket.reset,
                "used": bucket.used,
                "resource": name,
            }
        return web.json_response({"resources": resources, "rate": resources["core"]})

    async def get_repo(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        return web.json_response(self.shapes.repo(repo, self._creator(repo.owner)))

    async def list_pulls(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        state = request.query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise invalid(f"Invalid value for state: {state!r}", "state")
        pulls = [pull for pull in repo.pulls.values() if state == "all" or pull.state == state]
        if "head" in request.query:
            pulls = [
                pull
                for pull in pulls
                if f"{pull.author if pull.fork else repo.owner}:{pull.branch}" == request.query["head"]
            ]
        if "base" in request.query:
            pulls = [pull for pull in pulls if pull.base_branch == request.query["base"]]
        sort = request.query.get("sort", "created")
        keys = {
            "created": lambda p: (p.created_at, p.number),
            "updated": lambda p: (p.updated_at, p.number),
            "popularity": lambda p: p.number,
            "long-running": lambda p: p.created_at,
        }
        if sort not in keys:
            raise invalid(f"Invalid value for sort: {sort!r}", "sort")
        descending = request.query.get("direction", "desc" if sort == "created" else "asc") == "desc"
        pulls.sort(key=keys[sort], reverse=descending)
        users = self.state.users
        return self._paginate(request, [self.shapes.pull(repo, pull, users) for pull in pulls])

    async def get_pull(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        pull = self._pull(repo, request)
        return web.json_response(self.shapes.pull(repo, pull, self.state.users, full=True))

    async def pull_files(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        pull = self._pull(repo, request)
        files = self.state.git.diff(repo.full_name, pull.base_sha, pull.head_sha)
        for item in files:
            item["blob_url"] = f"{self.shapes.web}/{repo.full_name}/blob/{pull.head_sha}/{item['filename']}"
            item["raw_url"] = f"{self.shapes.web}/{repo.full_name}/raw/{pull.head_sha}/{item['filename']}"
            item["contents_url"] = f"{self.shapes.api}/repos/{repo.full_name}/contents/{item['filename']}"
        return self._paginate(request, files)

    async def create_status(self, request: web.Request) -> web.Response:
        repo = self._repo(request, write=True)
        body = await self._json(request)
        state = body.get("state")
        if state not in STATUS_STATES:
            raise invalid("Validation Failed", "state", "custom")
        sha = self.state.resolve_ref(repo, request.match_info["sha"])
        if sha is None:
            raise invalid(f"No commit found for SHA: {request.match_info['sha']}", "sha")
        user = self._user(request)
        assert user is not None
        status = self.state.add_status(
            repo,
            sha,
            state,
            str(body.get("context") or "default"),
            user.login,
            body.get("description"),
            body.get("target_url"),
        )
        return web.json_response(self.shapes.status(repo, status, user), status=201)

    def _ref_sha(self, repo: Repo, request: web.Request) -> str:
        sha = self.state.resolve_ref(repo, request.match_info["ref"])
        if sha is None:
            raise web.HTTPUnprocessableEntity(
                text=json.dumps(error_body(f"No commit found for SHA: {request.match_info['ref']}", status=422)),
                content_type="application/json",
            )
        return sha

    async def get_commit(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        sha = self._ref_sha(repo, request)
        info = self.state.commit_info(repo, sha)
        return web.json_response(self.shapes.commit(repo, sha, info, self.state.users.get(info["name"])))

    async def combined_status(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        sha = self._ref_sha(repo, request)
        latest: dict[str, Any] = {}
        for status in repo.statuses.get(sha, []):
            latest.setdefault(status.context, status)
        rollup = (repo.rollup(sha) or "PENDING").lower()
        combined = "failure" if rollup == "error" else rollup
        statuses = [self.shapes.status(repo, s, self._creator(s.creator)) for s in latest.values()]
        return web.json_response(
            {
                "state": combined,
                "statuses": statuses,
                "sha": sha,
                "total_count": len(statuses),
                "repository": self.shapes.repo(repo, self._creator(repo.owner)),
                "commit_url": f"{self.shapes.api}/repos/{repo.full_name}/commits/{sha}",
                "url": f"{self.shapes.api}/repos/{repo.full_name}/commits/{sha}/status",
            }
        )

    async def list_statuses(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        sha = self._ref_sha(repo, request)
        items = [self.shapes.status(repo, s, self._creator(s.creator)) for s in repo.statuses.get(sha, [])]
        return self._paginate(request, items)

    async def list_deployments(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        found = sorted(repo.deployments.values(), key=lambda d: d.id, reverse=True)
        for name in ("sha", "ref", "task", "environment"):
            if name in request.query:
                found = [d for d in found if getattr(d, name) == request.query[name]]
        items = [self.shapes.deployment(repo, d, self._creator(d.creator)) for d in found]
        return self._paginate(request, items)

    async def create_deployment(self, request: web.Request) -> web.Response:
        repo = self._repo(request, write=True)
        body = await self._json(request)
        ref = body.get("ref")
        if not isinstance(ref, str) or not ref:
            raise invalid('Invalid request.\n\n"ref" wasn\'t supplied.', "ref", "missing_field")
        sha = self.state.resolve_ref(repo, ref)
        if sha is None:
            raise web.HTTPConflict(
                text=json.dumps(error_body(f"No ref found for: {ref}", status=409)), content_type="application/json"
            )
        required = body.get("required_contexts")
        if required is None:
            failing = [s.context for s in repo.statuses.get(sha, []) if s.state != "success"]
            if failing:
                raise web.HTTPConflict(
                    text=json.dumps(error_body("Conflict: Commit status checks failed for " + ref, status=409)),
                    content_type="application/json",
                )
        user = self._user(request)
        assert user is not None
        environment = str(body.get("environment") or "production")
        moment = now()
        deployment = Deployment(
            id=self.state.next_id(),
            sha=sha,
            ref=ref,
            task=str(body.get("task") or "deploy"),
            environment=environment,
            description=body.get("description"),
            payload=body.get("payload") or {},
            transient_environment=bool(body.get("transient_environment", False)),
            production_environment=bool(body.get("production_environment", environment == "production")),
            creator=user.login,
            created_at=moment,
            updated_at=moment,
        )
        repo.deployments[deployment.id] = deployment
        return web.json_response(self.shapes.deployment(repo, deployment, user), status=201)

    def _deployment(self, repo: Repo, request: web.Request) -> Deployment:
        deployment = repo.deployments.get(int(request.match_info["id"]))
        if deployment is None:
            raise not_found()
        return deployment

    async def get_deployment(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        deployment = self._deployment(repo, request)
        return web.json_response(self.shapes.deployment(repo, deployment, self._creator(deployment.creator)))

    async def delete_deployment(self, request: web.Request) -> web.Response:
        repo = self._repo(request, write=True)
        deployment = self._deployment(repo, request)
        current = deployment.statuses[-1]["state"] if deployment.statuses else None
        same_env = [d for d in repo.deployments.values() if d.environment == deployment.environment]
        if current not in ("inactive", "error", "failure", None) and len(same_env) > 1:
            raise invalid(
                "We cannot delete an active deployment unless it is the only deployment in a given environment."
            )
        del repo.deployments[deployment.id]
        return web.Response(status=204)

    async def list_deployment_statuses(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        deployment = self._deployment(repo, request)
        return self._paginate(request, list(reversed(deployment.statuses)))

    async def create_deployment_status(self, request: web.Request) -> web.Response:
        repo = self._repo(request, write=True)
        deployment = self._deployment(repo, request)
        body = await self._json(request)
        state = body.get("state")
        if state not in DEPLOYMENT_STATES:
            raise invalid("Validation Failed", "state", "invalid")
        user = self._user(request)
        assert user is not None
        status_id = self.state.next_id()
        url = f"{self.shapes.api}/repos/{repo.full_name}/deployments/{deployment.id}"
        status = {
            "url": f"{url}/statuses/{status_id}",
            "id": status_id,
            "node_id": f"DES_{status_id}",
            "state": state,
            "creator": self.shapes.user(user),
            "description": body.get("description", ""),
            "environment": str(body.get("environment") or deployment.environment),
            "target_url": body.get("target_url") or body.get("log_url") or "",
            "log_url": body.get("log_url") or body.get("target_url") or "",
            "environment_url": body.get("environment_url") or "",
            "created_at": iso(now()),
            "updated_at": iso(now()),
            "deployment_url": url,
            "repository_url": f"{self.shapes.api}/repos/{repo.full_name}",
        }
        deployment.statuses.append(status)
        deployment.updated_at = now()
        if state == "success" and body.get("auto_inactive", True):
            for other in repo.deployments.values():
                if (
                    other.id != deployment.id
                    and other.environment == deployment.environment
                    and other.statuses
                    and other.statuses[-1]["state"] == "success"
                ):
                    other.statuses.append({**other.statuses[-1], "id": self.state.next_id(), "state": "inactive"})
        return web.json_response(status, status=201)

    async def get_issue(self, request: web.Request) -> web.Response:
        """Every pull request is an issue too; the sandbox has no plain issues."""
        repo = self._repo(request)
        pull = self._pull(repo, request)
        return web.json_response(self.shapes.issue(repo, pull, self.state.users))

    async def list_comments(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        self._pull(repo, request)
        number = int(request.match_info["number"])
        found = sorted((c for c in repo.comments.values() if c.issue_number == number), key=lambda c: c.id)
        return self._paginate(request, [self.shapes.comment(repo, c, self._creator(c.author)) for c in found])

    async def create_comment(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        if self._user(request) is None:
            raise requires_auth()
        pull = self._pull(repo, request)
        body = await self._json(request)
        if not isinstance(body.get("body"), str) or not body["body"]:
            raise invalid("Validation Failed", "body", "missing_field")
        user = self._user(request)
        assert user is not None
        moment = now()
        comment = Comment(self.state.next_id(), pull.number, body["body"], user.login, moment, moment)
        repo.comments[comment.id] = comment
        return web.json_response(self.shapes.comment(repo, comment, user), status=201)

    def _comment(self, repo: Repo, request: web.Request) -> Comment:
        comment = repo.comments.get(int(request.match_info["id"]))
        if comment is None:
            raise not_found()
        return comment

    async def get_comment(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        comment = self._comment(repo, request)
        return web.json_response(self.shapes.comment(repo, comment, self._creator(comment.author)))

    async def update_comment(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        user = self._user(request)
        if user is None:
            raise requires_auth()
        comment = self._comment(repo, request)
        if comment.author != user.login and user.login not in repo.collaborators and user.login != repo.owner:
            raise web.HTTPForbidden(
                text=json.dumps(error_body("Must have admin rights to Repository.", status=403)),
                content_type="application/json",
            )
        body = await self._json(request)
        if not isinstance(body.get("body"), str) or not body["body"]:
            raise invalid("Validation Failed", "body", "missing_field")
        comment.body = body["body"]
        comment.updated_at = now()
        return web.json_response(self.shapes.comment(repo, comment, self._creator(comment.author)))
