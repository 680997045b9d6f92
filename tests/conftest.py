"""Shared fixtures: a real GitHub sandbox on loopback, an isolated home, and the real keyring.

``tests/run`` starts a D-Bus session with gnome-keyring (a real Secret Service) and installs GitHub's
published GraphQL schema; tests that need them fail, loudly, when they are missing instead of skipping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prdeck.services.sandbox.github.sandbox import GitHubSandbox

ROOT = Path(__file__).resolve().parent.parent
PRDECK = str(Path(sys.executable).parent / "prdeck")


def pull(number: int, **extra: Any) -> dict[str, Any]:
    """A seed pull request with sensible defaults."""
    return {
        "number": number,
        "title": f"Change {number}",
        "author": "alice",
        "branch": f"feature/{number}",
        "ci": "SUCCESS",
        "review": None,
        **extra,
    }


def seed_with(pulls: list[dict[str, Any]], name: str = "octo/app", **repo: Any) -> dict[str, Any]:
    return {
        "users": [{"login": "maintainer"}],
        "repos": [{"name": name, "default_branch": "main", "files": {"README.md": "# app\n"}, "pulls": pulls, **repo}],
    }


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No real config, no token from the developer's environment, a private HOME."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("PRDECK_CONFIG", str(home / "prdeck.toml"))
    for name in (
        "GH_TOKEN",
        "GITHUB_TOKEN",
        "PRDECK_GITHUB_URL",
        "PRDECK_REPOS",
        "KUBECONFIG",
        "PRDECK_KUBECONFIG",
        "PRDECK_KUBE_CONTEXT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return home


@pytest.fixture
def sandbox() -> Iterator[GitHubSandbox]:
    """The demo-seeded GitHub sandbox."""
    with GitHubSandbox() as running:
        yield running


@pytest.fixture
def make_sandbox() -> Iterator[Any]:
    """Start sandboxes with custom seeds; all are stopped at the end of the test."""
    started: list[GitHubSandbox] = []

    def start(seed: dict[str, Any]) -> GitHubSandbox:
        box = GitHubSandbox(seed).start()
        started.append(box)
        return box

    yield start
    for box in started:
        box.stop()


@pytest.fixture
def make_kube() -> Iterator[Any]:
    """Start Kubernetes sandboxes (fast pod timings) with custom seeds; all are stopped at the end."""
    from prdeck.services.sandbox.kube.sandbox import KubeSandbox
    from tests.kube_support import fast_seed

    started: list[KubeSandbox] = []

    def start(seed: dict[str, Any] | None = None, **options: Any) -> KubeSandbox:
        box = KubeSandbox(fast_seed(seed), **options).start()
        started.append(box)
        return box

    yield start
    for box in started:
        box.stop()


@pytest.fixture
def kube(make_kube: Any) -> Any:
    return make_kube()


def admin(box: GitHubSandbox, path: str, body: dict[str, Any] | None = None, method: str = "POST") -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{box.admin_url}/{path}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def stats(box: GitHubSandbox) -> dict[str, int]:
    return admin(box, "stats", method="GET")


def run_prdeck(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The installed ``prdeck`` console script, as a user runs it."""
    return subprocess.run(
        [PRDECK, *args],
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def secret_service() -> None:
    """Assert the real Secret Service is reachable (tests/run starts gnome-keyring in a D-Bus session)."""
    import keyring

    backend = keyring.get_keyring()
    assert "SecretService" in type(backend).__module__, (
        f"keyring backend is {backend!r}: run the suite through tests/run, which starts gnome-keyring"
    )
