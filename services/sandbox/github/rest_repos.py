"""REST routes for the caller, the rate limit, repositories and pull requests (with their files)."""

from __future__ import annotations

from aiohttp import web

from prdeck.services.sandbox.github.rest_base import PREFIX, RestRoutes, invalid, requires_auth


class RepoRoutes(RestRoutes):
    def routes(self) -> list[web.RouteDef]:
        p = PREFIX
        return [
            web.get(f"{p}/user", self.get_user),
            web.get(f"{p}/rate_limit", self.rate_limit),
            web.get(f"{p}/repos/{{owner}}/{{repo}}", self.get_repo),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/pulls", self.list_pulls),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/pulls/{{number:\\d+}}", self.get_pull),
            web.get(f"{p}/repos/{{owner}}/{{repo}}/pulls/{{number:\\d+}}/files", self.pull_files),
        ]

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
