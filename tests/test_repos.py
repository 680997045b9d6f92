"""Which repository prdeck works on."""

from __future__ import annotations

import subprocess

import pytest

from prdeck.services.errors import UsageError
from prdeck.services.github.repos import repo_from_remote_url, resolve_repos
from prdeck.services.models import RepoRef


@pytest.mark.parametrize(
    ("url", "api_url"),
    [
        ("https://github.com/octo/app.git", "https://api.github.com"),
        ("https://github.com/octo/app", "https://api.github.com"),
        ("https://ghe.example.com/octo/app.git/", "https://ghe.example.com/api/v3"),
        ("git@github.com:octo/app.git", "https://api.github.com"),
        ("github.com:octo/app.git", "https://api.github.com"),
        ("ssh://git@github.com/octo/app.git", "https://api.github.com"),
        ("ssh://git@ssh.github.com:443/octo/app.git", "https://api.github.com"),
        ("ssh://git@ghe.example.com:2222/octo/app", "https://ghe.example.com/api/v3"),
        ("git@GHE.example.com:octo/app", "https://ghe.example.com/api/v3"),
    ],
)
def test_remote_url_forms(url, api_url):
    assert repo_from_remote_url(url, api_url) == RepoRef("octo", "app")


@pytest.mark.parametrize("text", ["octo", "octo/", "/app", "a/b/c", "o c/app", "octo/.."])
def test_bad_repo_names(text):
    with pytest.raises(ValueError):
        RepoRef.parse(text)


def test_precedence_flag_then_config_then_checkout(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "remote", "add", "origin", "git@github.com:from/checkout.git"], cwd=tmp_path, check=True)
    assert resolve_repos("flag/repo", ["conf/repo"], tmp_path) == [RepoRef("flag", "repo")]
    assert resolve_repos(None, ["conf/repo", "conf/two"], tmp_path) == [RepoRef("conf", "repo"), RepoRef("conf", "two")]
    assert resolve_repos(None, [], tmp_path) == [RepoRef("from", "checkout")]


def test_no_repository_anywhere_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError) as caught:
        resolve_repos(None, [], tmp_path)
    assert "--repo owner/name" in caught.value.detail
    with pytest.raises(UsageError):
        resolve_repos("nonsense", [], tmp_path)


@pytest.mark.parametrize(("origin", "api_url"), [
    ("https://gitlab.com/octo/app.git", "https://api.github.com"),
    ("git@gitlab.example.com:octo/app.git", "https://api.github.com"),
    ("/srv/app", "https://api.github.com"),
    ("/srv/octo/app.git", "https://api.github.com"),
    ("file:///srv/octo/app.git", "https://api.github.com"),
    ("https://github.com/octo/app.git", "https://ghe.example.com/api/v3"),  # a GitHub, but not the configured one
])
def test_an_origin_on_another_host_names_no_repository(tmp_path, origin, api_url):
    """A GitLab checkout or a local path must not make prdeck list (and launch) a same-named GitHub repository."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "remote", "add", "origin", origin], cwd=tmp_path, check=True)
    with pytest.raises(UsageError) as caught:
        resolve_repos(None, [], tmp_path, api_url=api_url)
    assert caught.value.title == "No repository given" and "--repo owner/name" in caught.value.detail
    assert origin in caught.value.detail


def test_an_origin_on_the_configured_enterprise_host_names_the_repository(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "remote", "add", "origin", "git@ghe.example.com:octo/app.git"], cwd=tmp_path, check=True)
    assert resolve_repos(None, [], tmp_path, api_url="https://ghe.example.com/api/v3") == [RepoRef("octo", "app")]


def test_a_bad_configured_entry_is_named_and_an_explicit_repo_overrides_it(tmp_path):
    from prdeck.services.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        resolve_repos(None, ["acme/app", "bad entry"], tmp_path, source="$PRDECK_REPOS")
    assert caught.value.title == "Invalid repository 'bad entry' in $PRDECK_REPOS"
    assert "--repo owner/name" in caught.value.detail
    assert resolve_repos("acme/docs", ["acme/app", "bad entry"], tmp_path) == [RepoRef("acme", "docs")]


def test_prdeck_repos_with_a_bad_entry_no_longer_breaks_every_command(tmp_path):
    from tests.conftest import run_prdeck

    bad = {"PRDECK_REPOS": "acme/app,not a repo", "PRDECK_CONFIG": str(tmp_path / "none.toml")}
    failing = run_prdeck("status", "1", env=bad)
    assert failing.returncode == 1 and failing.stderr.startswith(
        "prdeck: Invalid repository 'not a repo' in $PRDECK_REPOS"), failing.stderr
    shown = run_prdeck("config", "show", env=bad)
    assert shown.returncode == 0, "the setting can still be looked at"


@pytest.mark.parametrize("text", ["0", "#0", "acme/app#0", "2147483648", "99999999999999999999", "١", "١٠١",
                                  "https://github.com/acme/app/pull/0"])
def test_pull_numbers_out_of_range_or_not_ascii_are_usage_errors(text):
    from prdeck.tui.cli.commands import parse_pull_ref

    with pytest.raises(UsageError):
        parse_pull_ref(text, [RepoRef("acme", "app")], "https://api.github.com")


def test_a_bare_number_with_several_repositories_is_ambiguous_until_looked_up():
    from prdeck.tui.cli.commands import AmbiguousPull, parse_pull_ref

    repos = [RepoRef("acme", "app"), RepoRef("acme", "docs")]
    assert parse_pull_ref("2147483647", repos[:1], "https://api.github.com") == (repos[0], 2147483647)
    with pytest.raises(AmbiguousPull) as caught:
        parse_pull_ref("7", repos, "https://api.github.com")
    assert caught.value.number == 7 and caught.value.exit_code == 2
