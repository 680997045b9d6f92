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


NETWORK_REASONS = (
    ("connection refused", "connection refused; is the cluster running?"),
    ("timed out", "the request timed out"),
    ("reset", "the connection was cut"),
    ("aborted", "the connection was cut"),
    ("closed connection", "the connection was cut"),
    ("remotedisconnected", "the connection was cut"),
    ("name or service not known", "the cluster's host name does not resolve"),
    ("nodename nor servname", "the cluster's host name does not resolve"),
    ("temporary failure in name resolution", "the cluster's host name does not resolve"),
    ("certificate verify failed", "its TLS certificate is not trusted (check the kubeconfig's certificate-authority)"),
    ("no route to host", "no route to the cluster's host"),
    ("network is unreachable", "the network is unreachable"),
)
"""urllib3's text (``... (Caused by ProtocolError('Connection aborted.', ...))``) as a person says it."""


def _network_reason(exc: BaseException) -> str:
    text = str(exc).lower()
    for needle, reason in NETWORK_REASONS:
        if needle in text:
            return reason
    cause = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None else exc
    return f"the connection failed ({type(cause).__name__})"
