"""``GET /api/v1/namespaces/{ns}/pods/{name}/portforward?ports=P``: the kubelet's port-forward, over WebSocket.

Speaks the framing the kubernetes Python client uses (``v4.channel.k8s.io``): each port gets a data channel
``2i`` and an error channel ``2i+1``; the server first sends every channel its port number (two bytes, little
endian), then every binary message is one channel byte followed by payload. The sandbox's pods run no process,
so a port the pod declares answers HTTP itself with a page naming the pull request, the commit and the image;
any other port gets "connection refused" on the error channel, as a real kubelet reports it.
"""

from __future__ import annotations

import asyncio
import html
from typing import Any

from aiohttp import WSMsgType, web

from prdeck.services.naming import ANNOTATION_REPO, ANNOTATION_SHA, LABEL_PR
from prdeck.services.sandbox.kube.errors import KubeError

PROTOCOLS = ("v4.channel.k8s.io", "portforward.k8s.io")
MAX_REQUEST = 64 * 1024


def _ports(query: str | None) -> list[int]:
    ports = []
    for text in (query or "").split(","):
        if not text.strip().isdigit() or not 0 < int(text) < 65536:
            raise KubeError(400, f"invalid port {text!r}: must be 1-65535")
        ports.append(int(text))
    if not ports:
        raise KubeError(400, "at least one port must be specified")
    return ports


def _declared_ports(pod: dict[str, Any]) -> set[int]:
    return {
        int(port["containerPort"])
        for container in pod["spec"]["containers"]
        for port in container.get("ports") or []
        if "containerPort" in port
    }


def page(pod: dict[str, Any], path: str) -> bytes:
    """What the sandbox pod serves: enough to tell which PR and commit a preview runs."""
    metadata = pod["metadata"]
    annotations, labels = metadata.get("annotations") or {}, metadata.get("labels") or {}
    repo, number = annotations.get(ANNOTATION_REPO, "?"), labels.get(LABEL_PR, "?")
    sha = annotations.get(ANNOTATION_SHA, "unknown")
    images = ", ".join(c["image"] for c in pod["spec"]["containers"])
    if path.startswith("/healthz"):
        return b"ok"
    body = (
        f"<!doctype html><title>Preview of {html.escape(repo)}#{html.escape(number)}</title>"
        f"<h1>Preview of {html.escape(repo)} #{html.escape(number)}</h1>"
        f"<p>commit <code>{html.escape(sha)}</code></p><p>pod {html.escape(metadata['name'])} "
        f"in {html.escape(metadata['namespace'])}, image {html.escape(images)}</p>"
        "<p>Served by the prdeck Kubernetes sandbox.</p>\n"
    )
    return body.encode()


def http_answer(pod: dict[str, Any], request: bytes) -> bytes:
    request_line = request.split(b"\r\n", 1)[0].decode(errors="replace").split()
    method = request_line[0] if request_line else "GET"
    path = request_line[1] if len(request_line) > 1 else "/"
    body = page(pod, path)
    kind = "text/plain" if path.startswith("/healthz") else "text/html; charset=utf-8"
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
        f"X-Prdeck-Sandbox-Pod: {pod['metadata']['name']}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + (b"" if method == "HEAD" else body)


async def serve_portforward(request: web.Request, pod: dict[str, Any]) -> web.StreamResponse:
    ports = _ports(request.query.get("ports"))
    if (pod.get("status") or {}).get("phase") != "Running":
        raise KubeError(400, f"unable to upgrade connection: pod {pod['metadata']['name']} is not running")
    socket = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True)
    await socket.prepare(request)
    for index, port in enumerate(ports):
        number = port.to_bytes(2, "little")
        await socket.send_bytes(bytes([index * 2]) + number)
        await socket.send_bytes(bytes([index * 2 + 1]) + number)
    declared = _declared_ports(pod)
    buffers: dict[int, bytes] = {}
    answered: set[int] = set()
    for index, port in enumerate(ports):
        if port not in declared:
            refused = (f"error forwarding port {port} to pod {pod['metadata']['name']}, uid "
                       f"{pod['metadata'].get('uid', '')}: dial tcp4 127.0.0.1:{port}: connect: connection refused")
            await socket.send_bytes(bytes([index * 2 + 1]) + refused.encode())
            answered.add(index)
    while not socket.closed:
        message = await socket.receive()
        if message.type != WSMsgType.BINARY or not message.data:
            if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
            continue
        channel, payload = message.data[0], message.data[1:]
        index = channel // 2
        if channel % 2 or index >= len(ports) or index in answered:
            continue
        buffers[index] = buffers.get(index, b"") + payload
        if b"\r\n\r\n" in buffers[index] or len(buffers[index]) > MAX_REQUEST:
            await socket.send_bytes(bytes([channel]) + http_answer(pod, buffers[index]))
            answered.add(index)
        if len(answered) == len(ports):
            await asyncio.sleep(0.05)  # let the client read the answer before the close frame
            break
    await socket.close()
    return socket

