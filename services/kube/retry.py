"""Retrying what the cluster fails transiently, within a deadline, as kubectl and client-go do.

A 5xx, a 429 (after its ``Retry-After``), a refused, reset or timed-out connection is worth another try: the
API server restarts, a load balancer drops a connection, etcd is slow for a moment. A 4xx is an answer and
never retried. Only the caller's deadline ends the retries; the last failure is then reported as usual.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import urllib3
from kubernetes.client.rest import ApiException

from prdeck.services.errors import PrdeckError
from prdeck.services.kube.errors import CLUSTER_FAILURES, cluster_error

T = TypeVar("T")

FIRST_DELAY = 0.5
MAX_DELAY = 5.0
"""Backoff: 0.5 s, 1 s, 2 s, 4 s, then every 5 s (client-go's reflector waits up to 30 s; a person waits)."""
MAX_RETRY_AFTER = 30.0


class Stopped(Exception):
    """The caller's stop event was set while waiting to retry."""


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` may go away by itself: a 5xx, a 429, or the connection failing (refused, reset, timeout)."""
    if isinstance(exc, ApiException):
        return exc.status == 429 or (exc.status or 0) >= 500
    if isinstance(exc, urllib3.exceptions.MaxRetryError):
        return exc.reason is None or transient(exc.reason)
    if isinstance(exc, urllib3.exceptions.SSLError | urllib3.exceptions.LocationValueError):
        return False
    return isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError | OSError)


def delay_for(exc: BaseException, attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (0 first): the server's ``Retry-After``, else jittered backoff."""
    if isinstance(exc, ApiException) and exc.status in (429, 503):
        headers = exc.headers or {}
        header = headers.get("Retry-After") if hasattr(headers, "get") else None
        try:
            return min(max(float(header), 0.0), MAX_RETRY_AFTER) if header is not None else _backoff(attempt)
        except ValueError:  # an HTTP date: rare from an API server
            return _backoff(attempt)
    return _backoff(attempt)


def _backoff(attempt: int) -> float:
    return min(FIRST_DELAY * 2**attempt, MAX_DELAY) * random.uniform(0.8, 1.0)


class Backoff:
    """Waits between the attempts of one operation, until ``deadline`` (a :func:`time.monotonic` value)."""

    def __init__(self, doing: str, deadline: float, stop: threading.Event | None = None,
                 on_retry: Callable[[str], None] | None = None) -> None:
        self.doing, self.deadline, self.stop, self.on_retry = doing, deadline, stop, on_retry
        self.attempt = 0
        self.first_failure: float | None = None

    def wait(self, exc: Exception) -> None:
        """Sleep before the next attempt after ``exc``. Raises ``exc`` itself when it is not transient, its
        :class:`PrdeckError` when the deadline comes first, :class:`Stopped` when ``stop`` is set."""
        if not transient(exc):
            raise exc
        now = time.monotonic()
        if self.first_failure is None:
            self.first_failure = now
        delay = delay_for(exc, self.attempt)
        if now + delay >= self.deadline:
            raise self.gave_up(exc) from exc
        self.attempt += 1
        if self.on_retry is not None:
            error = cluster_error(self.doing, exc)
            self.on_retry(f"{error.title} ({error.detail}): retrying in {delay:.1f} s")
        if self.stop is not None:
            if self.stop.wait(delay):
                raise Stopped(self.doing)
        else:
            time.sleep(delay)

    def succeeded(self) -> float | None:
        """Call after a success: the seconds the failures lasted (None: there were none); resets the backoff."""
        since, self.first_failure, self.attempt = self.first_failure, None, 0
        return None if since is None else time.monotonic() - since

    def gave_up(self, exc: Exception) -> PrdeckError:
        error = cluster_error(self.doing, exc) if isinstance(exc, CLUSTER_FAILURES) else None
        if error is None:
            raise exc
        if self.first_failure is None or not self.attempt:
            return error
        detail = f"{error.detail} (retried for {time.monotonic() - self.first_failure:.0f} s)"
        return type(error)(error.title, detail)


def call_with_retries(doing: str, call: Callable[[], T], deadline: float, stop: threading.Event | None = None,
                      on_retry: Callable[[str], None] | None = None) -> T:
    """``call()``, again after each transient failure until ``deadline``; other failures pass unchanged (the
    caller's ``cluster_errors`` translates them)."""
    backoff = Backoff(doing, deadline, stop, on_retry)
    while True:
        try:
            return call()
        except CLUSTER_FAILURES as exc:
            if not transient(exc):
                raise
            backoff.wait(exc)
