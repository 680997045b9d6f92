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

from prdeck.services.errors import ConfigError
from prdeck.services.models import RepoRef

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


_DOMAIN = r"([a-z0-9]([-a-z0-9]*[a-z0-9])?\.?)*"
_REGISTRY = r"([A-Za-z0-9.-]+(:\d+)?(/[a-z0-9._/-]+)?)?"


def _is_string_table(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _is_repo_list(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    try:
        for item in value:
            RepoRef.parse(item)
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
        "cluster.domain",
        "",
        "Wildcard DNS domain for preview Ingresses: pr-<n>-<owner>-<repo>.<domain>. Empty: no Ingress; `o` opens "
        "a port-forward relay on 127.0.0.1 instead.",
        "a DNS name such as previews.example.com, or empty",
        lambda value: isinstance(value, str) and re.fullmatch(_DOMAIN, value) is not None,
        env="PRDECK_DOMAIN",
    ),
    Key("cluster.ingress_class", "", "IngressClass of preview Ingresses. Empty: the cluster's default.",
        "a class name, or empty", lambda value: isinstance(value, str)),
    Key("cluster.tls_secret", "", "TLS secret (in each preview namespace) for the Ingress; set it to get https URLs.",
        "a secret name, or empty", lambda value: isinstance(value, str)),
    Key("cluster.ingress_namespace", "ingress-nginx",
        "Namespace of the ingress controller: the only one the default-deny NetworkPolicy admits.",
        "a namespace name", lambda value: isinstance(value, str) and bool(value)),
    Key(
        "registry.url",
        "",
        "Registry (and optional path) that preview images are pushed to, e.g. registry.example.com/previews. "
        "The cluster must be able to pull from it.",
        "host[:port][/path], or empty",
        lambda value: isinstance(value, str) and re.fullmatch(_REGISTRY, value) is not None,
        env="PRDECK_REGISTRY",
    ),
    Key("registry.username", "", "Registry user name; the password comes from $PRDECK_REGISTRY_PASSWORD. Empty: "
        "the Docker config's credentials (docker login).", "a user name, or empty",
        lambda value: isinstance(value, str), env="PRDECK_REGISTRY_USERNAME"),
    Key("preview.spec", "", "Path of the preview spec in the repository. Empty: .prdeck/compose.yml, "
        ".prdeck/manifests/, then a compose file with x-uffizzi under .github/uffizzi/.",
        "a path, or empty", lambda value: isinstance(value, str)),
    Key("preview.variables", {}, "Values for ${VAR} in compose files; they win over the environment.",
        "a table of strings", _is_string_table),
    Key("preview.images", {}, "Manifests form: images built from the PR, as {name = {context, dockerfile}}.",
        "a table of tables", lambda value: isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())
    ),
    Key("preview.secrets", {}, "Secret values for previews: {NAME = \"ENV_VAR\"} puts $ENV_VAR into the preview's "
        "secret as NAME. Never given to fork PRs unless preview.fork_secrets is true.",
        "a table of environment variable names", _is_string_table),
    Key("preview.fork_secrets", False, "Give preview.secrets to fork PRs too (they run untrusted code).",
        "true or false", lambda value: isinstance(value, bool)),
    Key("preview.ttl_hours", 72, "Hours until a preview expires (its namespace's expires-at annotation).",
        "a whole number of hours from 1 to 8760",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 8760),
    Key("preview.rollout_timeout", 300, "Seconds to wait for a preview's pods to become ready.",
        "a whole number of seconds from 10 to 3600",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and 10 <= value <= 3600),
    Key("preview.sticky_comment", False, "Keep one PR comment with the preview's state, updated in place.",
        "true or false", lambda value: isinstance(value, bool)),
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

    @classmethod
    def defaults(cls) -> Config:
        """Every key at its default, no file (``prdeck demo`` starts from here)."""
        values = {key.name: key.default for key in KEYS}
        return cls(Path(os.devnull), False, values, dict.fromkeys(values, "default"))

    def with_values(self, values: Mapping[str, Any], source: str) -> Config:
        """A copy with several keys set, each validated like the file."""
        config = self
        for name, value in values.items():
            config = config.with_override(name, value, source)
        return config

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
