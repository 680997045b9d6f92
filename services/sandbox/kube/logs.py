"""Container logs the sandbox's kubelet writes, kept per pod, container and restart, readable while they grow."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime


def log_time() -> str:
    """RFC 3339 with nanoseconds, as the kubelet prefixes lines when ``timestamps=true``."""
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


@dataclass
class ContainerLog:
    """Lines of each run of one container: ``runs[-1]`` is the current one, ``runs[-2]`` the previous."""

    runs: list[list[tuple[str, str]]] = field(default_factory=lambda: [[]])
    finished: bool = False
    """The current run ended (the container terminated)."""


class PodLogs:
    def __init__(self) -> None:
        self.containers: dict[str, ContainerLog] = {}
        self.grew = asyncio.Condition()
        self.gone = False

    def container(self, name: str) -> ContainerLog:
        return self.containers.setdefault(name, ContainerLog())

    async def write(self, container: str, line: str) -> None:
        self.container(container).runs[-1].append((log_time(), line))
        async with self.grew:
            self.grew.notify_all()

    async def write_many(self, container: str, lines: list[str]) -> None:
        """A burst from a chatty container: one wake-up for the readers, not one per line."""
        stamp = log_time()  # one clock reading per burst: the lines of one write share a moment
        self.container(container).runs[-1].extend((stamp, line) for line in lines)
        async with self.grew:
            self.grew.notify_all()

    async def restart(self, container: str) -> None:
        log = self.container(container)
        log.runs.append([])
        log.finished = False
        async with self.grew:
            self.grew.notify_all()

    async def finish(self, container: str) -> None:
        self.container(container).finished = True
        async with self.grew:
            self.grew.notify_all()

    async def close(self) -> None:
        self.gone = True
        async with self.grew:
            self.grew.notify_all()


class LogBook:
    """Every pod's logs, by (namespace, pod)."""

    def __init__(self) -> None:
        self.pods: dict[tuple[str, str], PodLogs] = {}

    def pod(self, namespace: str, name: str) -> PodLogs:
        return self.pods.setdefault((namespace, name), PodLogs())

    async def drop(self, namespace: str, name: str) -> None:
        logs = self.pods.pop((namespace, name), None)
        if logs is not None:
            await logs.close()
