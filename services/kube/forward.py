"""A local listener on 127.0.0.1 that relays each connection to a preview pod through the port-forward API.

Without a preview domain this is how ``o`` and ``prdeck open --forward`` reach a preview: like
``kubectl port-forward``, one WebSocket per accepted connection, kept until the relay stops.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from typing import Any

from kubernetes.stream import portforward
from websocket import WebSocketException

from prdeck.services.errors import NotFound, PrdeckError, Unavailable
from prdeck.services.kube.client import CONNECT_TIMEOUT, READ_TIMEOUT
from prdeck.services.kube.errors import CLUSTER_FAILURES, cluster_errors
from prdeck.services.kube.service import ClusterService
from prdeck.services.naming import SELECTOR

CHUNK = 64 * 1024
RELAY_FAILURES: tuple[type[Exception], ...] = (PrdeckError, WebSocketException, *CLUSTER_FAILURES)
"""What can go wrong relaying one connection: the browser gets them as a 502; anything else is a bug."""


def _listen(preferred: int) -> socket.socket:
    for port in (preferred, 0):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(("127.0.0.1", port))
        except OSError:
            listener.close()
            continue
        listener.listen(32)
        return listener
    raise Unavailable("No free local port for the relay", "127.0.0.1 refused every port")


def service_port(cluster: ClusterService, namespace: str, fallback: int) -> int:
    """The pod port behind the preview's Service (its first port's targetPort), else ``fallback``."""
    with cluster_errors(f"reading the services of {namespace}"):
        services: list[Any] = cluster.core.list_namespaced_service(
            namespace, label_selector=SELECTOR, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
        ).items
    for service in services:
        for port in service.spec.ports or []:
            target = port.target_port if isinstance(port.target_port, int) else port.port
            return int(target)
    return fallback


class PortForwardRelay:
    """Relays ``127.0.0.1:<local_port>`` to ``port`` of a ready pod in ``namespace``."""

    def __init__(self, cluster: ClusterService, namespace: str, port: int, preferred_local_port: int = 0) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.port = port
        self._preferred = preferred_local_port
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self.errors: list[str] = []

    @property
    def local_port(self) -> int:
        assert self._listener is not None
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}/"

    def pod(self) -> str:
        with cluster_errors(f"finding a pod in {self.namespace}"):
            pods: list[Any] = self.cluster.core.list_namespaced_pod(
                self.namespace, label_selector=SELECTOR, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
            ).items
        running = [p for p in pods if p.status.phase == "Running" and p.metadata.deletion_timestamp is None]
        ready = [p for p in running if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]
        chosen = (ready or running)[:1]
        if not chosen:
            raise NotFound(f"No running pod in {self.namespace}", "The preview is not up; launch it (l) and wait.")
        return str(chosen[0].metadata.name)

    def start(self) -> PortForwardRelay:
        self.pod()  # fail now, not at the first connection, when nothing runs
        self._listener = _listen(self._preferred)
        threading.Thread(target=self._accept, name=f"prdeck-relay-{self.namespace}", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(connection,), daemon=True).start()

    def _relay(self, connection: socket.socket) -> None:
        forward: Any = None
        try:
            forward = portforward(
                self.cluster.core.connect_get_namespaced_pod_portforward, self.pod(), self.namespace,
                ports=str(self.port),
            )
            remote = forward.socket(self.port)
            remote.setblocking(True)
            _pump(connection, remote, self._stop)
            error = forward.error(self.port)
            if error:
                self.errors.append(error)
        except RELAY_FAILURES as exc:
            self.errors.append(str(exc))
            with contextlib.suppress(OSError):
                body = f"prdeck relay: cannot reach {self.namespace}:{self.port}: {exc}\n".encode()
                connection.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: "
                                   + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        finally:
            connection.close()
            if forward is not None:
                with contextlib.suppress(OSError, WebSocketException):
                    forward.close()


def _pump(local: socket.socket, remote: socket.socket, stop: threading.Event) -> None:
    """Copy bytes both ways until both sides are done (or the remote closes)."""
    open_ends = {local: remote, remote: local}
    while open_ends and not stop.is_set():
        readable, _, _ = select.select(list(open_ends), [], [], 0.5)
        for source in readable:
            try:
                data = source.recv(CHUNK)
            except OSError:
                data = b""
            target = open_ends.get(source)
            if target is None:
                continue
            if not data:
                open_ends.pop(source, None)
                if source is remote:
                    return
                continue  # no half-close: the client library would drop the whole stream
            try:
                target.sendall(data)
            except OSError:
                return
