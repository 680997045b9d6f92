"""Launches as the list sees them: running ones (this process), interrupted ones (any process), open relays.

:func:`overlay` puts the state of running and interrupted launches over the cluster's previews, so a row reads
"building" while its image builds and "interrupted" after a launch was cut off, until the next launch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from prdeck.services import naming
from prdeck.services.launch.interrupt import StopEvent
from prdeck.services.launch.journal import LaunchJournal, LaunchRecord
from prdeck.services.models import LaunchEvent, Preview, RepoRef

if TYPE_CHECKING:
    from prdeck.services.kube.forward import PortForwardRelay
    from prdeck.services.kube.service import ClusterService
    from prdeck.services.launch.pipeline import Launcher

STEP_STATES = {"fetch": "queued", "build": "building", "push": "pushing", "apply": "deploying",
               "rollout": "deploying", "report": "deploying"}


@dataclass(frozen=True)
class Running:
    repo: RepoRef
    number: int
    namespace: str
    state: str
    step: str


def overlay(previews: Iterable[Preview], running: Mapping[str, Running],
            interrupted: Iterable[LaunchRecord]) -> tuple[Preview, ...]:
    """Previews with the state of launches in flight and of launches that were cut off."""
    by_namespace = {preview.namespace: preview for preview in previews}
    for launch in running.values():
        base = by_namespace.get(launch.namespace) or Preview(
            launch.repo, launch.number, launch.namespace, launch.state, None, None, None, None)
        reason = launch.step if launch.step.startswith("#") else f"launch: {launch.step}"  # queued #2
        by_namespace[launch.namespace] = replace(base, state=launch.state, reason=reason)
    active = {launch.namespace for launch in running.values()}
    for record in interrupted:
        if record.namespace in active:
            continue
        base = by_namespace.get(record.namespace) or Preview(
            RepoRef.parse(record.repo), record.number, record.namespace, "interrupted", None, None, None, None)
        by_namespace[record.namespace] = replace(
            base, state="interrupted", reason=f"launch stopped during {record.step}; press l to launch again")
    return tuple(by_namespace[name] for name in sorted(by_namespace))


class Launches:
    """Thread-safe bookkeeping of the launches of one app or command."""

    def __init__(self, launcher: Callable[[], Launcher], journal: LaunchJournal | None = None) -> None:
        self._make_launcher = launcher
        self._launcher: Launcher | None = None
        self.journal = journal or LaunchJournal()
        self.running: dict[str, Running] = {}
        self.relays: dict[str, PortForwardRelay] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self.stop = threading.Event()
        """Set when the app quits: launches stop at their next step and show as interrupted."""
        self._stops: dict[str, StopEvent] = {}

    @property
    def launcher(self) -> Launcher:
        with self._lock:
            if self._launcher is None:
                self._launcher = self._make_launcher()
            return self._launcher

    def track(self, repo: RepoRef, number: int, namespace: str, event: LaunchEvent) -> bool:
        """Record a step change; True when the row's state changed."""
        if event.kind != "step" or event.state != "running":
            return False
        key = f"{naming.repo_identity(repo)}#{number}"
        state = STEP_STATES.get(event.step, "deploying")
        with self._lock:
            before = self.running.get(key)
            self.running[key] = Running(repo, number, namespace, state, event.step)
        return before is None or (before.state, before.step) != (state, event.step)

    def queued(self, repo: RepoRef, number: int, namespace: str, position: int) -> None:
        """A launch waiting for a free place (``preview.max_parallel_launches``): its row reads ``queued #2``."""
        with self._lock:
            self.running[f"{naming.repo_identity(repo)}#{number}"] = Running(repo, number, namespace, "queued",
                                                                             f"#{position}")

    def stop_event(self, repo: RepoRef, number: int) -> StopEvent:
        """The stop event of one launch: set by :meth:`cancel` (a destroy) or :meth:`close` (the app quits)."""
        event = StopEvent()
        with self._lock:
            self._stops[f"{naming.repo_identity(repo)}#{number}"] = event
        if self.stop.is_set():
            event.set()
        return event

    def cancel(self, namespace: str) -> bool:
        """Stop the launch of ``namespace`` running in this process; False when there is none."""
        with self._lock:
            keys = [key for key, launch in self.running.items() if launch.namespace == namespace]
            events = [self._stops[key] for key in keys if key in self._stops]
        for event in events:
            event.destroy()
        return bool(events)

    def namespaces(self) -> set[str]:
        """The namespaces of the launches running in this process."""
        with self._lock:
            return {launch.namespace for launch in self.running.values()}

    def finish(self, repo: RepoRef, number: int) -> None:
        with self._lock:
            self.running.pop(f"{naming.repo_identity(repo)}#{number}", None)
            self._stops.pop(f"{naming.repo_identity(repo)}#{number}", None)
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no launch runs (a stopped one is writing its interrupted record); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self.running, timeout)

    def overlay(self, previews: Iterable[Preview]) -> tuple[Preview, ...]:
        """Launch states over the previews; a preview with no public URL shows its relay's, once ``o`` opened one."""
        with self._lock:
            running = dict(self.running)
        relayed = {namespace: relay.url for namespace, relay in self.relays.items()}
        return tuple(replace(preview, url=relayed[preview.namespace]) if not preview.url and
                     preview.namespace in relayed else preview
                     for preview in overlay(previews, running, self.journal.interrupted()))

    def relay_url(self, cluster: ClusterService, namespace: str) -> str:
        """A port-forward relay on 127.0.0.1 to the preview's Service, started on first use and kept until close."""
        from prdeck.services.kube.forward import PortForwardRelay, service_port

        relay = self.relays.get(namespace)
        if relay is None:
            port = service_port(cluster, namespace, fallback=80)
            relay = PortForwardRelay(cluster, namespace, port, preferred_local_port=port).start()
            self.relays[namespace] = relay
        return relay.url

    def forget(self, namespace: str) -> None:
        """A destroyed preview: the record of a launch that is no longer running goes, its relay stops."""
        self.journal.clear_stopped(namespace)
        relay = self.relays.pop(namespace, None)
        if relay is not None:
            relay.stop()

    def close(self) -> None:
        self.stop.set()
        with self._lock:
            events = list(self._stops.values())
        for event in events:
            event.set()
        for relay in list(self.relays.values()):
            relay.stop()
        self.relays.clear()
