"""``/_sandbox/*``: the GitHub sandbox's own control API, for demos and tests (never part of GitHub's API).

- ``GET /_sandbox/stats``: request counts ``{"rest", "graphql", "git", "html"}``
- ``POST /_sandbox/reset-stats``
- ``POST /_sandbox/pulls``: ``{"action": "open|retitle|push|close|merge|reopen|ci|review|labels|draft",
  "repo": "o/n", "number": N, ...}`` (``review``: ``{"review": "APPROVED"}``, ``labels``: ``{"labels": [...]}``,
  ``draft``: ``{"draft": true}``). As on GitHub, every change but a CI status bumps the PR's ``updatedAt``.
- ``POST /_sandbox/faults``: ``{"scope": "rest|graphql|git|all", "status": 500, "times": 1, "delay": 0}``
  (``"secondary": true``: GitHub's secondary rate limit answer, 403 with Retry-After; ``"after": N``: let N
  requests through first);
  ``DELETE /_sandbox/faults`` clears them
- ``POST /_sandbox/rate-limit``: ``{"login": "...", "resource": "core|graphql", "remaining": 0}``
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from prdeck.services.sandbox.github.http_util import Fault, Traffic
from prdeck.services.sandbox.github.state import GitHubState, Pull, Repo, now
from prdeck.services.sandbox.seed import pull_spec

ACTIONS = ("open", "retitle", "push", "close", "merge", "reopen", "ci", "review", "labels", "draft")


def _bad(message: str) -> web.HTTPException:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


class Admin:
    def __init__(self, state: GitHubState, traffic: Traffic) -> None:
        self.state = state
        self.traffic = traffic

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_sandbox/stats", self.stats),
            web.post("/_sandbox/reset-stats", self.reset_stats),
            web.post("/_sandbox/pulls", self.pulls),
            web.post("/_sandbox/faults", self.add_fault),
            web.delete("/_sandbox/faults", self.clear_faults),
            web.post("/_sandbox/rate-limit", self.rate_limit),
        ]

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except json.JSONDecodeError as exc:
            raise _bad("body must be JSON") from exc
        if not isinstance(body, dict):
            raise _bad("body must be a JSON object")
        return body

    async def stats(self, request: web.Request) -> web.Response:
        counts = {kind: self.traffic.counts.get(kind, 0) for kind in ("rest", "graphql", "git", "html")}
        return web.json_response({**counts, "total": sum(counts.values())})

    async def reset_stats(self, request: web.Request) -> web.Response:
        self.traffic.counts.clear()
        return web.json_response({"ok": True})

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        scope = body.get("scope", "all")
        if scope not in ("rest", "graphql", "git", "all"):
            raise _bad("scope must be rest, graphql, git or all")
        fault = Fault(
            scope=scope, times=int(body.get("times", 1)), status=body.get("status"), delay=float(body.get("delay", 0)),
            secondary=bool(body.get("secondary", False)), after=int(body.get("after", 0)),
        )
        self.traffic.faults.append(fault)
        return web.json_response({"ok": True})

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.traffic.faults.clear()
        return web.json_response({"ok": True})

    async def rate_limit(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        bucket = self.traffic.bucket(str(body.get("login", "")), str(body.get("resource", "core")))
        bucket.remaining = int(body.get("remaining", 0))
        if "reset_in" in body:
            bucket.reset = int(time.time() + float(body["reset_in"]))
        return web.json_response({"remaining": bucket.remaining, "reset": bucket.reset})

    async def pulls(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        action = body.get("action")
        if action not in ACTIONS:
            raise _bad(f"action must be one of {', '.join(ACTIONS)}")
        owner, _, name = str(body.get("repo", "")).partition("/")
        repo = self.state.repo(owner, name)
        if repo is None:
            raise _bad(f"unknown repo {body.get('repo')!r}")
        if action == "open":
            return web.json_response(await self._open(repo, body))
        pull = repo.pulls.get(int(body.get("number", 0)))
        if pull is None:
            raise _bad(f"no pull request #{body.get('number')} in {repo.full_name}")
        if action == "push":
            files = body.get("files") or {}
            message = str(body.get("message") or f"Update #{pull.number}")
            await asyncio.get_running_loop().run_in_executor(None, self.state.push, repo, pull, files, message)
        else:
            with self.state.lock:
                self._change(repo, pull, action, body)
        return web.json_response(self._describe(pull))

    async def _open(self, repo: Repo, body: dict[str, Any]) -> dict[str, Any]:
        spec = {
            "number": self.state.next_number(repo),
            "title": "New pull request",
            "author": "newcomer",
            "branch": f"feature/pr-{self.state.next_number(repo)}",
            **body,
        }
        spec = pull_spec({k: v for k, v in spec.items() if k not in ("action", "repo")}, "open")
        spec["updated_at"] = spec.get("updated_at") or now()
        loop = asyncio.get_running_loop()
        (pull,) = await loop.run_in_executor(None, self.state.open_pulls, repo, [spec])
        return self._describe(pull)

    def _change(self, repo: Repo, pull: Pull, action: str, body: dict[str, Any]) -> None:
        if action != "ci":  # a commit status changes the commit, not the pull request
            pull.updated_at = now()
        if action == "reopen":
            pull.state, pull.closed_at, pull.merged, pull.merged_at = "open", None, False, None
        elif action == "review":
            review = body.get("review")
            if review not in ("APPROVED", "CHANGES_REQUESTED", "REVIEW_REQUIRED", None):
                raise _bad("review must be APPROVED, CHANGES_REQUESTED, REVIEW_REQUIRED or null")
            pull.review = review
        elif action == "labels":
            pull.labels = [str(label) for label in body.get("labels") or []]
        elif action == "draft":
            pull.draft = bool(body.get("draft", True))
        elif action == "retitle":
            pull.title = str(body.get("title", pull.title))
        elif action in ("close", "merge"):
            pull.state = "closed"
            pull.closed_at = pull.updated_at
            pull.merged = action == "merge"
            pull.merged_at = pull.updated_at if pull.merged else None
        elif action == "ci":
            state = str(body.get("state", "SUCCESS")).lower()
            if state not in ("success", "failure", "pending", "error"):
                raise _bad("ci state must be SUCCESS, FAILURE, PENDING or ERROR")
            self.state.add_status(
                repo, pull.head_sha, state, str(body.get("context", "ci/build")), "sandbox-ci", None, None
            )

    @staticmethod
    def _describe(pull: Pull) -> dict[str, Any]:
        return {
            "number": pull.number,
            "title": pull.title,
            "head_sha": pull.head_sha,
            "state": "merged" if pull.merged else pull.state,
        }
