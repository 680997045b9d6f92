"""`with cluster_errors(...)`: what the cluster or the network does to a request becomes a PrdeckError a user
can act on; anything else (a bug in prdeck) passes through unchanged, never disguised as "Unavailable"."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace
from typing import Any

import pytest
import urllib3
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException

from prdeck.services.errors import ConfigError, NotFound, PrdeckError, Unavailable
from prdeck.services.kube.errors import ClusterUnavailable, cluster_errors
from prdeck.services.kube.logs import preview_logs
from prdeck.services.kube.service import ClusterService
from prdeck.services.launch.deploy import Deployer, DeployError
from prdeck.services.models import LogRequest, PodStatus, Preview


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
        (OSError(113, "No route to host"), "[Errno 113] No route to host"),
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


# the same through the services ----------------------------------------------------------------------------


def cluster_with(core: Any) -> ClusterService:
    cluster = ClusterService(SimpleNamespace())  # type: ignore[arg-type]
    cluster.__dict__["core"] = core  # the cached property, made by hand
    return cluster


def failing(exc: BaseException) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return call


def test_cluster_service_translates_cluster_failures_and_lets_bugs_through():
    denied = cluster_with(SimpleNamespace(list_pod_for_all_namespaces=failing(api_error(403, "no"))))
    with pytest.raises(ConfigError, match="Not allowed while listing previews"):
        denied.previews()
    bug = KeyError("items")
    broken = cluster_with(SimpleNamespace(list_pod_for_all_namespaces=failing(bug)))
    with pytest.raises(KeyError) as caught:
        broken.previews()
    assert caught.value is bug


def test_follow_reports_cluster_failures_but_a_bug_ends_it():
    stop = threading.Event()
    errors: list[PrdeckError] = []

    def on_error(error: PrdeckError) -> None:
        errors.append(error)
        stop.set()

    unreachable = cluster_with(SimpleNamespace(list_pod_for_all_namespaces=failing(OSError("Connection refused"))))
    unreachable.follow(lambda previews: None, on_error, stop)
    assert [type(error) for error in errors] == [ClusterUnavailable]
    bug = AttributeError("metadata")
    broken = cluster_with(SimpleNamespace(list_pod_for_all_namespaces=failing(bug)))
    with pytest.raises(AttributeError) as caught:
        broken.follow(lambda previews: None, on_error, threading.Event())
    assert caught.value is bug and len(errors) == 1


def test_destroy_of_a_missing_namespace_is_not_found():
    gone = cluster_with(SimpleNamespace(delete_namespace=failing(api_error(404, "namespaces \"x\" not found"))))
    with pytest.raises(NotFound) as missing:
        list(gone.destroy("x"))
    assert (missing.value.title, missing.value.detail) == ("Namespace x does not exist", "the preview is already gone")


def log_cluster(read_log: Any) -> Any:
    pods = (PodStatus(name="web-1", phase="Running", ready=True, reason=None, restarts=0, containers=("web",)),)
    preview = Preview("acme/app", 1, "ns", "ready", None, None, None, None, pods)
    return SimpleNamespace(preview=lambda namespace: preview, core=SimpleNamespace(read_namespaced_pod_log=read_log))


def test_a_log_reader_hands_its_error_to_the_caller():
    with pytest.raises(Unavailable) as refused:
        list(preview_logs(log_cluster(failing(api_error(500, "kubelet down"))), "ns", LogRequest()))
    assert (refused.value.title, refused.value.detail) == (
        "The cluster answered 500 while reading logs of web-1/web", "kubelet down")
    bug = TypeError("unexpected keyword")
    with pytest.raises(TypeError) as caught:
        list(preview_logs(log_cluster(failing(bug)), "ns", LogRequest()))
    assert caught.value is bug


def deployer_with(call_api: Any) -> Deployer:
    api_client = SimpleNamespace(
        param_serialize=lambda *args, **kwargs: ("PATCH", "http://cluster/api", {}, {}, None),
        call_api=call_api,
    )
    return Deployer(SimpleNamespace(api_client=api_client))  # type: ignore[arg-type]


DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "preview", "namespace": "ns"}}


def test_apply_refused_is_a_deploy_error_unreachable_is_unavailable_a_bug_is_a_bug():
    with pytest.raises(DeployError) as refused:
        deployer_with(failing(api_error(422, "spec.replicas: Invalid value"))).apply([DEPLOYMENT], print)
    assert (refused.value.title, refused.value.detail) == (
        "The cluster refused deployment/preview", "spec.replicas: Invalid value")
    with pytest.raises(ClusterUnavailable, match="Cannot reach the cluster while applying deployment/preview"):
        deployer_with(failing(urllib3.exceptions.ProtocolError("Connection aborted."))).apply([DEPLOYMENT], print)
    bug = KeyError("2XX")
    with pytest.raises(KeyError) as caught:
        deployer_with(failing(bug)).apply([DEPLOYMENT], print)
    assert caught.value is bug
