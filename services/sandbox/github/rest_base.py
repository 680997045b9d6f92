"""What every REST route family of the GitHub sandbox shares: GitHub's error bodies, access checks, lookups of
the repository / pull request a URL names, JSON bodies and ``Link``-header pagination."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from prdeck.services.sandbox.github.http_util import USER, Traffic, error_body
from prdeck.services.sandbox.github.shapes import Shapes
from prdeck.services.sandbox.github.state import GitHubState, Pull, Repo, User

PREFIX = "/api/v3"


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


class RestRoutes:
    """Route handlers bound to one sandbox's state; each family of REST resources is a subclass."""

    def __init__(self, state: GitHubState, shapes: Shapes, traffic: Traffic) -> None:
        self.state = state
        self.shapes = shapes
        self.traffic = traffic

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def _user(self, request: web.Request) -> User | None:
        return request.get(USER)

    def _repo(self, request: web.Request, *, write: bool = False) -> Repo:
        """The URL's repository; 404 when the caller may not see it, 401/403 when ``write`` and it may not push."""
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
