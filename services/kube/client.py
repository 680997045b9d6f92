"""A client for one cluster, from a kubeconfig, and the timeouts every request to it uses.

The client never retries by itself: urllib3's default (three more tries of a read that timed out) made a silent
API server cost 4 x 20 s before the PR list showed. prdeck retries where a step has a deadline
(:mod:`prdeck.services.kube.retry`); a one-shot read fails after :data:`READ_TIMEOUT`.
"""

from __future__ import annotations

import os
from pathlib import Path

from kubernetes import client
from kubernetes.config.config_exception import ConfigException

from prdeck.services.errors import ConfigError, PrdeckError
from prdeck.services.kube.errors import ClusterUnavailable
from prdeck.services.kube.kubeconfig import WHERE, CheckedLoader, read_kubeconfig

CONNECT_TIMEOUT = 3
"""Seconds to connect: a loopback or LAN API server connects in milliseconds, a distant one in well under 1 s."""
READ_TIMEOUT = 5
"""Seconds to wait for the answer to a read (list, get)."""
WRITE_TIMEOUT = 30
"""Seconds to wait for the answer to a write (apply, delete): admission webhooks may take 10 s each."""


def load_api_client(kubeconfig: str | None, context: str | None) -> client.ApiClient:
    """A client for ``context`` (or the current one) of ``kubeconfig`` (or $KUBECONFIG, ~/.kube/config).

    Raises :class:`ClusterUnavailable` without a kubeconfig and :class:`ConfigError` for one that cannot be used
    (what is wrong with it, and what to do), never anything else.
    """
    path = Path(kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or Path.home() / ".kube/config")
    if not path.is_file():
        raise ClusterUnavailable(
            "No Kubernetes cluster configured",
            f"no kubeconfig at {path}; set KUBECONFIG or cluster.kubeconfig (the PR list works without one)",
        )
    loaded = read_kubeconfig(path)
    configuration = client.Configuration()
    try:
        names = [str(entry["name"]) for entry in loaded.get("contexts") or []]
        if context is not None and context not in names:
            raise ConfigError(
                f"Kubernetes context {context!r} is not in {path}", f"available: {', '.join(names) or 'none'}"
            )
        loader = CheckedLoader(loaded, active_context=context, config_base_path=str(path.parent))
        loader.load_and_set(configuration)
    except PrdeckError:
        raise
    except (ConfigException, KeyError, TypeError, AttributeError, ValueError) as exc:  # its shape is wrong
        raise ConfigError(f"Cannot use the kubeconfig {path}", f"{_reason(exc)}; fix it or {WHERE}") from exc
    configuration.retries = False
    return client.ApiClient(configuration=configuration)


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
