"""How compose's services share the ONE preview pod the way they share a compose network.

- **Names**: ``hostAliases`` maps 127.0.0.1 to every service's name, ``hostname`` and network aliases, so
  ``redis://redis:6379`` reaches the redis container on the pod's loopback.
- **Order**: one-shot services (``restart: "no"``/``on-failure``, or awaited with
  ``service_completed_successfully``) become init containers, in dependency order; a long-running service
  awaited with ``service_healthy`` (and a healthcheck), or needed by a one-shot, becomes a native sidecar
  (an init container with ``restartPolicy: Always``, Kubernetes 1.29+) whose startup probe is its healthcheck,
  placed before what waits for it.
- **Health**: compose's defaults (interval 30 s, timeout 30 s, retries 3); ``start_period`` becomes a startup
  probe. Only the ingress service's healthcheck decides Ready; the others never gate readiness.
- **Ports**: two running services on one container port cannot both bind it in one pod: refused.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prdeck.services.launch import compose_values as values
from prdeck.services.launch.compose_service import is_one_shot
from prdeck.services.launch.spec_types import ContainerSpec, PreviewSpec, SpecError, problem

DEFAULT_INTERVAL = 30
DEFAULT_TIMEOUT = 30
DEFAULT_RETRIES = 3
START_INTERVAL = 5
"""Compose's ``start_interval`` default: how often a healthcheck runs during its start period."""


@dataclass(frozen=True)
class Arrangement:
    """The services in pod order: ``init`` (with their role, "job" or "sidecar") then ``main``."""

    init: tuple[tuple[ContainerSpec, str], ...]
    main: tuple[ContainerSpec, ...]


def original(container: ContainerSpec) -> str:
    return container.service or container.name


def health_probe(check: Any) -> tuple[dict[str, Any] | None, int]:
    """A compose ``healthcheck`` as ``(probe, start_period seconds)`` with compose's defaults filled in;
    ``(None, 0)`` when disabled or (``{disable: false}``) when it only keeps the image's own."""
    if isinstance(check, Mapping) and "test" not in check and check.get("disable") is False:
        return None, 0
    probe = values.readiness_probe(check)
    if probe is None:
        return None, 0
    start = int(probe.pop("initialDelaySeconds", 0))
    probe.setdefault("periodSeconds", DEFAULT_INTERVAL)
    probe.setdefault("timeoutSeconds", DEFAULT_TIMEOUT)
    probe.setdefault("failureThreshold", DEFAULT_RETRIES)
    return probe, start


def startup_probe(readiness: Mapping[str, Any], start_period: int) -> dict[str, Any]:
    """The healthcheck tried every few seconds for its start period, then ``retries`` times an ``interval``."""
    period = min(START_INTERVAL, int(readiness["periodSeconds"]))
    tries = math.ceil(start_period / period) + int(readiness["failureThreshold"]) * math.ceil(
        int(readiness["periodSeconds"]) / period)
    return {**readiness, "periodSeconds": period, "failureThreshold": min(tries, values.MAX_PROBE_SECONDS)}


def probes(container: ContainerSpec, role: str, ingress: bool) -> dict[str, Any]:
    """The probes of one container: the ingress's healthcheck is its readinessProbe (plus a startupProbe for a
    start period); a sidecar's healthcheck is its startupProbe; any other healthcheck gates nothing."""
    if container.readiness is None:
        return {}
    readiness = dict(container.readiness)
    result: dict[str, Any] = {}
    if ingress:
        result["readinessProbe"] = readiness
    if role == "sidecar" or (ingress and container.start_period):
        result["startupProbe"] = startup_probe(readiness, container.start_period)
    return result


def largest_start_period(spec: PreviewSpec) -> int:
    """Seconds the rollout should wait beyond its timeout for the longest declared ``start_period``."""
    return max((c.start_period for c in spec.containers if c.readiness is not None), default=0)


def host_aliases(containers: Iterable[ContainerSpec]) -> list[dict[str, Any]]:
    names = list(dict.fromkeys(name for c in containers for name in c.hostnames))
    return [{"ip": "127.0.0.1", "hostnames": names}] if names else []


def service_port(spec: PreviewSpec) -> tuple[int, int]:
    """The ingress Service's ``(port, targetPort)``: a ``published:target`` binding of the ingress port keeps
    both (matched on either side); else both are the ingress port."""
    port = spec.ingress_port or 80
    for container in spec.containers:
        for published, target, protocol in container.port_bindings:
            if protocol == "TCP" and published and port in (published, target):
                return published, target
    return port, port


