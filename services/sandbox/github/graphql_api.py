"""GitHub's GraphQL API over the sandbox state, executed by graphql-core against ``schema.graphql``.

Connections follow GitHub's rules: ``first`` or ``last`` is required and at most 100, cursors are opaque
base64 strings, and errors carry GitHub's ``type`` (NOT_FOUND, MISSING_PAGINATION_BOUNDARIES, ...).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

from aiohttp import web
from graphql import DocumentNode, GraphQLError, GraphQLSchema, build_schema, execute_sync, parse, validate

from prdeck.services.sandbox.github.graphql_cost import query_cost
from prdeck.services.sandbox.github.http_util import COST, USER, Traffic, error_body, secondary_limited
from prdeck.services.sandbox.github.state import GitHubState, Pull, Repo, User, author_association, iso

MAX_PAGE = 100
SECONDARY_POINTS_PER_MINUTE = 2000
"""GitHub's secondary limit for the GraphQL endpoint: no more than 2,000 points a minute."""


@cache
def sandbox_schema() -> GraphQLSchema:
    return build_schema(files(__package__).joinpath("schema.graphql").read_text(encoding="utf-8"))


@lru_cache(maxsize=64)
def parsed_query(source: str) -> DocumentNode | list[GraphQLError]:
    """The parsed, validated document of a query text, or its errors (clients send the same few texts)."""
    try:
        document = parse(source)
    except GraphQLError as error:
        return [error]
    return validate(sandbox_schema(), document) or document


