"""REST endpoints of the GitHub sandbox (under ``/api/v3``, the GitHub Enterprise Server layout), one module per
family of resources: ``rest_repos``, ``rest_statuses``, ``rest_deployments``, ``rest_comments``."""

from __future__ import annotations

from aiohttp import web

from prdeck.services.sandbox.github.http_util import Traffic
from prdeck.services.sandbox.github.rest_base import RestRoutes
from prdeck.services.sandbox.github.rest_comments import CommentRoutes
from prdeck.services.sandbox.github.rest_deployments import DeploymentRoutes
from prdeck.services.sandbox.github.rest_repos import RepoRoutes
from prdeck.services.sandbox.github.rest_statuses import StatusRoutes
from prdeck.services.sandbox.github.shapes import Shapes
from prdeck.services.sandbox.github.state import GitHubState

FAMILIES: tuple[type[RestRoutes], ...] = (RepoRoutes, StatusRoutes, DeploymentRoutes, CommentRoutes)


class RestApi:
    """All REST route families bound to one sandbox's state."""

    def __init__(self, state: GitHubState, shapes: Shapes, traffic: Traffic) -> None:
        self.families = [family(state, shapes, traffic) for family in FAMILIES]

    def routes(self) -> list[web.RouteDef]:
        return [route for family in self.families for route in family.routes()]
