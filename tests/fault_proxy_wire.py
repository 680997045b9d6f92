"""Bytes on the wire for tests/fault_proxy.py: reading a request, relaying it, answering it with a Kubernetes
``Status`` error, or resetting its connection."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
from http import HTTPStatus


def read_head(sock: socket.socket) -> tuple[bytes | None, bytes]:
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


def read_body(sock: socket.socket, headers: dict[str, str], have: bytes) -> bytes:
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


def close_after(head: bytes) -> bytes:
    """The request head asking for ``Connection: close`` (one request per connection), unless it upgrades."""
    lines = head.split(b"\r\n")
    if any(line.lower().startswith(b"upgrade:") for line in lines):
        return head + b"\r\n\r\n"
    kept = [line for line in lines if not line.lower().startswith((b"connection:", b"keep-alive:"))]
    return b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n"


def relay(client: socket.socket, upstream: socket.socket) -> None:
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


def status_response(status: int, retry_after: int | None) -> bytes:
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


def reset(sock: socket.socket) -> None:
    """Close with a RST (the peer sees "connection reset"), not a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)  # wakes a thread blocked reading it
    with contextlib.suppress(OSError):
        sock.close()
