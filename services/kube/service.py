"""The Kubernetes side: find previews by label, keep them current with a watch, read logs, destroy.

Everything prdeck creates carries ``app.kubernetes.io/managed-by=prdeck`` (see :mod:`prdeck.services.naming`), so
all previews of all repositories come from ONE list of pods by that label, and stay current through ONE watch
from the list's resourceVersion. A watch that times out or loses its connection resumes from the last
resourceVersion it saw; one told ``410 Gone`` lists again. Every request has a timeout, so a dead connection
never hangs a thread.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from prdeck.services.errors import NotFound, PrdeckError, Unavailable
from prdeck.services.kube.client import CONNECT_TIMEOUT, READ_TIMEOUT, WRITE_TIMEOUT
from prdeck.services.kube.errors import CLUSTER_FAILURES, cluster_errors
from prdeck.services.kube.previews import PreviewIndex, previews_from_pods
from prdeck.services.kube.retry import Backoff
from prdeck.services.kube.streams import StreamGuard, stream_lines
from prdeck.services.models import ClusterEvent, Preview
from prdeck.services.naming import LABEL_PR, SELECTOR

WATCH_SECONDS = 240
"""The server ends each watch after this long; the client re-opens it from the last resourceVersion."""
RETRY_SECONDS = (1, 2, 5, 10, 20, 30)


class ClusterService:
    """Blocking calls against one cluster (run them in worker threads)."""

    def __init__(self, api_client: client.ApiClient, prefix: str = "prdeck", ttl_hours: float = 72) -> None:
        self.api_client = api_client
        self.prefix = prefix
        self.ttl_hours = ttl_hours
        """``preview.ttl_hours``: what a launch gives a preview, and what ``extend`` adds by default."""

    @functools.cached_property
    def core(self) -> client.CoreV1Api:
        """Made on first use, in the worker that needs it: the typed API classes import hundreds of pydantic
        models (about 0.5 s of CPU with kubernetes 37), which would otherwise delay the TUI's first frame.

        A launch first needs them when it waits for the rollout, which hides their import; loading them earlier,
        in a thread next to the builds, slowed three builds side by side from 0.7 s to 1.2 s (measured): the
        builds' own Python (the context's tar, the engine's output) waited for the GIL."""
        return client.CoreV1Api(self.api_client)

    @functools.cached_property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api_client)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.api_client.close()

    # previews -----------------------------------------------------------------------------------------
    def list_pods(self) -> tuple[list[Any], str]:
        """Every prdeck pod in the cluster (ONE request) and the list's resourceVersion."""
        with cluster_errors("listing previews"):
            listing = self.core.list_pod_for_all_namespaces(
                label_selector=SELECTOR, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
            )
        meta: Any = listing.metadata
        return list(listing.items), str(meta.resource_version)

    def list_namespaces(self) -> tuple[list[Any], str]:
        """Every namespace with prdeck's labels (ONE request), with or without pods, and the list's resourceVersion."""
        with cluster_errors("listing preview namespaces"):
            listing = self.core.list_namespace(
                label_selector=SELECTOR, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
            )
        meta: Any = listing.metadata
        return list(listing.items), str(meta.resource_version)

    def namespaces_of_pr(self, number: int) -> list[Any]:
        """prdeck's namespaces labelled with PR ``number`` (of any repository, under any prefix): one request."""
        with cluster_errors(f"looking for the namespaces of #{number}"):
            listing = self.core.list_namespace(label_selector=f"{SELECTOR},{LABEL_PR}={number}",
                                               _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        return list(listing.items)

    def previews(self) -> list[Preview]:
        """Every preview: two requests, whatever their number (pods by label, namespaces by label)."""
        return previews_from_pods(self.list_pods()[0], self.list_namespaces()[0])

    def follow(
        self,
        on_change: Callable[[list[Preview]], None],
        on_error: Callable[[PrdeckError], None],
        stop: threading.Event,
    ) -> None:
        """List, then watch, calling ``on_change`` with every new state of all previews until ``stop`` is set.

        Pods and namespaces are listed once each, then followed by one watch each (the namespaces' in a second
        thread); when either watch must list again (410 Gone, a failure) both start over. Failures go to
        ``on_error`` and are retried with backoff; the loop only ends when ``stop`` is set.
        """
        failures = 0
        current = [threading.Event()]

        def end_round_on_stop() -> None:
            stop.wait()
            current[0].set()

        threading.Thread(target=end_round_on_stop, name="prdeck-watch-stop", daemon=True).start()
        while not stop.is_set():
            round_over = current[0] = threading.Event()
            if stop.is_set():
                break
            try:
                pods, version = self.list_pods()
                namespaces, ns_version = self.list_namespaces()
                index = PreviewIndex(pods, namespaces)
                on_change(index.previews())
                failures = 0
                problems: list[PrdeckError] = []
                follower = threading.Thread(
                    target=self._watch_round, name="prdeck-namespace-watch", daemon=True,
                    args=(functools.partial(self.core.list_namespace), "V1Namespace", ns_version,
                          index.apply_namespace, index, on_change, round_over, problems))
                follower.start()
                self._watch_round(functools.partial(self.core.list_pod_for_all_namespaces), "V1Pod", version,
                                  index.apply, index, on_change, round_over, problems)
                follower.join()
                if problems:
                    raise problems[0]
            except PrdeckError as error:
                failures += 1
                on_error(error)
                stop.wait(RETRY_SECONDS[min(failures - 1, len(RETRY_SECONDS) - 1)])

    def _watch_round(self, lister: Callable[..., Any], model: str, version: str, apply: Callable[[str, Any], None],
                     index: PreviewIndex, on_change: Callable[[list[Preview]], None], round_over: threading.Event,
                     problems: list[PrdeckError]) -> None:
        """One watch until the app stops, or it or its sibling must list again (both set ``round_over``)."""
        try:
            self._watch(lister, model, version, apply, index, on_change, round_over)
        except PrdeckError as error:
            problems.append(error)
        finally:
            round_over.set()

    def _watch(
        self, lister: Callable[..., Any], model: str, version: str, apply: Callable[[str, Any], None],
        index: PreviewIndex, on_change: Callable[[list[Preview]], None], stop: threading.Event,
    ) -> None:
        """Follow changes from ``version`` until ``stop``; return to re-list after ``410 Gone``."""
        decoder = watch.Watch()
        guard = StreamGuard(stop)
        while not stop.is_set():
            with cluster_errors("watching previews"):
                response = lister(
                    label_selector=SELECTOR,
                    watch=True,
                    resource_version=version,
                    allow_watch_bookmarks=True,
                    timeout_seconds=WATCH_SECONDS,
                    _preload_content=False,
                    _request_timeout=(CONNECT_TIMEOUT, WATCH_SECONDS + READ_TIMEOUT),
                )
            with guard.tracking(response), cluster_errors("watching previews"):
                try:
                    for line in stream_lines(response):
                        event = decoder.unmarshal_event(line, model)
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
                        apply(event["type"], event["object"])
                        on_change(index.previews())
                except CLUSTER_FAILURES:
                    if stop.is_set():
                        return  # the guard shut the stream down
                    raise

    # one preview --------------------------------------------------------------------------------------
    def preview(self, namespace: str, ns: Any = None) -> Preview:
        """The preview in ``namespace``: its pods, and the namespace itself (a preview may have no pods); ``ns``:
        the namespace as a list call just gave it (then it is not read again)."""
        with cluster_errors(f"reading {namespace}"):
            pods = self.core.list_namespaced_pod(
                namespace, label_selector=SELECTOR, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
            ).items
            ns = ns if ns is not None else self._read_namespace(namespace)
        found = previews_from_pods(list(pods), [ns] if ns is not None else [])
        if not found:
            raise NotFound(f"No preview in namespace {namespace}", "launch one first")
        return found[0]

    def events(self, namespace: str, limit: int = 12) -> list[ClusterEvent]:
        """The newest events of a preview's namespace, oldest first."""
        with cluster_errors(f"reading events of {namespace}"):
            items = self.core.list_namespaced_event(namespace, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)).items
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

        Transient failures (5xx, 429, a lost connection) of the delete and of the reads that follow it are
        retried until ``timeout``; a delete whose answer was lost is found done (404, or 409 "being deleted")
        on its retry. Raises Unavailable when it is still Terminating after ``timeout`` seconds, naming the
        finalizers.
        """
        deadline = time.monotonic() + timeout
        backoff = Backoff(f"deleting {namespace}", deadline)
        with cluster_errors(f"deleting {namespace}"):
            while True:
                try:
                    self.core.delete_namespace(namespace, _request_timeout=(CONNECT_TIMEOUT, WRITE_TIMEOUT))
                    break
                except ApiException as exc:
                    if exc.status == 404 and backoff.attempt == 0:
                        raise NotFound(f"Namespace {namespace} does not exist", "the preview is already gone") from exc
                    if exc.status in (404, 409):  # an earlier try went through: gone, or being deleted
                        break
                    backoff.wait(exc)
                except CLUSTER_FAILURES as exc:
                    backoff.wait(exc)
        yield f"deleting namespace {namespace}"
        last = None
        follow = Backoff(f"following {namespace}", deadline)
        while True:
            try:
                ns: Any = self._read_namespace(namespace)
            except CLUSTER_FAILURES as exc:
                with cluster_errors(f"following {namespace}"):
                    follow.wait(exc)
                continue
            follow.succeeded()
            if ns is None:
                yield f"namespace {namespace} is gone"
                return
            pods = self._count_pods(namespace)
            line = f"{namespace}: {ns.status.phase}, {pods} pod{'s' if pods != 1 else ''} left"
            if line != last:
                yield line
                last = line
            if time.monotonic() > deadline:
                finalizers = ", ".join((ns.metadata.finalizers or []) + (ns.spec.finalizers or [] if ns.spec else []))
                raise Unavailable(
                    f"Namespace {namespace} is stuck Terminating",
                    f"still there after {timeout:.0f}s; finalizers: {finalizers or 'none'}. A cluster admin can "
                    f"inspect it with `kubectl get namespace {namespace} -o yaml`",
                )
            threading.Event().wait(poll)

    def _read_namespace(self, namespace: str) -> Any:
        """The namespace, or None once it is gone; the client's failures pass unchanged."""
        try:
            return self.core.read_namespace(namespace, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def _count_pods(self, namespace: str) -> int:
        with contextlib.suppress(*CLUSTER_FAILURES):
            return len(self.core.list_namespaced_pod(namespace, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)).items)
        return 0
