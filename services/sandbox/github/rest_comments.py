"""REST routes for issues and their comments (every pull request is an issue too; there are no plain issues)."""

from __future__ import annotations

import json

from aiohttp import web

from prdeck.services.sandbox.github.http_util import error_body
from prdeck.services.sandbox.github.rest_base import PREFIX, RestRoutes, invalid, not_found, requires_auth
from prdeck.services.sandbox.github.state import Comment, Repo, now


class CommentRoutes(RestRoutes):
    def routes(self) -> list[web.RouteDef]:
        p = PREFIX
        return [
            web.get(f"{p}/repos/{{owner}}/{{repo}}/issues/{{number:\\d+}}", self.get_issue),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/issues/{{number:\\d+}}/comments", self.list_comments),
            web.post(f"{p}/repos/{{owner}}/{{repo}}/issues/{{number:\\d+}}/comments", self.create_comment),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/issues/comments/{{id:\\d+}}", self.get_comment),
            web.patch(f"{p}/repos/{{owner}}/{{repo}}/issues/comments/{{id:\\d+}}", self.update_comment),
        ]

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
