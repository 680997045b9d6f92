"""``GET ...?watch=true``: a backlog from a resourceVersion (or the current objects), then every change as it
happens, with bookmarks, until ``timeoutSeconds`` or until the sandbox ends every watch."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from prdeck.services.sandbox.kube.errors import KubeError
from prdeck.services.sandbox.kube.listing import matching, object_key
from prdeck.services.sandbox.kube.routing import Target
from prdeck.services.sandbox.kube.selectors import field_matcher, label_matcher
from prdeck.services.sandbox.kube.store import Change, KubeStore

BOOKMARK_EVERY = 1.0
DEFAULT_WATCH_SECONDS = 1800


class Watches:
    def __init__(self, store: KubeStore) -> None:
        self.store = store
        self.epoch = 0
        """Bumped to end every open watch (as an API server restart or watch timeout does)."""

    def end_all(self) -> None:
        self.epoch += 1

    async def serve(self, request: web.Request, target: Target) -> web.StreamResponse:
        labels = label_matcher(request.query.get("labelSelector"))
        fields = field_matcher(request.query.get("fieldSelector"))
        bookmarks = request.query.get("allowWatchBookmarks") in ("true", "1")
        seconds = float(request.query.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
        since = request.query.get("resourceVersion") or ""

        def matches(obj: dict[str, Any]) -> bool:
            in_scope = target.namespace is None or obj["metadata"].get("namespace") == target.namespace
            return in_scope and labels(obj["metadata"].get("labels") or {}) and fields(obj)

        current = matching(self.store, request, target)
        matched = {object_key(obj) for obj in current}
        queue = self.store.subscribe()
        caught_up = self.store.revision  # the queue holds every change after this one
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        try:
            if since in ("", "0"):
                backlog = [Change(caught_up, "ADDED", target.resource, obj) for obj in current]
            else:
                try:
                    backlog = [c for c in self.store.changes_since(int(since)) if c.resource == target.resource]
                except ValueError as exc:
                    raise KubeError(400, f'invalid resource version "{since}"') from exc
                except KubeError as error:
                    await response.prepare(request)
                    await _send(response, {"type": "ERROR", "object": error.status()})
                    return response
            await response.prepare(request)
            for change in backlog:
                if (event := watch_event(change, matches, matched)) is not None:
                    await _send(response, event)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + seconds
            epoch = self.epoch
            next_bookmark = loop.time() + BOOKMARK_EVERY
            while (remaining := deadline - loop.time()) > 0 and epoch == self.epoch:
                try:
                    async with asyncio.timeout(min(remaining, BOOKMARK_EVERY / 4)):  # not wait_for: see world.run
                        change = await queue.get()
                except TimeoutError:
                    if bookmarks and loop.time() >= next_bookmark:
                        next_bookmark = loop.time() + BOOKMARK_EVERY
                        mark = {"resourceVersion": str(self.store.revision)}
                        kind = {"kind": target.resource.kind, "apiVersion": target.resource.api_version}
                        await _send(response, {"type": "BOOKMARK", "object": {**kind, "metadata": mark}})
                    continue
                if change.revision <= caught_up or change.resource != target.resource:
                    continue
                if (event := watch_event(change, matches, matched)) is not None:
                    await _send(response, event)
            return response
        except (ConnectionResetError, asyncio.CancelledError):
            return response
        finally:
            self.store.unsubscribe(queue)


def watch_event(
    change: Change, matches: Callable[[dict[str, Any]], bool], matching: set[tuple[str, str]]
) -> dict[str, Any] | None:
    """The event a selector-filtered watch sends: an object that starts matching is ADDED for this watcher,
    one that stops matching is DELETED, as the API server's watch cache does."""
    key = object_key(change.obj)
    if change.type == "DELETED":
        was = key in matching or matches(change.obj)
        matching.discard(key)
        return {"type": "DELETED", "object": change.obj} if was else None
    if matches(change.obj):
        kind = "ADDED" if change.type == "ADDED" or key not in matching else "MODIFIED"
        matching.add(key)
        return {"type": kind, "object": change.obj}
    if key in matching:
        matching.discard(key)
        return {"type": "DELETED", "object": change.obj}
    return None


async def _send(response: web.StreamResponse, event: dict[str, Any]) -> None:
    await response.write(json.dumps(event, separators=(",", ":")).encode() + b"\n")
