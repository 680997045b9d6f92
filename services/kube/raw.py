"""Plain JSON reads from the API server, for the launch path: the typed API classes of the kubernetes client
(CoreV1Api, AppsV1Api and their models) take about a second to import, which a relaunch that finds its pods
already running would otherwise spend on three reads."""

from __future__ import annotations

import json
from typing import Any

from kubernetes.client.rest import ApiException

from prdeck.services.kube.client import CONNECT_TIMEOUT, READ_TIMEOUT
from prdeck.services.kube.errors import CLUSTER_FAILURES
from prdeck.services.kube.service import ClusterService

READ_FAILURES: tuple[type[Exception], ...] = (ValueError, *CLUSTER_FAILURES)
"""What :func:`get_json` can fail with: the cluster's failures, and a body that is not JSON."""


def get_json(cluster: ClusterService, path: str) -> dict[str, Any] | None:
    """The object at ``path`` (``/api/v1/namespaces/x``) as JSON; None on 404. Other failures raise what the
    typed calls raise (ApiException, urllib3 errors), so :func:`prdeck.services.kube.errors.cluster_errors`
    handles both the same way."""
    api = cluster.api_client
    method, url, headers, _, _ = api.param_serialize("GET", path, header_params={"Accept": "application/json"},
                                                     auth_settings=["BearerToken"])
    response = api.call_api(method, url, header_params=headers, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
    body = response.read()
    if response.status == 404:
        return None
    if not 200 <= response.status < 300:
        raise ApiException(http_resp=response)
    value = json.loads(body or b"{}")
    return value if isinstance(value, dict) else {}
