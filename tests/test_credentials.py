"""Sign-in: the real Secret Service (gnome-keyring, started by tests/run), env variables and `gh`."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import keyring
import pytest

from prdeck.services.github.credentials import SERVICE, Token, api_host, resolve_token, store_token
from tests.conftest import run_prdeck

pytestmark = pytest.mark.usefixtures("secret_service")


def _ls(box, **env):
    return run_prdeck("ls", "--json", "--repo", "acme/docs", "--github-url", box.api_url, env=env)


def test_login_checks_stores_and_logout_removes(sandbox, isolated_env):
    host = api_host(sandbox.api_url)
    assert _ls(sandbox).returncode == 1, "not signed in yet"
    result = run_prdeck("login", "--with-token", "--github-url", sandbox.api_url, input=sandbox.token + "\n")
    assert result.returncode == 0, result.stderr
    assert f"Logged in to {host} as demo-maintainer (scopes: repo, read:org, workflow)" in result.stdout
    assert sandbox.token not in result.stdout + result.stderr
    assert keyring.get_password(SERVICE, host) == sandbox.token
    assert resolve_token(sandbox.api_url) == Token(sandbox.token, "keyring")
    listed = _ls(sandbox)
    assert listed.returncode == 0, listed.stderr
    assert '"number": 7' in listed.stdout
    out = run_prdeck("logout", "--github-url", sandbox.api_url)
    assert out.returncode == 0 and f"Removed the token for {host}" in out.stdout
    assert keyring.get_password(SERVICE, host) is None
    again = run_prdeck("logout", "--github-url", sandbox.api_url)
    assert again.returncode == 0 and "nothing to remove" in again.stdout
    not_signed_in = _ls(sandbox)
    assert not_signed_in.returncode == 1
    assert not_signed_in.stderr.startswith("prdeck: Not signed in to GitHub: run `prdeck login`")


def test_login_refuses_a_bad_token_and_stores_nothing(sandbox):
    result = run_prdeck("login", "--with-token", "--github-url", sandbox.api_url, input="ghp_not_a_token\n")
    assert result.returncode == 1
    assert "GitHub rejected the token (401 Bad credentials)" in result.stderr
    assert "ghp_not_a_token" not in result.stdout + result.stderr
    assert keyring.get_password(SERVICE, api_host(sandbox.api_url)) is None


def test_login_without_a_terminal_or_token_is_a_usage_error(sandbox):
    empty = run_prdeck("login", "--with-token", "--github-url", sandbox.api_url, input="")
    assert empty.returncode == 2 and "No token given" in empty.stderr
    no_tty = run_prdeck("login", "--github-url", sandbox.api_url, input="")
    assert no_tty.returncode == 2 and "--with-token" in no_tty.stderr


def test_order_keyring_then_gh_token_then_github_token_then_gh_cli(tmp_path, monkeypatch):
    api = "https://ghe-precedence.test/api/v3"
    fake_gh = tmp_path / "bin" / "gh"
    fake_gh.parent.mkdir()
    fake_gh.write_text(
        '#!/bin/sh\n[ "$1 $2 $3 $4" = "auth token --hostname ghe-precedence.test" ] && echo from-gh-cli\n'
    )
    fake_gh.chmod(fake_gh.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake_gh.parent}:{os.environ['PATH']}")
    assert resolve_token(api, {}) == Token("from-gh-cli", "gh auth token")
    assert resolve_token(api, {"GITHUB_TOKEN": "t2"}) == Token("t2", "GITHUB_TOKEN")
    assert resolve_token(api, {"GITHUB_TOKEN": "t2", "GH_TOKEN": "t1"}) == Token("t1", "GH_TOKEN")
    store_token(api, "from-keyring")
    try:
        assert resolve_token(api, {"GH_TOKEN": "t1"}) == Token("from-keyring", "keyring")
    finally:
        keyring.delete_password(SERVICE, api_host(api))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert resolve_token(api, {}) is None


def test_token_value_never_in_repr():
    assert "s3cret" not in repr(Token("s3cret", "GH_TOKEN"))


NO_KEYRING = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"}


def test_without_a_keyring_login_explains_the_environment_variable(sandbox, isolated_env):
    result = run_prdeck("login", "--with-token", "--github-url", sandbox.api_url, input=sandbox.token, env=NO_KEYRING)
    assert result.returncode == 1
    assert "keyring" in result.stderr and "GH_TOKEN" in result.stderr
    assert "the token works (login demo-maintainer, scopes: " in result.stderr, "the check's answer is still told"
    assert "Traceback" not in result.stderr
    assert sandbox.token not in result.stdout + result.stderr
    for path in Path(isolated_env).rglob("*"):
        if path.is_file():
            assert sandbox.token.encode() not in path.read_bytes(), f"token written to {path}"


def test_without_a_keyring_environment_tokens_still_work(sandbox):
    listed = _ls(sandbox, GITHUB_TOKEN=sandbox.token, **NO_KEYRING)
    assert listed.returncode == 0, listed.stderr
    shown = run_prdeck("config", "show", env={"GITHUB_TOKEN": "x", **NO_KEYRING})
    assert "from GITHUB_TOKEN (value hidden)" in shown.stdout
    assert "# keyring: " in shown.stdout
