"""The API server's version, for features that depend on it (native sidecar containers: Kubernetes 1.29+)."""

from __future__ import annotations

import json
import re

from prdeck.services.kube.client import CONNECT_TIMEOUT, READ_TIMEOUT
from prdeck.services.kube.raw import READ_FAILURES
from prdeck.services.kube.service import ClusterService


def server_version(cluster: ClusterService) -> tuple[int, int] | None:
    """``(major, minor)`` from ``/version``; None when it cannot be read (then prdeck assumes a current cluster)."""
    api = cluster.api_client
    try:
        method, url, headers, _, _ = api.param_serialize("GET", "/version", header_params={
            "Accept": "application/json"}, auth_settings=["BearerToken"])
        response = api.call_api(method, url, header_params=headers, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        info = json.loads(response.read() or b"{}")
    except READ_FAILURES:
        return None
    if not isinstance(info, dict) or response.status != 200:
        return None
    major = re.match(r"\d+", str(info.get("major", "")))
    minor = re.match(r"\d+", str(info.get("minor", "")))  # "29+" on some managed clusters
    return (int(major.group()), int(minor.group())) if major and minor else None
