"""Admission as a real API server runs it on pods: LimitRange defaults and bounds, Pod Security, ResourceQuota;
and the Warning headers it adds for pods and workloads.

``admit_pod`` mutates a new pod (defaults from the namespace's LimitRanges, requests from limits, its QoS
class) and raises 403 Forbidden as the real plugins do: "violates PodSecurity", "exceeded quota", "maximum cpu
usage per Container". The ReplicaSet controller calls it too, so a refused pod becomes a FailedCreate event.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from prdeck.services.sandbox.kube import podsecurity, quantity
from prdeck.services.sandbox.kube.errors import KubeError
from prdeck.services.sandbox.kube.pod_rules import pod_warnings
from prdeck.services.sandbox.kube.resources import BY_KIND
from prdeck.services.sandbox.kube.store import KubeStore

COMPUTE = ("cpu", "memory")


def pod_spec_of(obj: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """The pod spec in a Pod or a workload's template, and its field path."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if obj.get("kind") == "Pod":
        return spec, "spec"
    if obj.get("kind") in ("Deployment", "ReplicaSet"):
        template = (spec.get("template") or {}).get("spec")
        return (template, "spec.template.spec") if isinstance(template, dict) else None
    return None


def warnings_for(store: KubeStore, obj: dict[str, Any], namespace: str | None) -> list[str]:
    """The Warning headers a real server sends for ``obj``: field warnings, then Pod Security ``warn``."""
    found = pod_spec_of(obj)
    if found is None:
        return []
    spec, field = found
    warnings = pod_warnings(spec, field)
    level = podsecurity.level_of(store.find(BY_KIND["Namespace"], "", namespace or ""), "warn")
    violated = podsecurity.violations(level, spec)
    if violated:
        warnings.append(f"would violate {podsecurity.summary(level, violated)}")
    return warnings


def _forbidden(pod: dict[str, Any], why: str) -> KubeError:
    name = pod["metadata"].get("name", "")
    return KubeError(403, f'pods "{name}" is forbidden: {why}', details={"name": name, "kind": "pods"})


def _limit_ranges(store: KubeStore, pod: dict[str, Any]) -> None:
    """Defaults and bounds of ``type: Container`` limit ranges; notes what it set, as LimitRanger does."""
    notes: list[str] = []
    for limit_range in store.items(BY_KIND["LimitRange"], pod["metadata"]["namespace"]):
        for item in (limit_range.get("spec") or {}).get("limits") or []:
            if item.get("type") != "Container":
                continue
            default = {**(item.get("max") or {}), **(item.get("default") or {})}
            default_request = {**(item.get("min") or {}), **default, **(item.get("defaultRequest") or {})}
            kinds = (("containers", "container"), ("initContainers", "init container"))
            for field, what in kinds:
                for container in pod["spec"].get(field) or []:
                    resources = container.setdefault("resources", {})
                    for key, defaults, word in (("requests", default_request, "request"),
                                                ("limits", default, "limit")):
                        missing = [name for name in sorted(defaults) if name not in (resources.get(key) or {})]
                        if missing:
                            resources.setdefault(key, {}).update({name: defaults[name] for name in missing})
                            notes.append(f"{', '.join(missing)} {word} for {what} {container['name']}")
                    _bounds(pod, item, resources)
    if notes:
        pod["metadata"].setdefault("annotations", {})["kubernetes.io/limit-ranger"] = (
            f"LimitRanger plugin set: {'; '.join(notes)}"
        )


def _bounds(pod: dict[str, Any], item: dict[str, Any], resources: dict[str, Any]) -> None:
    for name, text in (item.get("max") or {}).items():
        limit = (resources.get("limits") or {}).get(name)
        if limit is None:
            raise _forbidden(pod, f"maximum {name} usage per Container is {text}.  No limit is specified")
        if (quantity.parse(limit) or 0) > (quantity.parse(text) or 0):
            raise _forbidden(pod, f"maximum {name} usage per Container is {text}, but limit is {limit}")
    for name, text in (item.get("min") or {}).items():
        request = (resources.get("requests") or {}).get(name)
        if request is not None and (quantity.parse(request) or 0) < (quantity.parse(text) or 0):
            raise _forbidden(pod, f"minimum {name} usage per Container is {text}, but request is {request}")


