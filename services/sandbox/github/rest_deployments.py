"""REST routes for deployments and deployment statuses (a ``success`` one makes older ones ``inactive``)."""

from __future__ import annotations

import json

from aiohttp import web

from prdeck.services.sandbox.github.http_util import error_body
from prdeck.services.sandbox.github.rest_base import PREFIX, RestRoutes, invalid, not_found
from prdeck.services.sandbox.github.state import Deployment, Repo, iso, now

DEPLOYMENT_STATES = {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}


class DeploymentRoutes(RestRoutes):
    def routes(self) -> list[web.RouteDef]:
        p = PREFIX
        return [
            web.get(f"{p}/repos/{{owner}}/{{repo}}/deployments", self.list_deployments),
            web.post(f"{p}/repos/{{owner}}/{{repo}}/deployments", self.create_deployment),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/deployments/{{id:\\d+}}", self.get_deployment),
            web.delete(f"{p}/repos/{{owner}}/{{repo}}/deployments/{{id:\\d+}}", self.delete_deployment),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/deployments/{{id:\\d+}}/statuses", self.list_deployment_statuses),
            web.post(f"{p}/repos/{{owner}}/{{repo}}/deployments/{{id:\\d+}}/statuses", self.create_deployment_status),
        ]

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
