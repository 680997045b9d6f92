"""The Kubernetes sandbox's object store: one resourceVersion counter, a bounded event history, watchers.

Like etcd behind a real API server, every write bumps one global revision; a watch from a revision still in the
history replays what followed it, and one from an older revision is told ``410 Gone``. Everything here runs on
the sandbox's event loop thread, so no locks are needed.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prdeck.services.sandbox.kube.errors import already_exists, conflict, gone, not_found
from prdeck.services.sandbox.kube.resources import Resource

Key = tuple[str, str]
"""(namespace or "", name)."""


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Change:
    """One write, as a watch event: ADDED, MODIFIED or DELETED with the object after (or at) the change."""

    revision: int
    type: str
    resource: Resource
    obj: dict[str, Any]


class KubeStore:
    def __init__(self, history: int = 5000) -> None:
        self.revision = 100
        self._objects: dict[Resource, dict[Key, dict[str, Any]]] = {}
        self._history: deque[Change] = deque(maxlen=history)
        self._watchers: set[asyncio.Queue[Change]] = set()
        self.changed = asyncio.Event()
        """Set on every write; the controllers wait on it."""
        self.version = (1, 32)
        """The Kubernetes version the sandbox plays (seed ``kube.version``): fields newer than it are dropped."""

    # reading ------------------------------------------------------------------------------------------
    def get(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        obj = self._objects.get(resource, {}).get((namespace, name))
        if obj is None:
            raise not_found(resource, name)
        return copy.deepcopy(obj)

    def find(self, resource: Resource, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self._objects.get(resource, {}).get((namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def items(self, resource: Resource, namespace: str | None = None) -> Iterator[dict[str, Any]]:
        """Objects of a kind (in one namespace, or all), in name order as the API server lists them."""
        table = self._objects.get(resource, {})
        for key in sorted(table):
            if (namespace is None or key[0] == namespace) and key in table:  # callers may delete as they go
                yield copy.deepcopy(table[key])

    # writing ------------------------------------------------------------------------------------------
    def _bump(self) -> str:
        self.revision += 1
        return str(self.revision)

    def _record(self, change_type: str, resource: Resource, obj: dict[str, Any]) -> None:
        change = Change(self.revision, change_type, resource, copy.deepcopy(obj))
        self._history.append(change)
        for queue in list(self._watchers):
            queue.put_nowait(change)
        self.changed.set()

    def create(self, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj.setdefault("metadata", {})
        key = (meta.get("namespace", ""), meta["name"])
        table = self._objects.setdefault(resource, {})
        if key in table:
            raise already_exists(resource, meta["name"])
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", now_iso())
        meta["resourceVersion"] = self._bump()
        table[key] = copy.deepcopy(obj)
        self._record("ADDED", resource, obj)
        return copy.deepcopy(obj)

    def update(self, resource: Resource, obj: dict[str, Any], *, expect_version: str | None = None) -> dict[str, Any]:
        """Replace an object; ``expect_version`` is the optimistic-concurrency check of PUT."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        table = self._objects.setdefault(resource, {})
        current = table.get(key)
        if current is None:
            raise not_found(resource, meta["name"])
        if expect_version and expect_version != current["metadata"]["resourceVersion"]:
            raise conflict(
                resource,
                meta["name"],
                "the object has been modified; please apply your changes to the latest version and try again",
            )
        for fixed in ("uid", "creationTimestamp"):
            meta[fixed] = current["metadata"][fixed]
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        unchanged = {**obj, "metadata": {**meta, "resourceVersion": current["metadata"]["resourceVersion"]}}
        if unchanged == current:
            return copy.deepcopy(current)  # a no-op write keeps its resourceVersion, as on a real server
        meta["resourceVersion"] = self._bump()
        table[key] = copy.deepcopy(obj)
        self._record("MODIFIED", resource, obj)
        return copy.deepcopy(obj)

    def remove(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        table = self._objects.get(resource, {})
        obj = table.pop((namespace, name), None)
        if obj is None:
            raise not_found(resource, name)
        obj["metadata"]["resourceVersion"] = self._bump()
        self._record("DELETED", resource, obj)
        return obj

    # watching -----------------------------------------------------------------------------------------
    def changes_since(self, revision: int) -> list[Change]:
        """Every change after ``revision``; 410 Gone when the history no longer reaches back that far."""
        oldest = self._history[0].revision if self._history else self.revision + 1
        if revision < oldest - 1 and revision < self.revision:
            raise gone(f"too old resource version: {revision} ({oldest - 1})")
        return [change for change in self._history if change.revision > revision]

    def compact(self) -> None:
        """Forget the history (as etcd compaction does): older watches and continue tokens get 410.

        The revision jumps too, as it does on a real cluster where other writes (leases, events) never stop.
        """
        self.revision += 10
        self._history.clear()

    def subscribe(self) -> asyncio.Queue[Change]:
        queue: asyncio.Queue[Change] = asyncio.Queue()
        self._watchers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Change]) -> None:
        self._watchers.discard(queue)
