"""The HTTP behaviour every sandbox GitHub answer shares: auth, rate limits, ETags, faults and counters.

It mirrors api.github.com: ``Authorization: token|Bearer`` with GitHub's 401 bodies, ``X-RateLimit-*``
headers on every API answer (REST "core" and "graphql" counted apart), weak ETags with 304 answers that
cost nothing, and ``X-OAuth-Scopes``. Faults injected through the admin API let tests see 5xx, slow
answers and exhausted limits over real HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from prdeck.services.sandbox.github.state import GitHubState, User

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REST_DOCS = "https://docs.github.com/rest"
USER = web.RequestKey("user", User | None)  # type: ignore[arg-type]
"""The authenticated sandbox user of a request (None: anonymous)."""
COST = web.RequestKey("graphql_cost", int)
"""Points a GraphQL request costs (set by the GraphQL handler; other API requests cost 1)."""
SECONDARY_DOCS = (
    "https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api#secondary-rate-limits"
)
SECONDARY_RETRY_AFTER = 60
ANONYMOUS_LIMIT = 60
USER_LIMIT = 5000


@dataclass
class Bucket:
    limit: int
    remaining: int
    reset: int
    used: int = 0


@dataclass
class Fault:
    """An injected failure: answer ``status`` (or just wait ``delay`` seconds) for the next ``times`` requests."""

    scope: str  # rest | graphql | git | all
    times: int
    status: int | None = None
    delay: float = 0.0
    secondary: bool = False
    after: int = 0
    """Requests of the scope to let through before the fault starts."""
    """Answer as GitHub's secondary rate limit does (403, Retry-After) instead of a plain error."""


@dataclass
class Traffic:
    """Request counters, rate-limit buckets and pending faults of one sandbox."""

    counts: Counter[str] = field(default_factory=Counter)
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    minute_points: dict[str, list[tuple[float, int]]] = field(default_factory=dict)

    def points_this_minute(self, who: str, cost: int) -> int:
        """Record ``cost`` GraphQL points for ``who``; the points of the last 60 s, these included."""
        moment = time.monotonic()
        recent = [(at, points) for at, points in self.minute_points.get(who, []) if moment - at < 60]
        recent.append((moment, cost))
        self.minute_points[who] = recent
        return sum(points for _, points in recent)

    def bucket(self, who: str, resource: str) -> Bucket:
        key = (who, resource)
        bucket = self.buckets.get(key)
        if bucket is None or bucket.reset <= time.time():
            limit = ANONYMOUS_LIMIT if who == "" else USER_LIMIT
            bucket = self.buckets[key] = Bucket(limit, limit, int(time.time()) + 3600)
        return bucket

    def take_fault(self, kind: str) -> Fault | None:
        for fault in self.faults:
            if fault.scope in (kind, "all") and fault.times > 0:
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None


def classify(path: str) -> str:
    if path.startswith("/_sandbox"):
        return "admin"
    if path == "/api/graphql":
        return "graphql"
    if path.startswith("/api/v3"):
        return "rest"
    if ".git/" in path:
        return "git"
    return "html"


def error_body(message: str, docs: str = REST_DOCS, status: int | None = None) -> dict[str, str]:
    body = {"message": message, "documentation_url": docs}
    if status is not None:
        body["status"] = str(status)
    return body


def make_middleware(state: GitHubState, traffic: Traffic) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def github_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        kind = classify(request.path)
        if kind == "admin":
            return await handler(request)
        traffic.counts[kind] += 1
        fault = traffic.take_fault(kind)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.secondary:
                return secondary_limited()
            if fault.status:
                return web.json_response(
                    {"message": "Server Error"} if fault.status >= 500 else error_body("Injected fault"),
                    status=fault.status,
                )
        if kind not in ("rest", "graphql"):
            return await handler(request)
        return await _api(request, handler, kind)

    async def _api(request: web.Request, handler: Handler, kind: str) -> web.StreamResponse:
        resource = "graphql" if kind == "graphql" else "core"
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user: User | None = None
        if header:
            user = state.user_for_token(token.strip()) if scheme.lower() in ("token", "bearer") else None
            if user is None:
                response = web.json_response(error_body("Bad credentials", status=401), status=401)
                return _finish(response, traffic.bucket("", resource), None, resource)
        elif kind == "graphql":
            response = web.json_response(
                error_body(
                    "This endpoint requires you to be authenticated.",
                    "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql",
                ),
                status=401,
            )
            return _finish(response, traffic.bucket("", resource), None, resource)
        request[USER] = user  # type: ignore[misc]
        bucket = traffic.bucket(user.login if user else "", resource)
        if bucket.remaining <= 0 and request.path != "/api/v3/rate_limit":
            who = f"user ID {user.id}" if user else request.remote or "127.0.0.1"
            if kind == "graphql":
                response = web.json_response(
                    {"errors": [{"type": "RATE_LIMITED", "message": f"API rate limit already exceeded for {who}."}]}
                )
            else:
                response = web.json_response(
                    error_body(
                        f"API rate limit exceeded for {who}.",
                        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                    ),
                    status=403,
                )
            return _finish(response, bucket, user, resource)
        try:
            answer = await handler(request)
        except web.HTTPException as exc:
            answer = _as_json_error(exc)
        if isinstance(answer, web.Response) and request.method == "GET" and answer.status == 200:
            etag = 'W/"' + hashlib.sha256(answer.body or b"").hexdigest()[:40] + '"'  # type: ignore[arg-type]
            answer.headers["ETag"] = etag
            answer.headers["Cache-Control"] = "private, max-age=60, s-maxage=60"
            answer.headers["Vary"] = "Accept, Authorization, Cookie, X-GitHub-OTP"
            if etag in {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}:
                not_modified = web.Response(status=304, headers={"ETag": etag})
                return _finish(not_modified, bucket, user, resource)
        if request.path != "/api/v3/rate_limit":
            cost = request.get(COST, 1)
            bucket.remaining -= cost
            bucket.used += cost
        return _finish(answer, bucket, user, resource)

    return github_middleware


def secondary_limited() -> web.Response:
    """GitHub's answer to a client over a secondary rate limit (too many points a minute, too much at once)."""
    body = {
        "documentation_url": SECONDARY_DOCS,
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    }
    return web.json_response(body, status=403, headers={"Retry-After": str(SECONDARY_RETRY_AFTER)})


def _as_json_error(exc: web.HTTPException) -> web.Response:
    """Router errors (unknown path, wrong method) in GitHub's JSON shape; handler errors pass through."""
    if exc.content_type == "application/json":
        return web.Response(status=exc.status, text=exc.text, content_type="application/json")
    return web.json_response(error_body(exc.reason, status=exc.status), status=exc.status)


def _finish(response: web.StreamResponse, bucket: Bucket, user: User | None, resource: str) -> web.StreamResponse:
    headers = response.headers
    headers["X-RateLimit-Limit"] = str(bucket.limit)
    headers["X-RateLimit-Remaining"] = str(max(bucket.remaining, 0))
    headers["X-RateLimit-Reset"] = str(bucket.reset)
    headers["X-RateLimit-Used"] = str(bucket.used)
    headers["X-RateLimit-Resource"] = resource
    headers["X-GitHub-Media-Type"] = "github.v3; format=json"
    headers["X-GitHub-Request-Id"] = uuid.uuid4().hex[:16].upper()
    headers["X-GitHub-Api-Version-Selected"] = "2022-11-28"
    if user is not None:
        headers["X-OAuth-Scopes"] = ", ".join(user.scopes)
        headers["X-Accepted-OAuth-Scopes"] = "repo"
    return response
