"""prdeck.services.config and the `prdeck config` commands."""

from __future__ import annotations

import tomllib

import pytest

from prdeck.services.config import KEYS, config_path, load_config
from prdeck.services.errors import ConfigError
from tests.conftest import ROOT, run_prdeck


def test_defaults_when_the_file_is_missing(isolated_env):
    config = load_config()
    assert not config.exists
    assert config.path == isolated_env / "prdeck.toml"
    assert config.api_url == "https://api.github.com"
    assert config["repos"] == [] and config["github.timeout"] == 10 and config["ui.refresh_seconds"] == 60


def test_platform_config_dir_without_override(monkeypatch, isolated_env):
    monkeypatch.delenv("PRDECK_CONFIG")
    assert config_path() == isolated_env / ".config" / "prdeck" / "config.toml"


def test_file_values_and_environment_override(tmp_path, monkeypatch):
    path = tmp_path / "c.toml"
    path.write_text(
        'repos = ["a/b", "c/d"]\n[github]\napi_url = "https://ghe.test/api/v3"\ntimeout = 3\n'
        "[ui]\nrefresh_seconds = 30\n"
    )
    config = load_config(path)
    assert config["repos"] == ["a/b", "c/d"] and config["github.timeout"] == 3
    assert config.api_url == "https://ghe.test/api/v3" and config.sources["github.api_url"] == "file"
    monkeypatch.setenv("PRDECK_GITHUB_URL", "http://127.0.0.1:9/api/v3")
    monkeypatch.setenv("PRDECK_REPOS", "x/y, z/w")
    config = load_config(path)
    assert config.api_url == "http://127.0.0.1:9/api/v3" and config.sources["github.api_url"] == "PRDECK_GITHUB_URL"
    assert config["repos"] == ["x/y", "z/w"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[github]\ntimeout = "soon"\n', "key 'github.timeout' must be a whole number of seconds from 1 to 600"),
        ('repos = [1]\n', "key 'repos' must be a list of \"owner/name\" strings"),  # an entry's form: on use
        ('[github]\napi_url = "ftp://x"\n', "key 'github.api_url' must be an http(s) URL"),
        ("[ui]\nrefresh_seconds = 1\n", "key 'ui.refresh_seconds' must be a whole number of seconds, at least 5"),
        ("[github]\ntokn = 1\n", "unknown key 'github.tokn'"),
        ("repos = [\n", "Cannot parse config file"),
    ],
)
def test_invalid_config_names_file_key_and_expectation(tmp_path, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


def test_cli_reports_invalid_config_in_one_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[github]\ntimeout = -1\n")
    result = run_prdeck("ls", "--repo", "a/b", "--config", str(path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"prdeck: Invalid config value in {path}: key 'github.timeout'" in result.stderr


def test_config_path_honours_env_and_flag(tmp_path, isolated_env):
    assert run_prdeck("config", "path").stdout.strip() == str(isolated_env / "prdeck.toml")
    assert run_prdeck("config", "path", "--config", str(tmp_path / "x.toml")).stdout.strip() == str(tmp_path / "x.toml")


def test_config_show_documents_every_key_and_is_valid_toml(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('repos = ["a/b"]\n')
    result = run_prdeck("config", "show", "--config", str(path), env={"GH_TOKEN": "ghp_secret_value_123"})
    assert result.returncode == 0, result.stderr
    for key in KEYS:
        assert f"{key.name} = " in result.stdout
        assert key.doc in result.stdout
    assert "ghp_secret_value_123" not in result.stdout
    assert "from GH_TOKEN (value hidden)" in result.stdout
    shown = tomllib.loads(result.stdout)
    assert shown["repos"] == ["a/b"] and shown["github"]["timeout"] == 10


def test_readme_documents_every_key():
    readme = (ROOT / "README.md").read_text()
    for key in KEYS:
        assert f"`{key.name}`" in readme, f"README lacks {key.name}"