def usage(pod: dict[str, Any]) -> dict[str, Fraction]:
    """What a pod counts against a quota: pods, and requests/limits of cpu and memory (bare names = requests).

    As the API server counts it (resource helpers' PodRequests/PodLimits): the containers plus the sidecars
    (init containers with ``restartPolicy: Always``), or the largest init container together with the sidecars
    started before it, whichever is larger."""
    used: dict[str, Fraction] = {"pods": Fraction(1), "count/pods": Fraction(1)}
    for key in ("requests", "limits"):
        for name in COMPUTE:
            amount = _effective(pod["spec"], key, name)
            if amount is not None:
                used[f"{key}.{name}"] = amount
                if key == "requests":
                    used[name] = amount
    return used


def _effective(spec: dict[str, Any], key: str, name: str) -> Fraction | None:
    def amount(container: dict[str, Any]) -> Fraction | None:
        return quantity.parse(((container.get("resources") or {}).get(key) or {}).get(name))

    seen = False
    sidecars, peak = Fraction(0), Fraction(0)
    for init in spec.get("initContainers") or []:
        value = amount(init)
        seen = seen or value is not None
        if init.get("restartPolicy") == "Always":
            sidecars += value or 0
            peak = max(peak, sidecars)
        else:
            peak = max(peak, sidecars + (value or 0))
    running = sidecars
    for container in spec.get("containers") or []:
        value = amount(container)
        seen = seen or value is not None
        running += value or 0
    return max(peak, running) if seen else None


def _show(values: dict[str, Any], names: list[str], raw: bool = False) -> str:
    """``limits.cpu=500m,pods=1``: the quota message's lists, sorted by name."""
    return ",".join(f"{n}={values[n] if raw else quantity.show(values.get(n, Fraction(0)), n)}" for n in names)


def _quota(store: KubeStore, pod: dict[str, Any]) -> None:
    namespace = pod["metadata"]["namespace"]
    others = [
        p
        for p in store.items(BY_KIND["Pod"], namespace)
        if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]
    requested = usage(pod)
    for quota in store.items(BY_KIND["ResourceQuota"], namespace):
        hard = {name: quantity.parse(text) for name, text in ((quota.get("spec") or {}).get("hard") or {}).items()}
        missing = [
            name
            for name in sorted(hard)
            if "." in name
            and name.split(".")[1] in COMPUTE
            and name.split(".")[0] in ("requests", "limits")
            and name not in requested
        ]
        if missing:
            containers = ",".join(c["name"] for c in pod["spec"].get("containers") or [])
            listed = "; ".join(f"{name} for: {containers}" for name in missing)
            raise _forbidden(pod, f"failed quota: {quota['metadata']['name']}: must specify {listed}")
        used: dict[str, Fraction] = {}
        for other in others:
            for name, value in usage(other).items():
                used[name] = used.get(name, Fraction(0)) + value
        exceeded = sorted(
            name
            for name, limit in hard.items()
            if limit is not None and name in requested and used.get(name, Fraction(0)) + requested[name] > limit
        )
        if exceeded:

            limits = (quota.get("spec") or {}).get("hard") or {}
            raise _forbidden(
                pod,
                f"exceeded quota: {quota['metadata']['name']}, requested: {_show(requested, exceeded)}, "
                f"used: {_show(used, exceeded)}, limited: {_show(limits, exceeded, raw=True)}",
            )


def _qos_class(pod: dict[str, Any]) -> str:
    containers = pod["spec"].get("containers") or []
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        all(
            name in (r.get("limits") or {})
            and quantity.parse((r.get("requests") or {}).get(name)) == quantity.parse(r["limits"][name])
            for name in COMPUTE
        )
        for r in resources
    )
    return "Guaranteed" if guaranteed else "Burstable"


def admit_pod(store: KubeStore, pod: dict[str, Any]) -> None:
    """Mutate and check a pod about to be created; raises KubeError 403 as the real admission plugins do."""
    spec = pod["spec"]
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        resources = container.get("resources") or {}
        for name, value in (resources.get("limits") or {}).items():  # API defaulting: requests follow limits
            container.setdefault("resources", {}).setdefault("requests", {}).setdefault(name, value)
    _limit_ranges(store, pod)
    level = podsecurity.level_of(store.find(BY_KIND["Namespace"], "", pod["metadata"]["namespace"]), "enforce")
    violated = podsecurity.violations(level, spec)
    if violated:
        raise _forbidden(pod, f"violates {podsecurity.summary(level, violated)}")
    _quota(store, pod)
    pod.setdefault("status", {})["qosClass"] = _qos_class(pod)
