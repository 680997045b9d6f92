"""``GET /api/v1/namespaces/{ns}/pods/{name}/log``: the kubelet's log endpoint, with follow, tail and since."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from prdeck.services.sandbox.kube.errors import KubeError
from prdeck.services.sandbox.kube.faults import Faults
from prdeck.services.sandbox.kube.logs import LogBook
from prdeck.services.sandbox.kube.resources import BY_KIND
from prdeck.services.sandbox.kube.store import KubeStore


def _bad(message: str) -> KubeError:
    return KubeError(400, message)


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name) in ("true", "1")


def _container(pod: dict[str, Any], wanted: str | None) -> str:
    names = [c["name"] for c in [*pod["spec"]["containers"], *(pod["spec"].get("initContainers") or [])]]
    name = pod["metadata"]["name"]
    if wanted is None:
        if len(names) == 1:
            return names[0]
        raise _bad(f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]")
    if wanted not in names:
        raise _bad(f"container {wanted} is not valid for pod {name}")
    return wanted


def _waiting_reason(pod: dict[str, Any], container: str) -> str | None:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status["name"] == container and "waiting" in status.get("state", {}):
            return status["state"]["waiting"].get("reason", "ContainerCreating")
    if not (pod.get("status") or {}).get("containerStatuses"):
        return "ContainerCreating"
    return None


def _since(request: web.Request) -> str | None:
    """The earliest timestamp wanted, in the kubelet's sortable RFC 3339 form, from sinceSeconds or sinceTime."""
    if seconds := request.query.get("sinceSeconds"):
        try:
            moment = datetime.now(UTC) - timedelta(seconds=int(seconds))
        except ValueError as exc:
            raise _bad(f'invalid value "{seconds}" for sinceSeconds') from exc
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"
    if text := request.query.get("sinceTime"):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise _bad(f'invalid value "{text}" for sinceTime') from exc
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"
    return None


async def serve_log(
    store: KubeStore, book: LogBook, faults: Faults, request: web.Request, namespace: str, name: str
) -> web.StreamResponse:
    pod = store.get(BY_KIND["Pod"], namespace, name)
    container = _container(pod, request.query.get("container"))
    logs = book.pod(namespace, name)
    log = logs.container(container)
    previous = _flag(request, "previous")
    if previous:
        # While a crashed container waits to restart, its last run is the terminated one.
        terminated = log.runs[-1] if log.finished else (log.runs[-2] if len(log.runs) > 1 else None)
        if terminated is None:
            raise _bad(f'previous terminated container "{container}" in pod "{name}" not found')
        lines = list(terminated)
    else:
        reason = _waiting_reason(pod, container)
        if reason is not None and not any(log.runs[-1:]) and len(log.runs) < 2:
            raise _bad(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        lines = list(log.runs[-1])
    since = _since(request)
    if since is not None:
        lines = [line for line in lines if line[0] >= since]
    if (tail := request.query.get("tailLines")) is not None:
        try:
            count = int(tail)
        except ValueError as exc:
            raise _bad(f'invalid value "{tail}" for tailLines') from exc
        lines = lines[-count:] if count > 0 else []
    stamps = _flag(request, "timestamps")
    follow = _flag(request, "follow") and not previous
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await response.prepare(request)
    sent = 0
    cut = faults.cut_logs_after if faults.cut_logs_times > 0 else None
    if cut is not None:
        faults.cut_logs_times -= 1

    async def send(entries: list[tuple[str, str]]) -> bool:
        """Write lines in one chunk; False once the ``cut_logs_after`` fault says the stream breaks."""
        nonlocal sent
        allowed = entries if cut is None else entries[: max(cut - sent, 0)]
        if allowed:
            body = "".join((f"{stamp} " if stamps else "") + text + "\n" for stamp, text in allowed)
            await response.write(body.encode())
            sent += len(allowed)
        return len(allowed) == len(entries)

    run = log.runs[-1] if not previous else None
    if not await send(lines):
        return _cut(request, response)
    if not follow or run is None:
        await response.write_eof()
        return response
    position = len(run)
    try:
        while True:
            async with logs.grew:
                while position == len(run) and not log.finished and not logs.gone and log.runs[-1] is run:
                    try:
                        async with asyncio.timeout(5):  # not wait_for: see world.run
                            await logs.grew.wait()
                    except TimeoutError:
                        continue
            fresh = run[position:]
            position += len(fresh)
            if not await send(fresh):
                return _cut(request, response)
            if log.finished or logs.gone or log.runs[-1] is not run:
                break
    except (ConnectionResetError, asyncio.CancelledError):
        return response
    await response.write_eof()
    return response


def _cut(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Drop the connection mid-stream (the ``cut_logs_after`` fault): the client sees a truncated body."""
    if request.transport is not None:
        request.transport.abort()
    return response
