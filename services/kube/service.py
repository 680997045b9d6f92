"""The Kubernetes side: find previews by label, keep them current with a watch, read logs, destroy.

Everything prdeck creates carries ``app.kubernetes.io/managed-by=prdeck`` (see :mod:`services.naming`), so
all previews of all repositories come from ONE list of pods by that label, and stay current through ONE watch
from the list's resourceVersion. A watch that times out or loses its connection resumes from the last
resourceVersion it saw; one told ``410 Gone`` lists again. Every request has a timeout, so a dead connection
never hangs a thread.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException

from prdeck.services.errors import ConfigError, NotFound, PrdeckError, Unavailable
from prdeck.services.kube.state import preview_state
from prdeck.services.models import ClusterEvent, PodStatus, Preview, RepoRef
from prdeck.services.naming import (
    ANNOTATION_EXPIRES,
    ANNOTATION_REPO,
    ANNOTATION_SHA,
    ANNOTATION_URL,
    LABEL_PR,
    SELECTOR,
)

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 20
WATCH_SECONDS = 240
"""The server ends each watch after this long; the client re-opens it from the last resourceVersion."""
RETRY_SECONDS = (1, 2, 5, 10, 20, 30)


class ClusterUnavailable(Unavailable):
    """No cluster configured, or it cannot be reached: previews are unknown, the PR list still works."""


def cluster_errors(doing: str, exc: BaseException) -> PrdeckError:
    """The one translation of client failures into prdeck's errors."""
    if isinstance(exc, PrdeckError):
        return exc
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
    return text.split(":")[-1].strip() or type(exc).__name__


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


def stream_line_batches(response: Any, chunk_size: int = 65536) -> Iterator[list[str]]:
    """The complete lines of each chunk of a streaming response, as they arrive (a chatty log sends many)."""
    pending = b""
    for chunk in response.stream(chunk_size, decode_content=True):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        if complete:
            yield [line.decode("utf-8", errors="replace") for line in complete]
    if pending:
        yield [pending.decode("utf-8", errors="replace")]


def stream_lines(response: Any) -> Iterator[str]:
    """Lines of a streaming response (watch events, log lines) as they arrive."""
    for batch in stream_line_batches(response, 4096):
        yield from batch


class StreamGuard:
    """Shuts down the streaming responses it tracks once ``stop`` is set, so a read blocked on a quiet stream
    returns at once instead of holding its thread (and the app's exit) until the next byte arrives."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._open: set[Any] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def tracking(self, response: Any) -> Iterator[None]:
        with self._lock:
            self._open.add(response)
            if self._thread is None:
                self._thread = threading.Thread(target=self._shut_on_stop, name="prdeck-stream-guard", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._open.discard(response)
            with contextlib.suppress(Exception):
                response.release_conn()

    def _shut_on_stop(self) -> None:
        self._stop.wait()
        with self._lock:
            responses = list(self._open)
        for response in responses:
            with contextlib.suppress(Exception):
                response.shutdown()


def pod_status(pod: Any) -> PodStatus:
    status = pod.status
    containers = tuple(c.name for c in pod.spec.containers)
    reason = status.reason
    restarts = 0
    ready = False
    for condition in status.conditions or []:
        if condition.type == "Ready":
            ready = condition.status == "True"
    for container in status.container_statuses or []:
        restarts += container.restart_count or 0
        state = container.state
        if state is not None and state.waiting is not None and reason is None:
            reason = state.waiting.reason
        elif state is not None and state.terminated is not None and reason is None and state.terminated.exit_code:
            reason = state.terminated.reason or "Error"
    if reason is None and not status.container_statuses and status.phase == "Pending":
        reason = "Pending"
    return PodStatus(
        name=pod.metadata.name,
        phase=status.phase or "Unknown",
        ready=ready,
        reason=reason,
        restarts=restarts,
        containers=containers,
        deleting=pod.metadata.deletion_timestamp is not None,
        started_at=status.start_time,
    )


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    with contextlib.suppress(ValueError):
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def previews_from_pods(pods: list[Any]) -> list[Preview]:
    """Group prdeck's pods by namespace into previews."""
    grouped: dict[str, list[Any]] = {}
    for pod in pods:
        grouped.setdefault(pod.metadata.namespace, []).append(pod)
    previews = [_preview_of(namespace, members) for namespace, members in sorted(grouped.items())]
    return [preview for preview in previews if preview is not None]


