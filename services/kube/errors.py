"""The one translation of the Kubernetes client's failures into prdeck's errors.

``with cluster_errors("listing previews"):`` turns what the cluster or the network can do to a request (an
:class:`ApiException`, a kubeconfig :class:`ConfigException` such as a failed token refresh, a urllib3 error,
an :class:`OSError`) into a :class:`PrdeckError` with a title a user can act on. Anything else is a bug and
passes through unchanged.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import urllib3
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException

from prdeck.services.errors import ConfigError, NotFound, PrdeckError, Unavailable

CLUSTER_FAILURES: tuple[type[Exception], ...] = (ApiException, ConfigException, urllib3.exceptions.HTTPError, OSError)
"""What a request to the cluster can fail with, as opposed to a bug in prdeck."""


class ClusterUnavailable(Unavailable):
    """No cluster configured, or it cannot be reached: previews are unknown, the PR list still works."""


@contextlib.contextmanager
def cluster_errors(doing: str) -> Iterator[None]:
    """Raise the :class:`PrdeckError` for a cluster failure in the block; let every other exception through."""
    try:
        yield
    except CLUSTER_FAILURES as exc:
        raise cluster_error(doing, exc) from exc


def cluster_error(doing: str, exc: Exception) -> PrdeckError:
    """The :class:`PrdeckError` for one of :data:`CLUSTER_FAILURES` met while ``doing`` something."""
    if isinstance(exc, ApiException):
        reason = status_message(exc)
        if exc.status == 401:
            return ConfigError(
                f"The cluster refused the credentials while {doing}",
                f"{reason}; check your kubeconfig user or log in to the cluster again",
            )
        if exc.status == 403:
            return ConfigError(f"Not allowed while {doing}", f"{reason}; ask a cluster admin for these rights")
        if exc.status == 404:
            return NotFound(f"Not found while {doing}", reason)
        return Unavailable(f"The cluster answered {exc.status} while {doing}", reason)
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return ClusterUnavailable(f"Cannot reach the cluster while {doing}", _network_reason(exc))
    return Unavailable(f"Unexpected error while {doing}", f"{type(exc).__name__}: {exc}")


def status_message(exc: ApiException) -> str:
    """The ``message`` of the Status object the API server sent, or the HTTP reason."""
    with contextlib.suppress(ValueError, TypeError):
        body = json.loads(exc.body or "")
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
    return str(exc.reason or exc.status)


def _network_reason(exc: BaseException) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused; is the cluster running?"
    if "timed out" in text.lower():
        return "the request timed out"
    if "reset" in text.lower() or "aborted" in text.lower() or "closed connection" in text.lower():
        return "the connection was cut"
    return text.split(":")[-1].strip() or type(exc).__name__
