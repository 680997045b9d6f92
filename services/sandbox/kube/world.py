"""The Kubernetes sandbox's simulated cluster: the loop that runs the controllers and the kubelet.

Deployments get ReplicaSets, ReplicaSets get Pods, and each Pod goes Pending -> ContainerCreating -> Running
and Ready over a few (configurable) seconds, or to ErrImagePull/ImagePullBackOff when its image is missing from
the registry, or to CrashLoopBackOff when the seed says the image crashes. Containers write log lines, every
transition is recorded as an Event, and a deleted namespace is Terminating until its objects are gone.

The work is done in ``controllers`` (Deployments, ReplicaSets, namespaces) and ``kubelet`` (pods); this module
wakes them on every change to the store, and at least twice a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prdeck.services.sandbox.kube.behaviour import Behaviours, Timing
from prdeck.services.sandbox.kube.controllers import DeploymentController, NamespaceController, ReplicaSetController
from prdeck.services.sandbox.kube.kubelet import Kubelet
from prdeck.services.sandbox.kube.logs import LogBook
from prdeck.services.sandbox.kube.quota_status import QuotaController
from prdeck.services.sandbox.kube.registry import ImageRegistry
from prdeck.services.sandbox.kube.resources import BY_KIND
from prdeck.services.sandbox.kube.store import KubeStore

LOG = logging.getLogger(__name__)


class KubeWorld:
    def __init__(self, store: KubeStore, logs: LogBook, timing: Timing, behaviours: Behaviours) -> None:
        self.store = store
        self.registry = ImageRegistry(behaviours)
        self.kubelet = Kubelet(store, logs, timing, behaviours, self.registry)
        self.deployments = DeploymentController(store)
        self.replicasets = ReplicaSetController(store)
        self.namespaces = NamespaceController(store)
        self.quotas = QuotaController(store)

    async def run(self) -> None:
        self.registry.open()
        try:
            while True:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that arrives as
                # the event is set, and then stopping the sandbox right after it started hung for 15 s
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await self.store.changed.wait()
                self.store.changed.clear()
                try:
                    await self.reconcile()
                except Exception:  # a bug in one pass must not stop the cluster: log it, try again
                    LOG.exception("reconcile failed")
        finally:
            self.kubelet.cancel_all()
            await self.registry.close()

    async def reconcile(self) -> None:
        for deployment in self.store.items(BY_KIND["Deployment"]):
            self.deployments.sync(deployment)
        for replicaset in self.store.items(BY_KIND["ReplicaSet"]):
            self.replicasets.sync(replicaset)
        for pod in self.store.items(BY_KIND["Pod"]):
            self.kubelet.adopt(pod)
        for namespace in self.store.items(BY_KIND["Namespace"]):
            self.namespaces.sync(namespace)
        for quota in self.store.items(BY_KIND["ResourceQuota"]):
            self.quotas.sync(quota)
