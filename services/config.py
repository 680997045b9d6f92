"""User configuration: one TOML file, every key declared (and documented) in :data:`KEYS`.

The file lives in platformdirs' user config dir (``~/.config/prdeck/config.toml`` on Linux); the
``PRDECK_CONFIG`` environment variable or ``--config`` point elsewhere. A missing file means defaults.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import platformdirs

from services.errors import ConfigError
from services.repos import parse_repo

DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class Key:
    """One documented configuration key."""

    name: str
    """Dotted name: ``github.timeout`` is ``timeout`` in the ``[github]`` table."""
    default: Any
    doc: str
    expected: str
    """What a valid value looks like, for error messages."""
    check: Callable[[Any], bool]
    env: str | None = None
    """An environment variable that overrides the file."""
    from_env: Callable[[str], Any] = str
    """How to read that variable's text."""


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and urlparse(value).scheme in ("http", "https") and bool(urlparse(value).netloc)


def _is_seconds(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 600


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10


def _is_refresh(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 5


def _is_prefix(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[a-z]([-a-z0-9]{0,18}[a-z0-9])?", value) is not None


def _is_repo_list(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    try:
        for item in value:
            parse_repo(item)
    except (ValueError, TypeError):
        return False
    return True


KEYS: tuple[Key, ...] = (
    Key(
        "repos",
        [],
        'Repositories to list, as "owner/name". Empty: the repository of the current git checkout.',
        'a list of "owner/name" strings',
        _is_repo_list,
        env="PRDECK_REPOS",
        from_env=lambda text: [item.strip() for item in text.split(",") if item.strip()],
    ),
    Key(
        "github.api_url",
        DEFAULT_API_URL,
        "GitHub REST API URL. For GitHub Enterprise Server use https://HOST/api/v3.",
        "an http(s) URL",
        _is_url,
        env="PRDECK_GITHUB_URL",
    ),
    Key(
        "github.timeout",
        10,
        "Seconds to wait for one GitHub answer before retrying.",
        "a whole number of seconds from 1 to 600",
        _is_seconds,
    ),
    Key(
        "github.retries",
        3,
        "How often to retry a failed GitHub request (network errors, 5xx), with backoff.",
        "a whole number from 0 to 10",
        _is_count,
    ),
    Key(
        "cluster.kubeconfig",
        "",
        "Kubeconfig file for previews. Empty: $KUBECONFIG, else ~/.kube/config.",
        "a file path, or empty",
        lambda value: isinstance(value, str),
        env="PRDECK_KUBECONFIG",
    ),
    Key(
        "cluster.context",
        "",
        "Kubeconfig context to use. Empty: the kubeconfig's current context.",
        "a context name, or empty",
        lambda value: isinstance(value, str),
        env="PRDECK_KUBE_CONTEXT",
    ),
    Key(
        "cluster.namespace_prefix",
        "prdeck",
        "First part of every preview namespace: <prefix>-<owner>-<repo>-pr-<number>.",
        "lower-case letters, digits and dashes, 1 to 20 characters, starting with a letter",
        _is_prefix,
    ),
    Key(
        "ui.log_lines",
        10000,
        "How many log lines the logs screen keeps; older lines are dropped.",
        "a whole number from 100 to 1000000",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 1_000_000,
    ),
    Key(
        "ui.refresh_seconds",
        60,
        "How often the TUI refreshes the pull request list, in seconds.",
        "a whole number of seconds, at least 5",
        _is_refresh,
    ),
)
KEYS_BY_NAME: dict[str, Key] = {key.name: key for key in KEYS}


@dataclass(frozen=True)
class Config:
    """Validated settings, with where the file was read from."""

    path: Path
    exists: bool
    values: Mapping[str, Any] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    """For each key: "default", "file" or the environment variable it came from."""

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def api_url(self) -> str:
        return str(self.values["github.api_url"]).rstrip("/")

    def with_override(self, name: str, value: Any, source: str) -> Config:
        """A copy with one key set (command-line options), validated like the file."""
        _check(KEYS_BY_NAME[name], value, source)
        return Config(self.path, self.exists, {**self.values, name: value}, {**self.sources, name: source})


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the config file is: ``--config``, else ``PRDECK_CONFIG``, else the platform's config dir."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("PRDECK_CONFIG"):
        return Path(os.environ["PRDECK_CONFIG"]).expanduser()
    return Path(platformdirs.user_config_dir("prdeck")) / "config.toml"


def load_config(explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read, flatten and validate the config file; environment variables override the file."""
    environ = os.environ if environ is None else environ
    path = config_path(explicit)
    raw: dict[str, Any] = {}
    exists = path.is_file()
    if exists:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Cannot parse config file {path}", f"{exc}. Fix the TOML syntax.") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read config file {path}", str(exc)) from exc
    elif path.exists():
        raise ConfigError(f"Config path {path} is not a file", "Point PRDECK_CONFIG or --config at a TOML file.")
    flat = _flatten(raw, path)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in KEYS:
        if key.env and environ.get(key.env):
            value, source = key.from_env(environ[key.env]), key.env
        elif key.name in flat:
            value, source = flat[key.name], "file"
        else:
            value, source = key.default, "default"
        _check(key, value, f"{path}" if source == "file" else source)
        values[key.name] = value
        sources[key.name] = source
    return Config(path, exists, values, sources)


def _flatten(raw: Mapping[str, Any], path: Path, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in raw.items():
        dotted = f"{prefix}{name}"
        is_table = any(key.name.startswith(dotted + ".") for key in KEYS)
        if is_table and isinstance(value, dict):
            flat.update(_flatten(value, path, dotted + "."))
        elif dotted in KEYS_BY_NAME:
            flat[dotted] = value
        else:
            known = ", ".join(key.name for key in KEYS)
            raise ConfigError(f"Invalid config file {path}", f"unknown key '{dotted}' (known keys: {known})")
    return flat


def _check(key: Key, value: Any, where: str) -> None:
    if not key.check(value):
        raise ConfigError(
            f"Invalid config value in {where}",
            f"key '{key.name}' must be {key.expected}, got {value!r}",
        )
