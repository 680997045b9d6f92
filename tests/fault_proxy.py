"""A fault-injecting HTTP proxy between prdeck and the Kubernetes sandbox, on loopback only.

It forwards every request to the sandbox unchanged, one connection per request (it asks the sandbox for
``Connection: close``, so each request is seen and can be failed on its own), and on command:

- ``fail(times, status)``: answers the next matching requests with a Kubernetes ``Status`` error (a 429 may
  carry ``Retry-After``);
- ``drop(times)``: resets the connection of the next matching requests without an answer;
- ``lose(times)``: forwards the next matching requests but resets the connection instead of relaying the
  answer (the request took effect; the client cannot know);
- ``stall()``: accepts matching requests and never answers (a silent API server);
- ``outage(seconds)``: from the next matching request on (or at once), refuses every connection for that long
  and cuts those in flight (watches, log streams) — an API server that goes away and comes back;
- ``cut()``: closes every connection in flight.

Rules match on the method and a regular expression searched in the request target (path and query).
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import yaml


@dataclass
class Rule:
    kind: str  # "status", "drop", "lose", "stall" or "outage"
    method: str | None
    path: str | None
    times: int | None  # None: every matching request
    status: int = 500
    retry_after: int | None = None
    seconds: float = 0.0
    hits: int = 0

    def matches(self, method: str, target: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or re.search(self.path, target) is not None)


@dataclass(frozen=True)
class Seen:
    method: str
    target: str
    fault: str | None


class FaultProxy:
    """Listens on 127.0.0.1 and forwards to ``upstream`` (the sandbox's URL), injecting the faults it is told."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"loopback only, not {upstream}")
        self._upstream = (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        self._tls = parts.scheme == "https"
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._refuse_until = 0.0
        self._closed = threading.Event()
        self._released = threading.Event()
        self.seen: list[Seen] = []
        self._listener = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)

    # life ---------------------------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closed.set()
        self._released.set()
        self._thread.join(5)
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kubeconfig(self, source: Path, dest: Path) -> Path:
        """``source`` with every cluster's server pointed at this proxy."""
        config = yaml.safe_load(source.read_text())
        for entry in config.get("clusters") or []:
            cluster = entry["cluster"]
            cluster["server"] = self.url
            for key in ("certificate-authority", "certificate-authority-data", "tls-server-name"):
                cluster.pop(key, None)
        dest.write_text(yaml.safe_dump(config))
        dest.chmod(0o600)
        return dest

    # faults -------------------------------------------------------------------------------------------
    def fail(self, times: int | None = 1, status: int = 500, method: str | None = None, path: str | None = None,
             retry_after: int | None = None) -> Rule:
        return self._add(Rule("status", method, path, times, status=status, retry_after=retry_after))

    def drop(self, times: int | None = 1, method: str | None = None, path: str | None = None) -> Rule:
        return self._add(Rule("drop", method, path, times))

    def lose(self, times: int | None = 1, method: str | None = None, path: str | None = None) -> Rule:
        return self._add(Rule("lose", method, path, times))

    def stall(self, times: int | None = None, method: str | None = None, path: str | None = None) -> Rule:
        return self._add(Rule("stall", method, path, times))

    def outage(self, seconds: float, method: str | None = None, path: str | None = None) -> Rule | None:
        """Refuse connections for ``seconds``: at once, or from the next request matching ``method``/``path``."""
        if method is None and path is None:
            self._begin_outage(seconds)
            return None
        return self._add(Rule("outage", method, path, 1, seconds=seconds))

    def clear(self) -> None:
        """No more faults; stalled requests are let go (their connections close)."""
        with self._lock:
            self._rules.clear()
            self._refuse_until = 0.0
        self._released.set()
        self._released = threading.Event()

    def cut(self) -> None:
        """Close every connection in flight."""
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            _reset(sock)

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if Rule("", method, path, None).matches(s.method, s.target)]

    def _add(self, rule: Rule) -> Rule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def _take(self, method: str, target: str) -> Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, target) and (rule.times is None or rule.hits < rule.times):
                    rule.hits += 1
                    self.seen.append(Seen(method, target, rule.kind))
                    return rule
            self.seen.append(Seen(method, target, None))
            return None

    def _begin_outage(self, seconds: float) -> None:
        with self._lock:
            self._refuse_until = time.monotonic() + seconds
            with contextlib.suppress(OSError):
                self._listener.close()  # refused from now on (the accept loop listens again afterwards)
        self.cut()

    # serving ------------------------------------------------------------------------------------------
    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.settimeout(0.05)
        return listener

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            if time.monotonic() < self._refuse_until:
                if self._listener.fileno() != -1:
                    self._listener.close()  # connections are refused, as by a stopped API server
                time.sleep(0.02)
                continue
            if self._listener.fileno() == -1:
                self._listener = self._listen(self.port)
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            client.settimeout(None)
            threading.Thread(target=self._serve, args=(client,), name="fault-proxy-conn", daemon=True).start()

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.update(socks)

    def _untrack(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.difference_update(socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.close()

    def _serve(self, client: socket.socket) -> None:
        self._track(client)
        upstream: socket.socket | None = None
        if time.monotonic() < self._refuse_until:  # accepted just as the outage began
            self._untrack(client)
            _reset(client)
            return
        try:
            head, rest = _read_head(client)
            if head is None:
                return
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip()
                       for line in header_lines if ":" in line}
            rule = self._take(method, target)
            if rule is not None and rule.kind != "lose":
                rest += _read_body(client, headers, rest)
                self._fault(client, rule)
                return
            upstream = socket.create_connection(self._upstream, timeout=5)
            if self._tls:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                upstream = context.wrap_socket(upstream)
            upstream.settimeout(None)
            self._track(upstream)
            upstream.sendall(_close_after(head) + rest)
            if rule is not None:  # lose: let the request take effect, then never relay the answer
                upstream.sendall(_read_body(client, headers, rest))
                while upstream.recv(65536):
                    pass
                _reset(client)
                return
            _pump(client, upstream)
        except OSError:
            pass
        finally:
            self._untrack(client, *([upstream] if upstream is not None else []))

    def _fault(self, client: socket.socket, rule: Rule) -> None:
        if rule.kind == "status":
            client.sendall(_status_response(rule.status, rule.retry_after))
        elif rule.kind == "drop":
            _reset(client)
        elif rule.kind == "outage":
            _reset(client)
            self._begin_outage(rule.seconds)
        elif rule.kind == "stall":
            released = self._released
            while not (released.wait(0.1) or self._closed.is_set()):
                pass


def _read_head(sock: socket.socket) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
        if len(data) > 1 << 20:
            return None, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _read_body(sock: socket.socket, headers: dict[str, str], have: bytes) -> bytes:
    """The rest of the request body (drained before a fault answer: unread data would turn our FIN into a RST)."""
    missing = int(headers.get("content-length", "0") or 0) - len(have)
    more = b""
    sock.settimeout(2)
    with contextlib.suppress(OSError):
        while len(more) < missing:
            chunk = sock.recv(min(65536, missing - len(more)))
            if not chunk:
                break
            more += chunk
    sock.settimeout(None)
    return more


def _close_after(head: bytes) -> bytes:
    """The request head asking for ``Connection: close`` (one request per connection), unless it upgrades."""
    lines = head.split(b"\r\n")
    if any(line.lower().startswith(b"upgrade:") for line in lines):
        return head + b"\r\n\r\n"
    kept = [line for line in lines if not line.lower().startswith((b"connection:", b"keep-alive:"))]
    return b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n"


def _pump(client: socket.socket, upstream: socket.socket) -> None:
    """Carry bytes both ways until the upstream closes (it answers one request, then closes)."""
    sockets = [client, upstream]
    while True:
        readable, _, broken = select.select(sockets, [], sockets, 1.0)
        if broken:
            return
        for sock in readable:
            chunk = sock.recv(65536)
            if not chunk:
                if sock is upstream:
                    return
                with contextlib.suppress(OSError):
                    upstream.shutdown(socket.SHUT_WR)
                sockets = [upstream]
                continue
            (upstream if sock is client else client).sendall(chunk)


def _status_response(status: int, retry_after: int | None) -> bytes:
    phrase = HTTPStatus(status).phrase
    body = json.dumps({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f"fault proxy: {phrase.lower()}", "reason": phrase.replace(" ", ""), "code": status,
    }).encode()
    headers = [f"HTTP/1.1 {status} {phrase}", "Content-Type: application/json", f"Content-Length: {len(body)}",
               "Connection: close"]
    if retry_after is not None:
        headers.append(f"Retry-After: {retry_after}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


def _reset(sock: socket.socket) -> None:
    """Close with a RST (the peer sees "connection reset"), not a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)  # wakes a thread blocked reading it
    with contextlib.suppress(OSError):
        sock.close()


@contextlib.contextmanager
def proxied(upstream: str) -> Iterator[FaultProxy]:
    with FaultProxy(upstream) as proxy:
        yield proxy
