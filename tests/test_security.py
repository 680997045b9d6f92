"""What a pull request, or a link to one, can make prdeck do with the maintainer's credentials (issue 12).

Each test is a finding of the audit: it failed on the code before the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from prdeck.services.sandbox.images import free_port
from prdeck.services.sandbox.stack import SandboxStack
from prdeck.tui.cli.launch import HIDDEN
from tests.conftest import run_prdeck
from tests.launch_support import app_seed

SECRET = "s3cr3t-value-of-the-maintainer"


@pytest.fixture(scope="module")
def stack() -> Iterator[SandboxStack]:
    with SandboxStack(app_seed(free_port()), builds="simulate") as running:
        yield running


def env_for(stack: SandboxStack, tmp: Path, config: str = "") -> dict[str, str]:
    (tmp / "config.toml").write_text(config, encoding="utf-8")
    return {**{k: str(v) for k, v in stack.info()["env"].items()}, "PRDECK_REPOS": "octo/app",
            "PRDECK_CONFIG": str(tmp / "config.toml"), "XDG_STATE_HOME": str(tmp / "state"),
            "XDG_CACHE_HOME": str(tmp / "cache"), "PRDECK_TEST_SECRET": SECRET}


def test_render_shows_secret_values_only_when_asked(stack: SandboxStack, tmp_path: Path) -> None:
    """Finding 9: `prdeck render` printed preview.secrets values in plain text."""
    env = env_for(stack, tmp_path, '[preview]\nsecrets = { API_KEY = "PRDECK_TEST_SECRET" }\n')
    shown = run_prdeck("render", "1", env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "kind: Secret" in shown.stdout and "API_KEY: <hidden>" in shown.stdout, shown.stdout
    assert SECRET not in shown.stdout + shown.stderr
    revealed = run_prdeck("render", "1", "--show-secrets", env=env, timeout=120)
    assert revealed.returncode == 0, revealed.stderr
    assert f"API_KEY: {SECRET}" in revealed.stdout and HIDDEN not in revealed.stdout


@pytest.mark.parametrize("command", [["status"], ["logs"], ["destroy", "--yes"], ["launch"], ["render"], ["open"]])
def test_a_pull_request_url_of_another_host_is_refused(stack: SandboxStack, tmp_path: Path, command: list[str]) -> None:
    """Finding 4: https://evil.example/o/r/pull/1 acted on the configured GitHub's o/r#1."""
    done = run_prdeck(command[0], "https://evil.example/octo/app/pull/1", *command[1:], env=env_for(stack, tmp_path))
    assert done.returncode == 2, done.stderr
    assert "is a pull request on evil.example, not on the configured GitHub" in done.stderr
    assert stack.github.api_url in done.stderr


def test_a_pull_request_url_of_the_configured_github_still_works(stack: SandboxStack, tmp_path: Path) -> None:
    host = stack.github.api_url.split("//", 1)[1].split("/", 1)[0]
    done = run_prdeck("render", f"http://{host}/octo/app/pull/1", env=env_for(stack, tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert "kind: Deployment" in done.stdout
