"""Logs of every container of a preview, interleaved, resumed without duplicates when a stream is cut.

Each container is read by its own thread (the kubelet serves one stream per container); lines meet in one queue
with a ``pod/container`` prefix. prdeck always asks for timestamps: they order the lines and let a cut stream
resume from the last line seen (``sinceSeconds`` reaches back a little; lines at or before that moment that
were already shown are dropped).
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes.client.rest import ApiException

from prdeck.services.errors import NotFound, UsageError
from prdeck.services.kube.client import CONNECT_TIMEOUT, READ_TIMEOUT
from prdeck.services.kube.errors import CLUSTER_FAILURES, cluster_errors, status_message
from prdeck.services.kube.retry import Backoff, Stopped, transient
from prdeck.services.kube.service import ClusterService
from prdeck.services.kube.streams import StreamGuard, stream_line_batches
from prdeck.services.models import LogLine, LogRequest

FOLLOW_READ_TIMEOUT = 300
LOGS_TIMEOUT = 30.0
"""Seconds a read without ``follow`` keeps retrying an unreachable cluster (``-f`` retries until stopped)."""
READERS_EXIT_SECONDS = 3.0
"""How long the end of a log read waits for its reader threads (the stream guard cuts their reads at once)."""


def stamp_key(stamp: str) -> tuple[str, str]:
    """RFC 3339 stamps with fractions of any length, comparable: (seconds part, fraction padded to 9)."""
    head, _, rest = stamp.rstrip("Z").partition(".")
    return head, rest.ljust(9, "0")


def _age_seconds(stamp: str) -> int:
    head, fraction = stamp_key(stamp)
    moment = datetime.fromisoformat(head + "+00:00")
    return max(1, math.ceil((datetime.now(UTC) - moment).total_seconds() + 1 - int(fraction[:6] or 0) / 1e6))


class _Link:
    """What the readers of one log request know about the connection: lost (since when), or fine. The first
    reader back after a loss says so, once, in the log itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lost_at: float | None = None

    def lost(self) -> None:
        with self._lock:
            if self._lost_at is None:
                self._lost_at = time.monotonic()

    def back(self) -> float | None:
        """Seconds the connection was lost, for the first reader back (None for the others)."""
        with self._lock:
            lost_at, self._lost_at = self._lost_at, None
        return None if lost_at is None else time.monotonic() - lost_at


