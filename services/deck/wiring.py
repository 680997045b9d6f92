"""The one place a deck is put together: GitHub, the cluster and launching, from the config.

The CLI, the TUI, ``prdeck demo`` and the test rigs all call :func:`open_deck`; nothing else builds a
GitHubService, a ClusterService or a Launcher for a deck.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from prdeck.services.background import in_background
from prdeck.services.config import Config
from prdeck.services.deck.caps import Caps
from prdeck.services.deck.deck import ClusterParts, Deck
from prdeck.services.deck.reap import ReapPolicy
from prdeck.services.errors import AuthError, KeyringUnavailable, PrdeckError, Unavailable
from prdeck.services.github.credentials import api_host, resolve_token, store_token
from prdeck.services.github.service import GitHubService
from prdeck.services.models import Identity, RepoRef

if TYPE_CHECKING:
    from prdeck.services.kube.service import ClusterService
    from prdeck.services.launch.journal import LaunchJournal
    from prdeck.services.launch.launches import Launches
    from prdeck.services.launch.pipeline import Launcher
    from prdeck.services.launch.results import ImageBuilder
    from prdeck.services.launch.settings import LaunchSettings

ClusterMode = Literal["now", "later", "off"]
"""``now``: connect while opening; ``later``: on :meth:`Deck.connect_cluster` (the TUI, after its first frame);
``off``: no cluster (the PR list only)."""

BuilderFactory = Callable[[], "ImageBuilder"]
"""Makes the image builder on the first launch (Docker by default; the sandbox's simulation for the demo)."""


def open_deck(
    config: Config,
    repos: Sequence[RepoRef],
    *,
    token: str | None = None,
    cluster: ClusterMode = "now",
    builder: BuilderFactory | None = None,
    workdir: Path | None = None,
) -> Deck:
    """A deck for ``repos`` as ``config`` describes it.

    ``token`` defaults to the credential chain (keyring, GH_TOKEN/GITHUB_TOKEN, ``gh auth token``). ``workdir``
    holds the launch journal and the git mirrors (default: the platform's state and cache dirs).
    """
    if cluster == "now":  # the cluster's client (kubernetes loads: 0.3 s of CPU) is made while the keyring answers
        signed_in: Future[GitHubService] = Future()
        parts = in_background(lambda: _cluster_parts(config, signed_in.result, builder, workdir), "prdeck-connect")
        try:
            github = _github(config, token)
        except BaseException as exc:
            signed_in.set_exception(exc)
            raise
        signed_in.set_result(github)
        return Deck(github, repos, parts.result())
    github = _github(config, token)

    def connect() -> ClusterParts:
        return _cluster_parts(config, lambda: github, builder, workdir)

    if cluster == "later":
        return Deck(github, repos, connect_later=connect)
    return Deck(github, repos, ClusterParts(problem=Unavailable("No Kubernetes cluster configured",
                                                                "this deck was opened without a cluster")))


def _github(config: Config, token: str | None) -> GitHubService:
    return GitHubService(config.api_url, token_for(config) if token is None else token,
                         timeout=config["github.timeout"], retries=config["github.retries"])


def token_for(config: Config) -> str:
    """The token for the configured API, or AuthError saying how to sign in."""
    token = resolve_token(config.api_url)
    if token is None:
        raise AuthError(
            "Not signed in to GitHub",
            f"run `prdeck login` (stores a token for {config.api_url} in the system keyring) "
            "or set GH_TOKEN / GITHUB_TOKEN",
        )
    return token.value


def sign_in(config: Config, token: str) -> tuple[str, Identity]:
    """Check ``token`` against ``/user`` first, then keep it in the keyring; nothing is stored if either fails.
    Returns the API host and who the token belongs to."""
    with _github(config, token) as github:
        identity = github.whoami()
    try:
        store_token(config.api_url, token)
    except KeyringUnavailable as exc:  # the check passed: say whose token it is, as a stored login would
        scopes = ", ".join(identity.scopes) or "none reported"
        raise KeyringUnavailable(
            exc.title, f"the token works (login {identity.login}, scopes: {scopes}) but was not stored; {exc.detail}"
        ) from exc
    return api_host(config.api_url), identity


def _cluster_parts(
    config: Config, github: Callable[[], GitHubService], builder: BuilderFactory | None, workdir: Path | None
) -> ClusterParts:
    """The configured cluster, or why there is none: previews are optional, the PR list works without them."""
    from prdeck.services.kube.client import load_api_client  # kubernetes loads only here
    from prdeck.services.kube.service import ClusterService

    try:
        api_client = load_api_client(config["cluster.kubeconfig"] or None, config["cluster.context"] or None)
    except PrdeckError as problem:
        return ClusterParts(problem=problem)
    cluster = ClusterService(api_client, config["cluster.namespace_prefix"], config["preview.ttl_hours"])
    caps = Caps(config["preview.max_previews"], config["preview.max_parallel_launches"])
    return ClusterParts(cluster, None, _launches(config, github, cluster, builder, workdir), _reap_policy(config),
                        caps)


def _reap_policy(config: Config) -> ReapPolicy:
    """The grace period of empty namespaces, and the registry whose tags reap deletes (its credentials when set)."""
    from prdeck.services.launch.registry_tags import RegistryTarget

    auth = None
    if config["registry.username"] and os.environ.get("PRDECK_REGISTRY_PASSWORD"):
        auth = {"username": config["registry.username"], "password": os.environ["PRDECK_REGISTRY_PASSWORD"]}
    registry = RegistryTarget(config["registry.url"], auth) if config["registry.url"] else None
    idle = config["preview.idle_sleep_hours"]
    return ReapPolicy(timedelta(hours=config["preview.empty_grace_hours"]), registry,
                      timedelta(hours=idle) if idle else None)


def open_launcher(
    config: Config, *, token: str | None = None, builder: BuilderFactory | None = None, workdir: Path | None = None
) -> Launcher:
    """The launch pipeline alone, wired as :func:`open_deck` wires it (for its own tests and benchmarks)."""
    from prdeck.services.kube.client import load_api_client
    from prdeck.services.kube.service import ClusterService

    github = _github(config, token)
    api_client = load_api_client(config["cluster.kubeconfig"] or None, config["cluster.context"] or None)
    cluster = ClusterService(api_client, config["cluster.namespace_prefix"])
    return _launcher(config, github, cluster, builder, workdir, _journal(workdir))


def _launches(
    config: Config, github: Callable[[], GitHubService], cluster: ClusterService, builder: BuilderFactory | None,
    workdir: Path | None,
) -> Launches:
    """Launch bookkeeping. The Docker client and the token's login load on the first launch, not at start-up."""
    from prdeck.services.launch.launches import Launches

    journal = _journal(workdir)
    return Launches(lambda: _launcher(config, github(), cluster, builder, workdir, journal), journal)


def _journal(workdir: Path | None) -> LaunchJournal:
    from prdeck.services.launch.journal import LaunchJournal

    return LaunchJournal(workdir / "journal" if workdir is not None else None)


def _launcher(
    config: Config, github: GitHubService, cluster: ClusterService, builder: BuilderFactory | None,
    workdir: Path | None, journal: LaunchJournal,
) -> Launcher:
    from prdeck.services.launch.pipeline import Launcher
    from prdeck.services.launch.settings import LaunchSettings

    settings = replace(LaunchSettings.from_config(config, launched_by=""), login=_login_soon(github))
    settings.require_registry()
    return Launcher(github, cluster, settings, builder or _docker_builder(settings), journal,
                    workdir / "mirrors" if workdir is not None else None)


def _login_soon(github: GitHubService) -> Future[str]:
    """The token's login, asked in the background: a launch needs it only once its spec is read."""
    return in_background(lambda: github.whoami().login, "prdeck-whoami")


def _docker_builder(settings: LaunchSettings) -> BuilderFactory:
    def make() -> ImageBuilder:
        from prdeck.services.launch.builder import Builder, docker_client

        return Builder(docker_client(), settings.registry_auth)

    return make
