"""What a preview's pods need from the cluster, counted the way the API server counts them for a ResourceQuota.

A preview's namespace gets a quota sized from its spec, up to the configured cap (``preview.max_cpu``,
``preview.max_memory``). A spec that does not fit under the cap once is refused before anything is built; one
that fits once but not twice (old and new pods side by side during a rolling update) gets the ``Recreate``
strategy, so that a relaunch replaces its pods instead of waiting forever for room that the quota never gives.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from prdeck.services.launch.kube_values import quantity
from prdeck.services.launch.limit_range import DEFAULT_LIMITS, DEFAULT_REQUESTS
from prdeck.services.launch.pod_policy import pod_specs

RESOURCES = ("cpu", "memory")


@dataclass(frozen=True)
class Amount:
    """CPU (cores) and memory (bytes), requested and limited."""

    requests: Mapping[str, Decimal]
    limits: Mapping[str, Decimal]

    @staticmethod
    def zero() -> Amount:
        return Amount(dict.fromkeys(RESOURCES, Decimal(0)), dict.fromkeys(RESOURCES, Decimal(0)))

    def plus(self, other: Amount) -> Amount:
        return Amount({r: self.requests[r] + other.requests[r] for r in RESOURCES},
                      {r: self.limits[r] + other.limits[r] for r in RESOURCES})

    def times(self, count: int) -> Amount:
        return Amount({r: self.requests[r] * count for r in RESOURCES}, {r: self.limits[r] * count for r in RESOURCES})

    def larger(self, other: Amount) -> Amount:
        return Amount({r: max(self.requests[r], other.requests[r]) for r in RESOURCES},
                      {r: max(self.limits[r], other.limits[r]) for r in RESOURCES})

    def fits(self, cap: Mapping[str, Decimal]) -> bool:
        return all(self.limits[r] <= cap[r] and self.requests[r] <= cap[r] for r in RESOURCES)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def container_amount(container: Mapping[str, Any]) -> Amount:
    """One container after defaulting: a limit without a request is also the request (the API server's own
    defaulting); what is still missing comes from the preview's LimitRange."""
    resources = _mapping(container.get("resources"))
    limits_given = _mapping(resources.get("limits"))
    requests_given = _mapping(resources.get("requests"))
    requests, limits = {}, {}
    for resource in RESOURCES:
        limit = limits_given.get(resource)
        request = requests_given.get(resource, limit)
        limits[resource] = quantity(limit if limit is not None else DEFAULT_LIMITS[resource])
        requests[resource] = quantity(request if request is not None else DEFAULT_REQUESTS[resource])
    return Amount(requests, limits)


def pod_amount(pod: Mapping[str, Any]) -> Amount:
    """A pod's effective amount as the quota counts it: its containers plus its sidecars, or the largest init
    container (with the sidecars started before it), whichever is larger."""
    sidecars = Amount.zero()
    peak = Amount.zero()
    for init in pod.get("initContainers") or []:
        amount = container_amount(init)
        if init.get("restartPolicy") == "Always":
            sidecars = sidecars.plus(amount)
            peak = peak.larger(sidecars)
        else:
            peak = peak.larger(sidecars.plus(amount))
    running = sidecars
    for container in pod.get("containers") or []:
        running = running.plus(container_amount(container))
    return peak.larger(running)


@dataclass(frozen=True)
class Footprint:
    """A preview's pods at rest (``steady``), and what a relaunch's rolling update adds (``surge``)."""

    steady: Amount
    surge: Amount
    """What the new pods of a rolling update add while the old ones still run."""
    rolling: tuple[str, ...]
    """Deployments that roll (old and new pods side by side) and so count twice at the peak."""


def footprint(objects: Iterable[Mapping[str, Any]]) -> Footprint:
    objects = list(objects)
    scaled = _autoscaled_replicas(objects)
    steady, surge, rolling = Amount.zero(), Amount.zero(), []
    for obj in objects:
        spec = _mapping(obj.get("spec"))
        for pod in pod_specs(obj):
            copies = _copies(obj, spec, scaled)
            amount = pod_amount(pod)
            steady = steady.plus(amount.times(copies))
            extra = _surge(obj, spec, copies)
            if extra:
                surge = surge.plus(amount.times(extra))
                rolling.append(str((obj.get("metadata") or {}).get("name")))
    return Footprint(steady, surge, tuple(rolling))


def _copies(obj: Mapping[str, Any], spec: Mapping[str, Any], scaled: Mapping[tuple[str, str], int]) -> int:
    kind = obj.get("kind")
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        replicas = spec.get("replicas", 1)
        replicas = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1
        return max(replicas, scaled.get((str(kind), str((obj.get("metadata") or {}).get("name"))), 0))
    if kind in ("Job", "CronJob"):
        job = spec if kind == "Job" else ((spec.get("jobTemplate") or {}).get("spec") or {})
        parallelism = job.get("parallelism", 1)
        return parallelism if isinstance(parallelism, int) and not isinstance(parallelism, bool) else 1
    return 1


def _surge(obj: Mapping[str, Any], spec: Mapping[str, Any], copies: int) -> int:
    """Extra pods a Deployment's rolling update starts before it stops old ones (default maxSurge 25%)."""
    if obj.get("kind") != "Deployment" or copies == 0:
        return 0
    strategy = _mapping(spec.get("strategy"))
    if strategy.get("type") == "Recreate":
        return 0
    surge = (strategy.get("rollingUpdate") or {}).get("maxSurge", "25%")
    if isinstance(surge, str) and surge.endswith("%") and surge[:-1].isdigit():
        return math.ceil(copies * int(surge[:-1]) / 100)
    return surge if isinstance(surge, int) and not isinstance(surge, bool) else 1


def _autoscaled_replicas(objects: list[Mapping[str, Any]]) -> dict[tuple[str, str], int]:
    """A HorizontalPodAutoscaler may scale its target up to ``maxReplicas``: the quota must leave room for that."""
    scaled: dict[tuple[str, str], int] = {}
    for obj in objects:
        spec = _mapping(obj.get("spec"))
        target = spec.get("scaleTargetRef") if obj.get("kind") == "HorizontalPodAutoscaler" else None
        if isinstance(target, dict) and isinstance(spec.get("maxReplicas"), int):
            scaled[(str(target.get("kind")), str(target.get("name")))] = spec["maxReplicas"]
    return scaled


def cpu_text(cores: Decimal) -> str:
    """Cores for a person: ``2``, ``1.5``, ``0.25``."""
    shown = cores if cores == cores.to_integral() else cores.quantize(Decimal("0.001"))
    return f"{shown.normalize():f}"


def memory_text(size: Decimal) -> str:
    """Bytes for a person, in the binary units quantities use: ``512Mi``, ``1.5Gi``."""
    for unit, factor in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size >= factor:
            value = (size / factor).quantize(Decimal("0.01")).normalize()
            return f"{value:f}{unit}"
    return f"{size:f}"


def quota_cpu(cores: Decimal) -> str:
    """A quota value in whole millicores, rounded up (a quota below what pods need refuses them)."""
    return f"{math.ceil(cores * 1000)}m"


def quota_memory(size: Decimal) -> str:
    """A quota value in whole MiB, rounded up."""
    return f"{math.ceil(size / 2**20)}Mi"
