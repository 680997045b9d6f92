"""Build signed-in service objects from the config and the credential chain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prdeck.services.config import Config
from prdeck.services.errors import AuthError, PrdeckError
from prdeck.services.github.credentials import resolve_token
from prdeck.services.github.service import GitHubService

if TYPE_CHECKING:
    from collections.abc import Callable

    from prdeck.services.kube.service import ClusterService
    from prdeck.services.launch.launches import Launches
    from prdeck.services.launch.settings import LaunchSettings


def connect_github(config: Config) -> GitHubService:
    """A :class:`GitHubService` for the configured API, or AuthError when there is no token at all."""
    token = resolve_token(config.api_url)
    if token is None:
        raise AuthError(
            "Not signed in to GitHub",
            f"run `prdeck login` (stores a token for {config.api_url} in the system keyring) "
            "or set GH_TOKEN / GITHUB_TOKEN",
        )
    return GitHubService(
        config.api_url, token.value, timeout=config["github.timeout"], retries=config["github.retries"]
    )


def connect_cluster(config: Config) -> tuple[ClusterService | None, PrdeckError | None]:
    """The configured cluster, or why there is none: previews are optional, the PR list works without them."""
    from prdeck.services.kube.client import load_api_client  # kubernetes loads only here
    from prdeck.services.kube.service import ClusterService

    try:
        api_client = load_api_client(config["cluster.kubeconfig"] or None, config["cluster.context"] or None)
    except PrdeckError as problem:
        return None, problem
    return ClusterService(api_client, config["cluster.namespace_prefix"]), None


def launches_for(
    config: Config, github: GitHubService, cluster: ClusterService | None, builder: Callable[[], Any] | None = None
) -> Launches | None:
    """Launch bookkeeping for a deck (None without a cluster). The Docker client and the token's login load on the
    first launch, not at start-up. ``builder`` overrides the Docker builder (the sandbox's simulation)."""
    if cluster is None:
        return None
    from prdeck.services.launch.launches import Launches
    from prdeck.services.launch.pipeline import Launcher
    from prdeck.services.launch.settings import LaunchSettings

    def launcher() -> Launcher:
        settings = LaunchSettings.from_config(config, launched_by=github.whoami().login)
        settings.require_registry()
        return Launcher(github, cluster, settings, builder or _docker_builder(settings))

    return Launches(launcher)


def _docker_builder(settings: LaunchSettings) -> Callable[[], Any]:
    def make() -> Any:
        from prdeck.services.launch.builder import Builder, docker_client

        return Builder(docker_client(), settings.registry_auth)

    return make
