"""Build signed-in service objects from the config and the credential chain."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.config import Config
from services.credentials import resolve_token
from services.errors import AuthError, PrdeckError
from services.github import GitHubService

if TYPE_CHECKING:
    from services.cluster import ClusterService


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
    from services.cluster import ClusterService, load_api_client  # kubernetes loads only here

    try:
        api_client = load_api_client(config["cluster.kubeconfig"] or None, config["cluster.context"] or None)
    except PrdeckError as problem:
        return None, problem
    return ClusterService(api_client, config["cluster.namespace_prefix"]), None
