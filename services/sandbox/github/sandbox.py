"""The GitHub sandbox: REST, GraphQL, git smart HTTP and HTML pages on one loopback port.

Its layout is GitHub Enterprise Server's: REST under ``/api/v3``, GraphQL at ``/api/graphql``, git at
``/owner/name.git`` and pages at ``/owner/name/pull/N``, so prdeck reaches it the way it reaches GHES.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from prdeck.services.sandbox.github.admin import Admin
from prdeck.services.sandbox.github.git_http import GitHttp
from prdeck.services.sandbox.github.graphql_api import GraphQLApi
from prdeck.services.sandbox.github.http_util import Traffic, make_middleware
from prdeck.services.sandbox.github.pages import Pages
from prdeck.services.sandbox.github.rest import RestApi
from prdeck.services.sandbox.github.shapes import Shapes
from prdeck.services.sandbox.github.state import GitHubState, User
from prdeck.services.sandbox.seed import default_seed, load_seed
from prdeck.services.sandbox.server import LoopbackServer


class GitHubSandbox:
    """Seed a state, serve it on 127.0.0.1; use as a context manager or ``start()`` / ``stop()``."""

    def __init__(self, seed: dict[str, Any] | None = None, root: Path | None = None, port: int = 0) -> None:
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="prdeck-sandbox-")
        self.root = root or Path(self._tmp.name)  # type: ignore[union-attr]
        self.state = GitHubState(self.root / "git")
        self.traffic = Traffic()
        self.user: User = load_seed(self.state, default_seed() if seed is None else seed)
        self._server = LoopbackServer(self._make_app, port=port)
        self.url = self._server.url

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v3"

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/api/graphql"

    @property
    def admin_url(self) -> str:
        return f"{self.url}/_sandbox"

    @property
    def token(self) -> str:
        assert self.user.token is not None
        return self.user.token

    def repo_names(self) -> list[str]:
        return [repo.full_name for repo in self.state.repos.values()]

    def _make_app(self, base_url: str) -> web.Application:
        shapes = Shapes(f"{base_url}/api/v3", base_url)
        app = web.Application(middlewares=[make_middleware(self.state, self.traffic)], client_max_size=64 * 1024 * 1024)
        graphql = GraphQLApi(self.state, base_url, self.traffic)
        app.add_routes(Admin(self.state, self.traffic).routes())
        app.add_routes([web.post("/api/graphql", graphql.handle)])
        app.add_routes(RestApi(self.state, shapes, self.traffic).routes())
        app.add_routes(GitHttp(self.state).routes())
        app.add_routes(Pages(self.state).routes())
        return app

    def start(self) -> GitHubSandbox:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> GitHubSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def info(self) -> dict[str, Any]:
        """The info-file entries for GitHub (``prdeck sandbox --info``)."""
        return {
            "github_url": self.api_url,
            "graphql_url": self.graphql_url,
            "git_url": f"{self.url}/",
            "github_admin_url": self.admin_url,
            "web_url": self.url,
            "token": self.token,
            "login": self.user.login,
            "repos": self.repo_names(),
            "env": {
                "PRDECK_GITHUB_URL": self.api_url,
                "GITHUB_TOKEN": self.token,
                "PRDECK_REPOS": ",".join(self.repo_names()),
            },
        }
