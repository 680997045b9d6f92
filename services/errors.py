"""One error hierarchy for everything prdeck's services can report.

Every error carries a short human ``title`` (what happened) and a ``detail`` (what to do about it), so the
CLI prints one clear line and the TUI shows one notification without knowing where the error came from.
"""

from __future__ import annotations

from datetime import datetime


class PrdeckError(Exception):
    """Base class: an error a user can act on."""

    exit_code = 1

    def __init__(self, title: str, detail: str = "") -> None:
        super().__init__(title if not detail else f"{title}: {detail}")
        self.title = title
        self.detail = detail


class ConfigError(PrdeckError):
    """The configuration file cannot be read or holds an invalid value."""


class UsageError(PrdeckError):
    """The command line asked for something that cannot be done as written."""

    exit_code = 2


class AuthError(PrdeckError):
    """No token, or GitHub refused the token (401)."""


class NotFound(PrdeckError):
    """The repository or pull request does not exist, or the token cannot see it (GitHub answers 404 for both)."""


class RateLimited(PrdeckError):
    """GitHub's rate limit is exhausted until ``reset_at``."""

    def __init__(self, title: str, detail: str = "", reset_at: datetime | None = None) -> None:
        super().__init__(title, detail)
        self.reset_at = reset_at


class Unavailable(PrdeckError):
    """A service could not be reached, timed out, or answered with a server error."""


class KeyringUnavailable(PrdeckError):
    """No usable system keyring (Secret Service) to keep a token in."""


class RemoteError(PrdeckError):
    """A service answered with an error prdeck has no better name for (e.g. a 422 or a GraphQL error)."""