class _Reader(threading.Thread):
    """Reads one container's log into the shared queue, resuming after a cut or an outage."""

    def __init__(
        self,
        cluster: ClusterService,
        namespace: str,
        pod: str,
        container: str,
        request: LogRequest,
        out: queue.Queue[Any],
        stop: threading.Event,
        guard: StreamGuard,
        link: _Link,
    ) -> None:
        super().__init__(daemon=True, name=f"logs-{pod}-{container}")
        self.cluster, self.namespace, self.pod, self.container = cluster, namespace, pod, container
        self.request, self.out, self.stop_event, self.guard, self.link = request, out, stop, guard, link

    def run(self) -> None:
        try:
            with cluster_errors(f"reading logs of {self.pod}/{self.container}"):
                self._read()
        except Stopped:
            pass
        except Exception as exc:  # not handled here: handed unchanged to the consumer's thread, which raises it
            self.out.put(exc)
        finally:
            self.out.put(None)

    def _open(self, since_seconds: int | None, tail: int | None) -> Any:
        request = self.request
        kwargs: dict[str, Any] = {
            "container": self.container,
            "timestamps": True,
            "follow": request.follow,
            "previous": request.previous,
            "_preload_content": False,
            "_request_timeout": (CONNECT_TIMEOUT, FOLLOW_READ_TIMEOUT),
        }
        if since_seconds is not None:
            kwargs["since_seconds"] = since_seconds
        if tail is not None:
            kwargs["tail_lines"] = tail
        try:
            return self.cluster.core.read_namespaced_pod_log(self.pod, self.namespace, **kwargs)
        except ApiException as exc:
            if exc.status == 400:
                raise UsageError(f"No logs for {self.pod}/{self.container}", status_message(exc)) from exc
            raise

    def _read(self) -> None:
        """Read, and while following, read again after a cut (from the last line seen) or an outage (after a
        backoff, for as long as it lasts; without ``follow``, for :data:`LOGS_TIMEOUT`)."""
        last: tuple[str, str] | None = None
        seen_at_last: set[str] = set()
        since, tail = self.request.since_seconds, self.request.tail
        deadline = math.inf if self.request.follow else time.monotonic() + LOGS_TIMEOUT
        backoff = Backoff(f"reading logs of {self.pod}/{self.container}", deadline, self.stop_event)
        opened = False
        while not self.stop_event.is_set():
            try:
                response = self._open(since, tail)
            except CLUSTER_FAILURES as exc:
                if opened and isinstance(exc, ApiException) and exc.status == 404:
                    return  # the pod went away while the stream was down
                self.link.lost()
                backoff.wait(exc)
                continue
            self._reconnected()
            opened = True
            catching_up = last is not None
            """A resumed stream starts a little before the cut: drop what was shown until past it."""
            cut: Exception | None = None
            shown = 0
            with self.guard.tracking(response):
                try:
                    for raws in stream_line_batches(response):
                        if self.stop_event.is_set():
                            return
                        batch = []
                        for raw in raws:
                            stamp, _, text = raw.partition(" ")
                            key = stamp_key(stamp)
                            if catching_up and last is not None:
                                if key < last or (key == last and raw in seen_at_last):
                                    continue
                                catching_up = False
                            if key != last:
                                last, seen_at_last = key, set()
                            seen_at_last.add(raw)
                            batch.append(LogLine(self.pod, self.container, stamp, text))
                        if batch:
                            shown += len(batch)
                            self.out.put(batch)
                except (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError, OSError) as exc:
                    cut = exc
            if not self.request.follow or self.stop_event.is_set():
                return
            if cut is None:
                running = self._still_running()
                if running is False:
                    return
                if running is None:  # the cluster cannot say: as after a cut
                    cut = urllib3.exceptions.ProtocolError("the cluster did not answer")
            if cut is not None and not shown:
                backoff.wait(cut)  # a stream cut before its first line: no tight loop
            elif cut is not None:
                backoff.succeeded()
            if last is None:
                since, tail = self.request.since_seconds, self.request.tail
            else:
                since, tail = _age_seconds(f"{last[0]}.{last[1]}Z"), None

    def _reconnected(self) -> None:
        seconds = self.link.back()
        if seconds is not None:
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            self.out.put([LogLine(self.pod, self.container, stamp,
                                  f"reconnected to the cluster after {seconds:.0f} s; following the logs again",
                                  notice=True)])

    def _still_running(self) -> bool | None:
        """Whether the container still runs (its log may go on); None when the cluster cannot be asked."""
        try:
            pod: Any = self.cluster.core.read_namespaced_pod(
                self.pod, self.namespace, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
            )
        except CLUSTER_FAILURES as exc:
            return None if transient(exc) else False
        if pod.metadata.deletion_timestamp is not None:
            return False
        for status in pod.status.container_statuses or []:
            if status.name == self.container:
                return status.state is not None and status.state.running is not None
        return False


def _join(readers: list[_Reader], seconds: float) -> None:
    """Wait (bounded) for the readers to end: a process must not exit while they are inside a socket read, or
    interpreter shutdown can abort it (seen as SIGABRT after Ctrl+C on `prdeck logs -f`)."""
    deadline = time.monotonic() + seconds
    for reader in readers:
        if reader.is_alive():
            reader.join(max(0.0, deadline - time.monotonic()))


def preview_logs(
    cluster: ClusterService, namespace: str, request: LogRequest, stop: threading.Event | None = None
) -> Generator[LogLine, None, None]:
    """Lines of every container of every pod in ``namespace`` (or only ``request.container``), as they come."""
    with contextlib.closing(preview_log_batches(cluster, namespace, request, stop)) as batches:
        for batch in batches:
            yield from batch


def preview_log_batches(
    cluster: ClusterService, namespace: str, request: LogRequest, stop: threading.Event | None = None
) -> Generator[list[LogLine], None, None]:
    """:func:`preview_logs` a network chunk at a time: a burst of thousands of lines costs one hand-over.

    Without ``follow``, everything is read first and comes back in one batch, ordered by time.
    """
    preview = cluster.preview(namespace)
    stop = stop or threading.Event()
    targets = [(pod.name, name) for pod in preview.pods for name in pod.containers if request.container in (None, name)]
    if not targets:
        names = sorted({name for pod in preview.pods for name in pod.containers})
        raise NotFound(f"No container {request.container!r} in {namespace}", f"containers: {', '.join(names)}")
    out: queue.Queue[Any] = queue.Queue(maxsize=1_000)
    guard, link = StreamGuard(stop), _Link()
    readers = [_Reader(cluster, namespace, pod, container, request, out, stop, guard, link)
               for pod, container in targets]
    for reader in readers:
        reader.start()
    running = len(readers)
    collected: list[LogLine] = []
    try:
        while running:
            item = out.get()
            if item is None:
                running -= 1
            elif isinstance(item, Exception):  # a reader's PrdeckError, or its bug, unchanged
                stop.set()
                raise item
            elif request.follow:
                yield item
            else:
                collected.extend(item)
    finally:
        stop.set()
        _join(readers, READERS_EXIT_SECONDS)
    if collected:
        yield sorted(collected, key=lambda line: stamp_key(line.timestamp))
