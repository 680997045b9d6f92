"""The GitHub token: from the system keyring, else GH_TOKEN / GITHUB_TOKEN, else ``gh auth token``.

A token is never written to a plaintext file, printed or logged: :class:`Token` hides its value from
``repr``, and when no keyring backend is usable prdeck says so instead of falling back to a file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

import keyring
import keyring.errors

from prdeck.services.errors import KeyringUnavailable

SERVICE = "prdeck"
ENV_VARS = ("GH_TOKEN", "GITHUB_TOKEN")
_NO_KEYRING_HELP = (
    "prdeck keeps tokens only in the system keyring (Secret Service, e.g. gnome-keyring) and never in a file. "
    "Start a keyring daemon, or export GH_TOKEN=<token> in your shell instead of logging in"
)


@dataclass(frozen=True)
class Token:
    """A token and where it came from; the value never shows in ``repr``."""

    value: str = field(repr=False)
    source: str


def api_host(api_url: str) -> str:
    """The keyring user name for an API URL: its host (and port), e.g. ``api.github.com``."""
    return urlparse(api_url).netloc or api_url


def web_host(api_url: str) -> str:
    """The host ``gh`` knows an API by: ``github.com`` for api.github.com, the host itself for Enterprise."""
    host = urlparse(api_url).hostname or api_url
    return "github.com" if host == "api.github.com" else host


def read_keyring(api_url: str) -> str | None:
    """The stored token for this API, or None. Raises KeyringUnavailable when no backend works."""
    try:
        return keyring.get_password(SERVICE, api_host(api_url))
    except keyring.errors.NoKeyringError as exc:
        raise KeyringUnavailable("No system keyring is available", _NO_KEYRING_HELP) from exc
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(f"The system keyring failed ({type(exc).__name__})", _NO_KEYRING_HELP) from exc


def store_token(api_url: str, token: str) -> None:
    """Keep the token in the keyring under service ``prdeck`` and user = API host."""
    try:
        keyring.set_password(SERVICE, api_host(api_url), token)
    except keyring.errors.NoKeyringError as exc:
        raise KeyringUnavailable(
            "No system keyring is available, so the token was not stored", _NO_KEYRING_HELP
        ) from exc
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(
            f"The system keyring refused the token ({type(exc).__name__})", _NO_KEYRING_HELP
        ) from exc


def delete_token(api_url: str) -> bool:
    """Remove the stored token; False when there was none."""
    try:
        keyring.delete_password(SERVICE, api_host(api_url))
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.NoKeyringError as exc:
        raise KeyringUnavailable("No system keyring is available", _NO_KEYRING_HELP) from exc
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(f"The system keyring failed ({type(exc).__name__})", _NO_KEYRING_HELP) from exc
    return True


def gh_cli_token(api_url: str) -> str | None:
    """``gh auth token --hostname HOST`` when the GitHub CLI is installed and signed in."""
    gh = shutil.which("gh")
    if gh is None:
        return None
    try:
        result = subprocess.run(
            [gh, "auth", "token", "--hostname", web_host(api_url)],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    token = result.stdout.strip()
    return token if result.returncode == 0 and token else None


def resolve_token(api_url: str, environ: Mapping[str, str] | None = None) -> Token | None:
    """The first token found: keyring, GH_TOKEN, GITHUB_TOKEN, ``gh auth token``; None if there is none.

    A missing keyring backend is not an error here: the environment still works without one.
    """
    environ = os.environ if environ is None else environ
    try:
        stored = read_keyring(api_url)
    except KeyringUnavailable:
        stored = None
    if stored:
        return Token(stored, "keyring")
    for name in ENV_VARS:
        if environ.get(name, "").strip():
            return Token(environ[name].strip(), name)
    from_gh = gh_cli_token(api_url)
    if from_gh:
        return Token(from_gh, "gh auth token")
    return None
