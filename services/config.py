"""User configuration: one TOML file, every key declared (and documented) in :data:`KEYS`.

The file lives in platformdirs' user config dir (``~/.config/prdeck/config.toml`` on Linux); the
``PRDECK_CONFIG`` environment variable or ``--config`` point elsewhere. A missing file means defaults.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from prdeck.services.config_keys import KEYS, KEYS_BY_NAME, Key
from prdeck.services.errors import ConfigError


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
