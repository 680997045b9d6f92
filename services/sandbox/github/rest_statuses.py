"""REST routes for commits and their statuses (one, combined, listed; creating one)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from prdeck.services.sandbox.github.http_util import error_body
from prdeck.services.sandbox.github.rest_base import PREFIX, RestRoutes, invalid
from prdeck.services.sandbox.github.state import Repo

STATUS_STATES = {"error", "failure", "pending", "success"}


class StatusRoutes(RestRoutes):
    def routes(self) -> list[web.RouteDef]:
        p = PREFIX
        return [
            web.post(f"{p}/repos/{{owner}}/{{repo}}/statuses/{{sha}}", self.create_status),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/commits/{{ref:.+}}/status", self.combined_status),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/commits/{{ref:[^/]+}}", self.get_commit),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/commits/{{ref:.+}}/statuses", self.list_statuses),
        ]

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
