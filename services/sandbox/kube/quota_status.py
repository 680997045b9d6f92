"""The quota controller of the Kubernetes sandbox: ``status.hard`` and ``status.used`` of every ResourceQuota.

As the real one, it counts the pods that are not finished (phase other than Succeeded/Failed) with the amounts
admission counts (:func:`prdeck.services.sandbox.kube.admission.usage`), for the names the quota limits
(the sandbox has no PVCs or LoadBalancers: those read 0).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from prdeck.services.sandbox.kube.admission import usage
from prdeck.services.sandbox.kube.quantity import show
from prdeck.services.sandbox.kube.resources import BY_KIND
from prdeck.services.sandbox.kube.store import KubeStore


class QuotaController:
    def __init__(self, store: KubeStore) -> None:
        self.store = store

    def sync(self, quota: dict[str, Any]) -> None:
        hard = dict((quota.get("spec") or {}).get("hard") or {})
        totals: dict[str, Fraction] = {}
        for pod in self.store.items(BY_KIND["Pod"], quota["metadata"]["namespace"]):
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            for name, value in usage(pod).items():
                totals[name] = totals.get(name, Fraction(0)) + value
        used = {name: show(totals.get(name, Fraction(0)), name) for name in hard}
        status = {"hard": hard, "used": used}
        if quota.get("status") != status:
            quota["status"] = status
            self.store.update(BY_KIND["ResourceQuota"], quota)