class PreviewIndex:
    """Pods by namespace and the preview of each, updated one namespace per watch event."""

    def __init__(self, pods: list[Any]) -> None:
        self._pods: dict[str, dict[str, Any]] = {}
        self._previews: dict[str, Preview] = {}
        for pod in pods:
            self._pods.setdefault(pod.metadata.namespace, {})[pod.metadata.uid] = pod
        for namespace in self._pods:
            self._refresh(namespace)

    def apply(self, kind: str, pod: Any) -> None:
        namespace = pod.metadata.namespace
        members = self._pods.setdefault(namespace, {})
        if kind == "DELETED":
            members.pop(pod.metadata.uid, None)
        else:
            members[pod.metadata.uid] = pod
        self._refresh(namespace)

    def _refresh(self, namespace: str) -> None:
        members = list(self._pods.get(namespace, {}).values())
        preview = _preview_of(namespace, members) if members else None
        if preview is None:
            self._previews.pop(namespace, None)
            self._pods.pop(namespace, None)
        else:
            self._previews[namespace] = preview

    def previews(self) -> list[Preview]:
        return [self._previews[namespace] for namespace in sorted(self._previews)]


def _preview_of(namespace: str, members: list[Any]) -> Preview | None:
    """The preview a namespace's pods make up (None when they lack prdeck's labels)."""
    first = members[0].metadata
    labels, annotations = first.labels or {}, first.annotations or {}
    number = labels.get(LABEL_PR, "")
    try:
        repo = RepoRef.parse(annotations.get(ANNOTATION_REPO) or "")
    except ValueError:
        return None
    if not number.isdigit():
        return None
    statuses = tuple(sorted((pod_status(pod) for pod in members), key=lambda p: p.name))
    state, reason = preview_state(statuses)
    return Preview(
        repo=repo,
        number=int(number),
        namespace=namespace,
        state=state,
        reason=reason,
        url=annotations.get(ANNOTATION_URL),
        deployed_sha=annotations.get(ANNOTATION_SHA),
        expires_at=_parse_time(annotations.get(ANNOTATION_EXPIRES)),
        pods=statuses,
    )


