"""The preview's ResourceQuota, sized from its spec under the configured cap, and the rollout strategy that fits.

The hard values are what the pods need at the peak of a relaunch (old and new pods side by side), never more than
the cap. The old pods are those running now, as the namespace's quota counts them (``status.used``): they may be
larger than the new spec's, and a quota sized for the new spec alone would leave no room for the new pod, so the
rolling update (which keeps the old pod until the new one is ready) would wait forever. When old and new do not
fit side by side under the cap, the Deployments use ``Recreate``: the old pods go first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from prdeck.services.launch.footprint import (
    RESOURCES,
    Amount,
    cpu_text,
    footprint,
    memory_text,
    quota_cpu,
    quota_memory,
)
from prdeck.services.launch.kube_values import quantity
from prdeck.services.launch.spec_types import SpecError

FIXED_HARD = {"pods": "20", "persistentvolumeclaims": "5", "requests.storage": "20Gi",
              "services.loadbalancers": "0", "services.nodeports": "0"}
"""The parts of the quota that do not depend on the spec."""


@dataclass(frozen=True)
class QuotaCap:
    """``preview.max_cpu`` and ``preview.max_memory``: the most one preview's pods may use (limits)."""

    cpu: str = "8"
    memory: str = "16Gi"

    def amounts(self) -> dict[str, Decimal]:
        return {"cpu": quantity(self.cpu), "memory": quantity(self.memory)}


@dataclass(frozen=True)
class Sizing:
    hard: dict[str, str]
    """The ResourceQuota's ``spec.hard``."""
    recreate: bool
    """The rolling update does not fit under the cap: Deployments use ``Recreate``."""
    rolling: tuple[str, ...] = ()


def size(objects: Iterable[Mapping[str, Any]], cap: QuotaCap, in_use: Mapping[str, Any] | None = None) -> Sizing:
    """Size the quota for the workload ``objects``; SpecError when the pods do not fit under ``cap`` even once.
    ``in_use``: the ``status.used`` of the namespace's quota now (the pods a relaunch rolls next to), if any."""
    limits = cap.amounts()
    need = footprint(objects)
    if not need.steady.fits(limits):
        raise SpecError(
            f"The preview needs {_totals(need.steady)}: more than one preview may use "
            f"({cpu_text(limits['cpu'])} CPUs, {memory_text(limits['memory'])} of memory)",
            "Containers without limits count 500m CPU and 512Mi each. Give the services smaller "
            "deploy.resources.limits, leave the ones a preview does not need to a profile (preview.profiles), or "
            "raise preview.max_cpu / preview.max_memory in the config.",
        )
    peak = need.steady.plus(need.surge)
    if in_use:
        peak = peak.larger(_amount(in_use).plus(need.surge))
    recreate = not peak.fits(limits)
    amount = need.steady if recreate else peak
    hard = {"requests.cpu": quota_cpu(amount.requests["cpu"]),
            "requests.memory": quota_memory(amount.requests["memory"]),
            "limits.cpu": quota_cpu(amount.limits["cpu"]), "limits.memory": quota_memory(amount.limits["memory"]),
            **FIXED_HARD}
    return Sizing(hard, recreate, () if recreate else need.rolling)


def _totals(amount: Amount) -> str:
    return (f"{cpu_text(amount.limits['cpu'])} CPUs and {memory_text(amount.limits['memory'])} of memory "
            f"(limits; requests {cpu_text(amount.requests['cpu'])} CPUs, {memory_text(amount.requests['memory'])})")


def _amount(values: Mapping[str, Any]) -> Amount:
    def read(key: str) -> Decimal:
        try:
            return quantity(values.get(key, 0))
        except ValueError:
            return Decimal(0)

    return Amount({r: read(f"requests.{r}") for r in RESOURCES}, {r: read(f"limits.{r}") for r in RESOURCES})


def use_recreate(objects: Iterable[dict[str, Any]]) -> list[str]:
    """Switch every Deployment to ``Recreate``; returns the names of those that rolled before."""
    switched = []
    for obj in objects:
        spec = obj.get("spec")
        if obj.get("kind") == "Deployment" and isinstance(spec, dict):
            if (spec.get("strategy") or {}).get("type") != "Recreate":
                switched.append(str((obj.get("metadata") or {}).get("name")))
            spec["strategy"] = {"type": "Recreate"}
    return switched
