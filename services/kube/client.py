"""A client for one cluster, from a kubeconfig, and the timeouts every request to it uses."""

from __future__ import annotations

import os
from pathlib import Path

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from prdeck.services.errors import ConfigError
from prdeck.services.kube.errors import ClusterUnavailable

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 20


def load_api_client(kubeconfig: str | None, context: str | None) -> client.ApiClient:
    """A client for ``context`` (or the current one) of ``kubeconfig`` (or $KUBECONFIG, ~/.kube/config)."""
    path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or str(Path.home() / ".kube/config")
    if not Path(path).is_file():
        raise ClusterUnavailable(
            "No Kubernetes cluster configured",
            f"no kubeconfig at {path}; set KUBECONFIG or cluster.kubeconfig (the PR list works without one)",
        )
    try:
        contexts, _ = config.list_kube_config_contexts(config_file=path)
        names = [entry["name"] for entry in contexts]
        if context is not None and context not in names:
            raise ConfigError(
                f"Kubernetes context {context!r} is not in {path}", f"available: {', '.join(names) or 'none'}"
            )
        return config.new_client_from_config(config_file=path, context=context)
    except ConfigException as exc:
        raise ConfigError(f"Cannot use the kubeconfig {path}", str(exc)) from exc