class ClusterService:
    """Blocking calls against one cluster (run them in worker threads)."""

    def __init__(self, api_client: client.ApiClient, prefix: str = "prdeck") -> None:
        self.api_client = api_client
        self.prefix = prefix
        self.server = api_client.configuration.host

    @functools.cached_property
    def core(self) -> client.CoreV1Api:
        """Made on first use, in the worker that needs it: the typed API classes import hundreds of pydantic
        models (about 0.5 s of CPU with kubernetes 37), which would otherwise delay the TUI's first frame."""
        return client.CoreV1Api(self.api_client)

    @functools.cached_property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api_client)

    def warm_up(self) -> None:
        """Make the typed API clients in a background thread, just before a long wait on something else.

        Only worth it around a wait that holds no GIL (a docker build): at start-up the import competed with
        the start-up's own network calls for the GIL and made the whole slower (measured).
        """
        thread = threading.Thread(target=lambda: (self.core, self.apps), name="prdeck-kubernetes-warm-up",
                                  daemon=True)
        thread.start()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.api_client.close()

    # previews -----------------------------------------------------------------------------------------
    def list_pods(self) -> tuple[list[Any], str]:
        """Every prdeck pod in the cluster (ONE request) and the list's resourceVersion."""
        try:
            listing = self.core.list_pod_for_all_namespaces(
                label_selector=SELECTOR, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
            )
        except Exception as exc:
            raise cluster_errors("listing previews", exc) from exc
        meta: Any = listing.metadata
        return list(listing.items), str(meta.resource_version)

    def previews(self) -> list[Preview]:
        return previews_from_pods(self.list_pods()[0])

    def follow(
        self,
        on_change: Callable[[list[Preview]], None],
        on_error: Callable[[PrdeckError], None],
        stop: threading.Event,
    ) -> None:
        """List, then watch, calling ``on_change`` with every new state of all previews until ``stop`` is set.

        Failures go to ``on_error`` and are retried with backoff; the loop only ends when ``stop`` is set.
        """
        failures = 0
        while not stop.is_set():
            try:
                pods, version = self.list_pods()
                index = PreviewIndex(pods)
                on_change(index.previews())
                failures = 0
                self._watch(index, version, on_change, stop)
            except PrdeckError as error:
                failures += 1
                on_error(error)
                stop.wait(RETRY_SECONDS[min(failures - 1, len(RETRY_SECONDS) - 1)])

    def _watch(
        self, index: PreviewIndex, version: str, on_change: Callable[[list[Preview]], None], stop: threading.Event
    ) -> None:
        """Follow changes from ``version`` until stopped; return to re-list after ``410 Gone``."""
        decoder = watch.Watch()
        guard = StreamGuard(stop)
        while not stop.is_set():
            try:
                response = self.core.list_pod_for_all_namespaces(
                    label_selector=SELECTOR,
                    watch=True,
                    resource_version=version,
                    allow_watch_bookmarks=True,
                    timeout_seconds=WATCH_SECONDS,
                    _preload_content=False,
                    _request_timeout=(CONNECT_TIMEOUT, WATCH_SECONDS + READ_TIMEOUT),
                )
            except Exception as exc:
                raise cluster_errors("watching previews", exc) from exc
            with guard.tracking(response):
                try:
                    for line in stream_lines(response):
                        event = decoder.unmarshal_event(line, "V1Pod")
                        if stop.is_set():
                            return
                        if event is None:
                            continue
                        if event["type"] == "ERROR":
                            status = event["raw_object"]
                            if status.get("code") == 410:
                                return
                            raise Unavailable(
                                f"The cluster ended the watch ({status.get('code')})", str(status.get("message"))
                            )
                        version = decoder.resource_version or version
                        if event["type"] == "BOOKMARK":
                            continue
                        index.apply(event["type"], event["object"])
                        on_change(index.previews())
                except PrdeckError:
                    raise
                except Exception as exc:
                    if stop.is_set():
                        return
                    raise cluster_errors("watching previews", exc) from exc

    # one preview --------------------------------------------------------------------------------------
    def preview(self, namespace: str) -> Preview:
        try:
            pods = self.core.list_namespaced_pod(
                namespace, label_selector=SELECTOR, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
            ).items
        except Exception as exc:
            raise cluster_errors(f"reading {namespace}", exc) from exc
        found = previews_from_pods(list(pods))
        if not found:
            raise NotFound(f"No preview in namespace {namespace}", "launch one first")
        return found[0]

    def events(self, namespace: str, limit: int = 12) -> list[ClusterEvent]:
        """The newest events of a preview's namespace, oldest first."""
        try:
            items = self.core.list_namespaced_event(namespace, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)).items
        except Exception as exc:
            raise cluster_errors(f"reading events of {namespace}", exc) from exc
        events = [
            ClusterEvent(
                time=item.last_timestamp or item.event_time or item.metadata.creation_timestamp,
                kind=item.type or "Normal",
                reason=item.reason or "",
                message=item.message or "",
                object=f"{(item.involved_object.kind or '').lower()}/{item.involved_object.name}",
            )
            for item in items
        ]
        events.sort(key=lambda e: e.time or datetime.min.replace(tzinfo=UTC))
        return events[-limit:]

    def destroy(self, namespace: str, timeout: float = 120, poll: float = 0.5) -> Iterator[str]:
        """Delete the preview's namespace and follow it until it is gone; yields progress lines.

        Raises Unavailable when it is still Terminating after ``timeout`` seconds, naming the finalizers.
        """
        try:
            self.core.delete_namespace(namespace, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        except ApiException as exc:
            if exc.status == 404:
                raise NotFound(f"Namespace {namespace} does not exist", "the preview is already gone") from exc
            raise cluster_errors(f"deleting {namespace}", exc) from exc
        except Exception as exc:
            raise cluster_errors(f"deleting {namespace}", exc) from exc
        yield f"deleting namespace {namespace}"
        deadline = datetime.now(UTC).timestamp() + timeout
        last = None
        while True:
            try:
                ns: Any = self.core.read_namespace(namespace, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
            except ApiException as exc:
                if exc.status == 404:
                    yield f"namespace {namespace} is gone"
                    return
                raise cluster_errors(f"following {namespace}", exc) from exc
            except Exception as exc:
                raise cluster_errors(f"following {namespace}", exc) from exc
            pods = self._count_pods(namespace)
            line = f"{namespace}: {ns.status.phase}, {pods} pod{'s' if pods != 1 else ''} left"
            if line != last:
                yield line
                last = line
            if datetime.now(UTC).timestamp() > deadline:
                finalizers = ", ".join((ns.metadata.finalizers or []) + (ns.spec.finalizers or [] if ns.spec else []))
                raise Unavailable(
                    f"Namespace {namespace} is stuck Terminating",
                    f"still there after {timeout:.0f}s; finalizers: {finalizers or 'none'}. A cluster admin can "
                    f"inspect it with `kubectl get namespace {namespace} -o yaml`",
                )
            threading.Event().wait(poll)

    def _count_pods(self, namespace: str) -> int:
        with contextlib.suppress(Exception):
            return len(self.core.list_namespaced_pod(namespace, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)).items)
        return 0