class GitHubGraphQLError(GraphQLError):
    """An error GitHub reports with a top-level ``type``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message, extensions={"type": kind})


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _index(cursor: str, name: str) -> int:
    try:
        return int(base64.b64decode(cursor.encode()).decode().removeprefix("cursor:v2:"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise GitHubGraphQLError(
            "INVALID_CURSOR_ARGUMENTS", f"`{cursor}` does not appear to be a valid cursor."
        ) from exc


def connection(
    items: Sequence[Any],
    name: str,
    first: int | None = None,
    last: int | None = None,
    after: str | None = None,
    before: str | None = None,
    *,
    node: Callable[[Any], Any] = lambda item: item,
) -> dict[str, Any]:
    """A GitHub-style connection (edges, nodes, pageInfo, totalCount) over ``items``.

    ``node`` turns an item into its GraphQL object; it runs only for the items on the page.
    """
    if first is None and last is None:
        raise GitHubGraphQLError(
            "MISSING_PAGINATION_BOUNDARIES",
            f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.",
        )
    for arg, value in (("first", first), ("last", last)):
        if value is not None and value < 0:
            raise GitHubGraphQLError(
                "INVALID_PAGINATION", f"`{arg}` on the `{name}` connection cannot be less than zero."
            )
        if value is not None and value > MAX_PAGE:
            raise GitHubGraphQLError(
                "EXCESSIVE_PAGINATION",
                f"Requesting {value} records on the `{name}` connection exceeds the `{arg}` "
                f"limit of {MAX_PAGE} records.",
            )
    start = _index(after, name) + 1 if after else 0
    end = min(_index(before, name), len(items)) if before else len(items)
    window = list(range(start, max(start, end)))
    if first is not None:
        window = window[:first]
    if last is not None:
        window = window[-last:] if last else []
    nodes = [node(items[i]) for i in window]
    return {
        "totalCount": len(items),
        "edges": [{"cursor": _cursor(i), "node": built} for i, built in zip(window, nodes, strict=True)],
        "nodes": nodes,
        "pageInfo": {
            "startCursor": _cursor(window[0]) if window else None,
            "endCursor": _cursor(window[-1]) if window else None,
            "hasNextPage": bool(window) and window[-1] < end - 1,
            "hasPreviousPage": bool(window) and window[0] > 0,
        },
    }


class GraphQLApi:
    """Builds resolver-carrying dicts from state; graphql-core's default resolver does the rest."""

    def __init__(self, state: GitHubState, web_url: str, traffic: Traffic) -> None:
        self.state = state
        self.web = web_url.rstrip("/")
        self.traffic = traffic

    async def handle(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response(error_body("Problems parsing JSON", "https://docs.github.com/graphql"), status=400)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return web.json_response(
                {"errors": [{"message": "A query attribute must be specified and must be a string."}]}
            )
        viewer: User = request[USER]
        document = parsed_query(body["query"])
        if isinstance(document, list):
            return web.json_response({"errors": [self._format_error(error) for error in document]})
        variables = body.get("variables") or None
        cost = query_cost(document, variables, body.get("operationName"))
        bucket = self.traffic.bucket(viewer.login, "graphql")
        if self.traffic.points_this_minute(viewer.login, cost) > SECONDARY_POINTS_PER_MINUTE:
            request[COST] = 0  # type: ignore[misc]
            return secondary_limited()
        if cost > bucket.remaining:
            request[COST] = 0  # type: ignore[misc]
            return web.json_response({"errors": [{
                "type": "RATE_LIMITED", "message": f"API rate limit already exceeded for user ID {viewer.id}."}]})
        request[COST] = cost  # type: ignore[misc]
        root = {
            "repository": lambda info, owner, name, followRenames=True: self._repository(viewer, owner, name),
            "viewer": self._user(viewer),
            "rateLimit": lambda info, dryRun=False: self._rate_limit(viewer, 0 if dryRun else cost, cost),
            "nodes": lambda info, ids: self._nodes(viewer, ids),
        }
        with self.state.lock:
            result = execute_sync(
                sandbox_schema(),
                document,
                root_value=root,
                variable_values=variables,
                operation_name=body.get("operationName"),
            )
        payload: dict[str, Any] = {}
        if result.errors:
            payload["errors"] = [self._format_error(error) for error in result.errors]
        if result.data is not None or not result.errors:
            payload["data"] = result.data
        return web.json_response(payload)

    @staticmethod
    def _format_error(error: GraphQLError) -> dict[str, Any]:
        formatted: dict[str, Any] = dict(error.formatted)
        extensions: dict[str, Any] = dict(formatted.pop("extensions", None) or {})
        if "type" in extensions:
            formatted["type"] = extensions.pop("type")
        if extensions:
            formatted["extensions"] = extensions
        return formatted

    def _rate_limit(self, viewer: User, charged: int, cost: int) -> dict[str, Any]:
        """GitHub's ``rateLimit``: this query's cost, and the budget once it is paid (unless ``dryRun``)."""
        bucket = self.traffic.bucket(viewer.login, "graphql")
        return {
            "cost": cost,
            "limit": bucket.limit,
            "nodeCount": 0,
            "remaining": bucket.remaining - charged,
            "used": bucket.used + charged,
            "resetAt": iso(datetime.fromtimestamp(bucket.reset, UTC)),
        }

    def _nodes(self, viewer: User, ids: list[str]) -> list[dict[str, Any] | None]:
        """``nodes(ids:)`` for the node types prdeck asks for by ID (head commits); others resolve to null."""
        if len(ids) > MAX_PAGE:
            raise GitHubGraphQLError(
                "EXCESSIVE_PAGINATION", f"You may not request more than {MAX_PAGE} ids at once (got {len(ids)})."
            )
        found: list[dict[str, Any] | None] = []
        for node_id in ids:
            kind, _, rest = node_id.partition("_")
            repo_id, _, sha = rest.partition("_")
            repo = self.state.commit_repos.get((int(repo_id), sha)) if kind == "C" and repo_id.isdigit() else None
            found.append(self._commit(repo, sha) if repo is not None and repo.visible_to(viewer.login) else None)
        return found

    @staticmethod
    def _commit(repo: Repo, sha: str) -> dict[str, Any]:
        return {
            "__typename": "Commit",
            "id": f"C_{repo.id}_{sha}",  # like GitHub's, a commit's ID names its repository too
            "oid": sha,
            "message": "",
            "statusCheckRollup": (
                {"id": f"SCR_{sha}", "state": rollup} if (rollup := repo.rollup(sha)) else None
            ),
        }

    def _user(self, user: User) -> dict[str, Any]:
        return {
            "__typename": "Bot" if user.type == "Bot" else "User",
            "id": f"U_{user.id}",
            "login": user.login,
            "name": user.name,
            "url": f"{self.web}/{user.login}",
            "avatarUrl": lambda info, size=None: f"{self.web}/{user.login}.png",
        }

    def _repository(self, viewer: User, owner: str, name: str) -> dict[str, Any]:
        repo = self.state.repo(owner, name)
        if repo is None or not repo.visible_to(viewer.login):
            raise GitHubGraphQLError("NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'.")
        owner_user = self.state.users[repo.owner]
        return {
            "id": f"R_{repo.id}",
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "owner": self._user(owner_user),
            "url": f"{self.web}/{repo.full_name}",
            "isPrivate": repo.private,
            "defaultBranchRef": {"id": f"REF_{repo.id}", "name": repo.default_branch, "prefix": "refs/heads/"},
            "pullRequests": lambda info, **args: self._pull_requests(repo, **args),
            "pullRequest": lambda info, number: self._pull(repo, repo.pulls[number]) if number in repo.pulls else None,
        }

    def _pull_requests(
        self,
        repo: Repo,
        states: list[str] | None = None,
        labels: list[str] | None = None,
        headRefName: str | None = None,
        baseRefName: str | None = None,
        orderBy: dict[str, str] | None = None,
        **page: Any,
    ) -> dict[str, Any]:
        pulls = list(repo.pulls.values())
        if states:
            pulls = [pull for pull in pulls if _pull_state(pull) in states]
        if labels:
            pulls = [pull for pull in pulls if set(labels) & set(pull.labels)]
        if headRefName:
            pulls = [pull for pull in pulls if pull.branch == headRefName]
        if baseRefName:
            pulls = [pull for pull in pulls if pull.base_branch == baseRefName]
        field = (orderBy or {}).get("field", "CREATED_AT")
        key: Callable[[Pull], Any] = {
            "CREATED_AT": lambda p: (p.created_at, p.number),
            "UPDATED_AT": lambda p: (p.updated_at, p.number),
            "COMMENTS": lambda p: (sum(1 for c in repo.comments.values() if c.issue_number == p.number), p.number),
        }[field]
        pulls.sort(key=key, reverse=(orderBy or {}).get("direction") == "DESC")
        return connection(pulls, "pullRequests", **page, node=lambda pull: self._pull(repo, pull))

    def _pull(self, repo: Repo, pull: Pull) -> dict[str, Any]:
        author = self.state.users.get(pull.author)
        head_owner = author if pull.fork else self.state.users[repo.owner]
        commit = {**self._commit(repo, pull.head_sha), "message": pull.title}
        pr_commit = {
            "id": f"PRC_{pull.id}",
            "commit": commit,
            "url": f"{self.web}/{repo.full_name}/pull/{pull.number}/commits/{pull.head_sha}",
        }
        label_nodes = [{"id": f"LA_{repo.id}_{name}", "name": name, "color": "ededed"} for name in pull.labels]
        return {
            "id": f"PR_{pull.id}",
            "number": pull.number,
            "title": pull.title,
            "body": pull.body,
            "bodyText": pull.body,
            "url": f"{self.web}/{repo.full_name}/pull/{pull.number}",
            "isDraft": pull.draft,
            "isCrossRepository": pull.fork,
            "createdAt": iso(pull.created_at),
            "updatedAt": iso(pull.updated_at),
            "state": _pull_state(pull),
            "merged": pull.merged,
            "reviewDecision": pull.review,
            "headRefName": pull.branch,
            "headRefOid": pull.head_sha,
            "baseRefName": pull.base_branch,
            "author": self._user(author) if author else None,
            "authorAssociation": author_association(repo.owner, pull),
            "headRepositoryOwner": self._user(head_owner) if head_owner else None,
            "labels": lambda info, **page: connection(label_nodes, "labels", **page),
            "commits": lambda info, **page: connection([pr_commit], "commits", **page),
        }


def _pull_state(pull: Pull) -> str:
    if pull.merged:
        return "MERGED"
    return "OPEN" if pull.state == "open" else "CLOSED"
