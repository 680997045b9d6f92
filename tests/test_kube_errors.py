"""`with cluster_errors(...)`: what the cluster or the network does to a request becomes a PrdeckError a user
can act on; anything else (a bug in prdeck) passes through unchanged, never disguised as "Unavailable".

The same failures through the real kubernetes client and the sandbox: tests/test_cluster_failures.py."""

from __future__ import annotations

import json

import pytest
import urllib3
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException

from prdeck.services.errors import ConfigError, NotFound, PrdeckError, Unavailable
from prdeck.services.kube.errors import ClusterUnavailable, cluster_errors


def api_error(status: int, message: str = "", reason: str = "Reason") -> ApiException:
    body = json.dumps({"kind": "Status", "message": message}) if message else None
    return ApiException(status=status, reason=reason, body=body)


def raised_by(exc: BaseException, doing: str = "listing previews") -> BaseException:
    with pytest.raises(BaseException) as caught, cluster_errors(doing):
        raise exc
    return caught.value


def test_api_errors_become_the_matching_prdeck_error():
    cases = [
        (api_error(404, 'pods "web" not found'), NotFound, "Not found while listing previews",
         'pods "web" not found'),
        (api_error(403, 'pods is forbidden: cannot list resource "pods"'), ConfigError,
         "Not allowed while listing previews",
         'pods is forbidden: cannot list resource "pods"; ask a cluster admin for these rights'),
        (api_error(401, reason="Unauthorized"), ConfigError,
         "The cluster refused the credentials while listing previews",
         "Unauthorized; check your kubeconfig user or log in to the cluster again"),
        (api_error(500, "etcdserver: request timed out"), Unavailable,
         "The cluster answered 500 while listing previews", "etcdserver: request timed out"),
    ]
    for original, kind, title, detail in cases:
        error = raised_by(original)
        assert type(error) is kind, original.status
        assert isinstance(error, PrdeckError) and (error.title, error.detail) == (title, detail)
        assert error.__cause__ is original


def test_an_api_error_without_a_status_body_names_the_http_reason():
    error = raised_by(ApiException(status=502, reason="Bad Gateway", body="<html>proxy</html>"))
    assert type(error) is Unavailable and error.detail == "Bad Gateway"


def test_network_failures_say_the_cluster_cannot_be_reached():
    refused = urllib3.exceptions.MaxRetryError(
        None,  # type: ignore[arg-type]
        "/api/v1/pods",
        urllib3.exceptions.NewConnectionError(
            None,  # type: ignore[arg-type]
            "Failed to establish a new connection: [Errno 111] Connection refused",
        ),
    )
    cases = [
        (refused, "connection refused; is the cluster running?"),
        (urllib3.exceptions.ReadTimeoutError(None, "/api/v1/pods", "Read timed out."),  # type: ignore[arg-type]
         "the request timed out"),
        (ConnectionRefusedError(111, "Connection refused"), "connection refused; is the cluster running?"),
        (TimeoutError("timed out"), "the request timed out"),
        (OSError(113, "No route to host"), "no route to the cluster's host"),
    ]
    for original, detail in cases:
        error = raised_by(original, "watching previews")
        assert type(error) is ClusterUnavailable, original
        assert (error.title, error.detail) == ("Cannot reach the cluster while watching previews", detail)
        assert error.__cause__ is original


def test_a_kubeconfig_failure_during_a_request_is_reported_as_before():
    error = raised_by(ConfigException("exec: process returned 1"))
    assert type(error) is Unavailable
    assert (error.title, error.detail) == ("Unexpected error while listing previews",
                                           "ConfigException: exec: process returned 1")


@pytest.mark.parametrize("bug", [KeyError("metadata"), TypeError("not iterable"), AttributeError("status"),
                                 ValueError("bad"), RuntimeError("boom")])
def test_a_bug_passes_through_unchanged(bug):
    assert raised_by(bug) is bug


def test_a_prdeck_error_passes_through_unchanged():
    error = NotFound("No preview in namespace x", "launch one first")
    assert raised_by(error) is error


def test_nothing_raised_nothing_changed():
    with cluster_errors("listing previews"):
        value = 1
    assert value == 1


@pytest.mark.parametrize(("cause", "reason"), [
    (urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer")),
     "the connection was cut"),
    (urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: [Errno -2] Name or service "
                                                 "not known"), "the cluster's host name does not resolve"),
    (urllib3.exceptions.ProtocolError("something new", ValueError("odd")), "the connection failed (ProtocolError)"),
])
def test_unreachable_cluster_is_said_in_words_never_urllib3s_text(cause, reason):
    wrapped = urllib3.exceptions.MaxRetryError(None, "/api/v1/namespaces", cause)  # type: ignore[arg-type]
    error = raised_by(wrapped)
    assert isinstance(error, ClusterUnavailable) and error.detail == reason
    assert "Caused by" not in str(error) and "(" not in error.detail.replace("(ProtocolError)", "")
