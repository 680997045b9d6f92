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
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from tests.fault_proxy_wire import close_after, read_body, read_head, relay, reset, status_response


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
    fault: str | None  # the rule's kind, or None: forwarded


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

    def stall(self, method: str | None = None, path: str | None = None) -> Rule:
        return self._add(Rule("stall", method, path, None))

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
            reset(sock)

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
            if time.monotonic() < self._refuse_until:  # the listener is closed: connections are refused
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
            reset(client)
            return
        try:
            head, rest = read_head(client)
            if head is None:
                return
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip()
                       for line in header_lines if ":" in line}
            rule = self._take(method, target)
            if rule is not None and rule.kind != "lose":
                rest += read_body(client, headers, rest)
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
            upstream.sendall(close_after(head) + rest)
            if rule is not None:  # lose: let the request take effect, then never relay the answer
                upstream.sendall(read_body(client, headers, rest))
                while upstream.recv(65536):
                    pass
                reset(client)
                return
            relay(client, upstream)
        except OSError:
            pass
        finally:
            self._untrack(client, *([upstream] if upstream is not None else []))

    def _fault(self, client: socket.socket, rule: Rule) -> None:
        if rule.kind == "status":
            client.sendall(status_response(rule.status, rule.retry_after))
        elif rule.kind == "drop":
            reset(client)
        elif rule.kind == "outage":
            reset(client)
            self._begin_outage(rule.seconds)
        elif rule.kind == "stall":
            released = self._released
            while not (released.wait(0.1) or self._closed.is_set()):
                pass
