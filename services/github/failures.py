"""GitHub failures as prdeck errors: every PyGithub or network exception leaves :mod:`prdeck.services.github`
as one of :mod:`prdeck.services.errors`, through :func:`github_errors`, so callers handle a single hierarchy."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import urllib3
from github import GithubException
from github.GithubException import (
    BadCredentialsException,
    RateLimitExceededException,
    UnknownObjectException,
)

from prdeck.services.errors import (
    AuthError,
    NotFound,
    PrdeckError,
    RateLimited,
    RemoteError,
    Unavailable,
)


def _reset_time(headers: dict[str, Any] | None) -> datetime | None:
    lowered = {key.lower(): value for key, value in (headers or {}).items()}
    value = lowered.get("x-ratelimit-reset")
    if value is None or not str(value).isdigit():
        return None
    return datetime.fromtimestamp(int(value), UTC)


def _rate_limited(headers: dict[str, Any] | None, message: str = "") -> RateLimited:
    lowered = {key.lower(): value for key, value in (headers or {}).items()}
    retry_after = str(lowered.get("retry-after", ""))
    if "secondary rate limit" in message.lower() or retry_after.isdigit():
        wait = int(retry_after) if retry_after.isdigit() else 60
        return RateLimited(
            "GitHub's secondary rate limit was hit (too many requests at once or points in a minute)",
            f"prdeck waits {wait}s before asking again; other tools using the token may be busy too",
            reset_at=datetime.now(UTC) + timedelta(seconds=wait),
        )
    reset_at = _reset_time(headers)
    when = f"it resets at {reset_at.astimezone():%H:%M:%S} ({_from_now(reset_at)})" if reset_at else "wait a while"
    return RateLimited("GitHub rate limit exhausted", f"{when}, then try again", reset_at=reset_at)


def _from_now(when: datetime) -> str:
    """``in 12 min``, ``in 40 s``: a bare clock time does not say how long to wait (nor in which time zone)."""
    seconds = max(int((when - datetime.now(UTC)).total_seconds()), 0)
    return f"in {seconds} s" if seconds < 60 else f"in {(seconds + 59) // 60} min"


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", ""))
    return str(data.get("message") or exc.message or "")


def translate(exc: BaseException, api_url: str, doing: str) -> PrdeckError:
    """Map a PyGithub / requests exception to prdeck's error hierarchy."""
    if isinstance(exc, BadCredentialsException) or (isinstance(exc, GithubException) and exc.status == 401):
        return AuthError(
            "GitHub rejected the token (401 Bad credentials)", "run `prdeck login` again or set a valid GH_TOKEN"
        )
    if isinstance(exc, RateLimitExceededException):
        return _rate_limited(exc.headers, _message(exc))
    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        errors = data.get("errors")
        errors = errors if isinstance(errors, list) else []
        if any(isinstance(err, dict) and err.get("type") == "RATE_LIMITED" for err in errors):
            return _rate_limited(exc.headers)
        if isinstance(exc, UnknownObjectException) or exc.status == 404:
            return NotFound(
                f"Not found while {doing}",
                f"{(_message(exc) or 'GitHub answered 404').rstrip('.')}; "
                "check the name and that your token can see the repository",
            )
        if exc.status >= 500:
            return Unavailable(
                f"GitHub failed while {doing} (HTTP {exc.status})", "GitHub is having trouble; try again in a moment"
            )
        return RemoteError(f"GitHub refused {doing} (HTTP {exc.status})", _message(exc))
    if _is_timeout(exc):
        return Unavailable(f"GitHub at {api_url} timed out while {doing}", "check your network or raise github.timeout")
    if isinstance(exc, requests.exceptions.RequestException):
        return Unavailable(
            f"Cannot reach GitHub at {api_url}", f"{_short_network_reason(exc)}; check your network or github.api_url"
        )
    raise exc


def _is_timeout(exc: BaseException) -> bool:
    """True for a timeout, also when urllib3's retries wrapped it in a ConnectionError/MaxRetryError."""
    if isinstance(exc, requests.exceptions.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    # NewConnectionError (e.g. connection refused) subclasses urllib3's TimeoutError for history's sake.
    return isinstance(reason, urllib3.exceptions.TimeoutError) and not isinstance(
        reason, urllib3.exceptions.NewConnectionError
    )


def _short_network_reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "Max retries exceeded"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


@contextlib.contextmanager
def github_errors(api_url: str, doing: str) -> Iterator[None]:
    """Re-raise anything PyGithub or requests throws as a :class:`PrdeckError`."""
    try:
        yield
    except PrdeckError:
        raise
    except (GithubException, requests.exceptions.RequestException) as exc:
        raise translate(exc, api_url, doing) from exc
    except RuntimeError as exc:  # PyGithub refuses a 301 to another host or scheme (with the token: rightly)
        raise Unavailable(
            f"GitHub at {api_url} redirected elsewhere while {doing}",
            "prdeck sends the token to the configured API only and follows no redirect to another host; "
            "set github.api_url (or --github-url) to the API's own address (GitHub Enterprise: https://HOST/api/v3)",
        ) from exc
    except (TypeError, KeyError, AttributeError, ValueError) as exc:  # an answer that is not GitHub's JSON
        raise RemoteError(
            f"{api_url} did not answer like GitHub's API while {doing}",
            "it sent a redirect or a page that is not the API's JSON (a proxy or login page?); check github.api_url "
            "or --github-url (GitHub Enterprise: https://HOST/api/v3)",
        ) from exc