def arrange(containers: Sequence[ContainerSpec]) -> Arrangement:
    """Split the services into init containers (ordered) and app containers; the spec was checked by
    :func:`check`, so dependencies are acyclic here."""
    by_name = {original(c): c for c in containers}
    awaited_done = {dep for c in containers for dep, cond in c.depends_on if cond == "service_completed_successfully"}
    jobs = {name for name, c in by_name.items() if is_one_shot(c.restart) or name in awaited_done}
    sidecars: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, c in by_name.items():
            for dep, cond in c.depends_on:
                if dep not in by_name or dep in jobs or dep in sidecars:
                    continue
                healthy = cond == "service_healthy" and by_name[dep].readiness is not None
                if healthy or name in jobs or name in sidecars:
                    sidecars.add(dep)
                    changed = True
    members = jobs | sidecars
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for dep, _ in by_name[name].depends_on:
            if dep in members:
                visit(dep)
        ordered.append(name)

    for name in by_name:
        if name in members:
            visit(name)
    init = tuple((by_name[name], "job" if name in jobs else "sidecar") for name in ordered)
    return Arrangement(init, tuple(c for c in containers if original(c) not in members))


NATIVE_SIDECARS = (1, 29)
"""Init containers with ``restartPolicy: Always`` keep running (beta and on by default since 1.29). An older API
server drops the field, and such an init container would then have to exit before the pod's containers start."""


def has_native_sidecars(version: tuple[int, int] | None) -> bool:
    """Unknown (``render`` without a cluster, a server that does not say) counts as current."""
    return version is None or version >= NATIVE_SIDECARS


def sidecar_warning(spec: PreviewSpec, version: tuple[int, int] | None) -> str | None:
    """What a launch says once on a cluster before 1.29 when services would have started first."""
    if spec.form != "compose" or has_native_sidecars(version):
        return None
    early = [original(c) for c, role in arrange(spec.containers).init if role == "sidecar"]
    if not early:
        return None
    return (f"The cluster runs Kubernetes {'.'.join(map(str, version or ()))}, without native sidecar containers "
            f"(1.29+): {' and '.join(early) if len(early) < 3 else ', '.join(early)} "
            f"start{'s' if len(early) == 1 else ''} together with the other services instead of before them "
            "(depends_on: service_healthy is not kept).")


def without_native_sidecars(arrangement: Arrangement, version: str) -> Arrangement:
    """For a cluster older than Kubernetes 1.29: the services that would be sidecars start with the app
    containers instead (compose's ``service_healthy`` order is not kept); a one-shot service that needs one of
    them running first cannot run at all, and is refused naming both."""
    sidecars = [c for c, role in arrangement.init if role == "sidecar"]
    if not sidecars:
        return arrangement
    names = {original(c) for c in sidecars}
    for job, role in arrangement.init:
        needs = [dep for dep, _ in job.depends_on if dep in names]
        if role == "job" and needs:
            raise SpecError(
                f"The one-shot service {original(job)} needs {needs[0]} running before it, which this cluster "
                f"(Kubernetes {version}) cannot do",
                "A service that keeps running can start before a pod's init containers only as a native sidecar "
                "container (Kubernetes 1.29+). Upgrade the cluster, or run the one-shot step from the app's own "
                "start command.",
            )
    jobs = tuple((c, role) for c, role in arrangement.init if role == "job")
    return Arrangement(jobs, (*sidecars, *arrangement.main))


def check(path: str, containers: Sequence[ContainerSpec], ingress: str) -> None:
    """Refuse what one pod cannot run: a dependency cycle, a one-shot ingress, two services on one port."""
    by_name = {original(c): c for c in containers}
    _no_cycle(path, by_name)
    arrangement = arrange(containers)
    if any(original(c) == ingress for c, role in arrangement.init if role == "job"):
        raise problem(path, f"services.{ingress}.restart", "the ingress service runs once and ends (a one-shot "
                      "service); the URL needs a service that keeps running")
    owners: dict[tuple[int, str], str] = {}
    running = [*(c for c, role in arrangement.init if role == "sidecar"), *arrangement.main]
    for container in running:
        for _, target, protocol in container.port_bindings:
            other = owners.setdefault((target, protocol), original(container))
            if other != original(container):
                raise problem(path, f"services.{original(container)}.ports",
                              f"services {other!r} and {original(container)!r} both use container port "
                              f"{target}/{protocol.lower()}; in one pod only one of them can bind it")


def _no_cycle(path: str, by_name: Mapping[str, ContainerSpec]) -> None:
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        trail.append(name)
        for dep, _ in by_name[name].depends_on:
            if dep not in by_name:
                continue
            if state.get(dep) == 1:
                cycle = [*trail[trail.index(dep):], dep]
                raise problem(path, f"services.{name}.depends_on", f"a dependency cycle: {' -> '.join(cycle)}")
            if dep not in state:
                visit(dep)
        trail.pop()
        state[name] = 2

    for name in by_name:
        if name not in state:
            visit(name)


__all__ = ["Arrangement", "arrange", "check", "has_native_sidecars", "health_probe", "host_aliases",
           "largest_start_period", "probes", "service_port", "sidecar_warning", "startup_probe",
           "without_native_sidecars"]
