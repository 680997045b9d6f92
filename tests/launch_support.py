"""Launch tests: the real Docker engine (started by tests/run), a real registry on loopback, both sandboxes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from prdeck.services.config import Config
from prdeck.services.deck import Deck, open_deck, open_launcher
from prdeck.services.github.service import GitHubService
from prdeck.services.kube.service import ClusterService
from prdeck.services.launch.pipeline import Launcher
from prdeck.services.models import LaunchEvent, RepoRef
from prdeck.services.sandbox.stack import SandboxStack
from tests.kube_support import FAST

DOCKERFILE = (
    "FROM prdeck.localhost/busybox:stable\nCOPY site /www\nEXPOSE {port}\n"
    'CMD ["httpd", "-f", "-p", "127.0.0.1:{port}", "-h", "/www"]\n'
)
COMPOSE = (
    "services:\n  web:\n    build: .\n    ports: ['{port}']\n"
    "x-prdeck:\n  ingress:\n    service: web\n    port: {port}\n"
)


def require_docker() -> None:
    """Skip without a Docker engine, except under tests/run as root, where one must be there."""
    from prdeck.services.launch.builder import BuildError, docker_client

    try:
        docker_client().close()
    except BuildError as exc:
        if os.environ.get("PRDECK_TEST_REQUIRE_DOCKER"):
            pytest.fail(f"tests/run started a Docker engine but it is not reachable: {exc}")
        pytest.skip(f"no Docker engine: {exc.title}")


def app_seed(
    port: int, pulls: list[dict[str, Any]] | None = None, files: dict[str, str] | None = None
) -> dict[str, Any]:
    """A repository whose image serves site/index.html with busybox httpd; PR 1 changes the page."""
    base = {
        "Dockerfile": DOCKERFILE.format(port=port),
        ".prdeck/compose.yml": COMPOSE.format(port=port),
        "site/index.html": "<h1>main page</h1>\n",
        ".dockerignore": "*.md\n",
        "README.md": "# app\n",
        **(files or {}),
    }
    default_pull = {"number": 1, "title": "New page", "author": "dev", "branch": "feature/page",
                    "files": {"site/index.html": "<h1>page of PR 1</h1>\n"}}
    return {
        "users": [{"login": "maintainer"}],
        "repos": [{"name": "octo/app", "default_branch": "main", "files": base, "pulls": pulls or [default_pull]}],
        "kube": {"timing": dict(FAST)},
    }


@dataclass
class Rig:
    stack: SandboxStack
    github: GitHubService
    cluster: ClusterService
    launcher: Launcher
    events: list[LaunchEvent] = field(default_factory=list)

    def launch(self, number: int = 1, **options: Any) -> Any:
        return self.launcher.launch(RepoRef("octo", "app"), number, self.events.append, **options)


def make_rig(stack: SandboxStack, tmp: Path, builder: Any, retries: int = 3, **values: Any) -> Rig:
    """The launch pipeline on the stack, wired by :func:`open_launcher` like every deck; ``values``: config keys."""
    config = stack_config(stack, **{"github.retries": retries, "preview.rollout_timeout": 30, **values})
    launcher = open_launcher(config, token=stack.github.token, builder=builder, workdir=tmp)
    return Rig(stack, launcher.github, launcher.cluster, launcher)


def stack_config(stack: SandboxStack, **values: Any) -> Config:
    """The config a maintainer would write for this stack (GitHub URL, kubeconfig, registry), plus ``values``."""
    return Config.defaults().with_values({**stack.config_values(), **values}, "test")


def stack_deck(stack: SandboxStack, workdir: Path, builder: Any, repo: str = "octo/app", **values: Any) -> Deck:
    """A deck on the stack from :func:`open_deck`, the one wiring point; journal and mirrors under ``workdir``."""
    return open_deck(stack_config(stack, **values), [RepoRef.parse(repo)], token=stack.github.token,
                     builder=builder, workdir=workdir)


def started(seed: dict[str, Any], builds: str) -> Iterator[SandboxStack]:
    with SandboxStack(seed, builds=builds) as stack:
        yield stack
