"""The namespace quota sized from the spec under preview.max_cpu / preview.max_memory (issue 14): a spec that
does not fit is refused before anything is built, one that fits once but not twice replaces its pods (Recreate),
and a relaunch with a smaller spec still finds room for its new pod next to the old one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from prdeck.services.launch.git_mirror import LocalTree
from prdeck.services.launch.placement import ClusterOptions, Placement
from prdeck.services.launch.quota import QuotaCap
from prdeck.services.launch.render import render
from prdeck.services.launch.results import LaunchFailed
from prdeck.services.launch.spec import SpecError, load_spec
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import SimulatedBuilder, free_port
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import admin
from tests.launch_support import Rig, app_seed, make_rig

pytestmark = pytest.mark.timeout(180)

PLACEMENT = Placement(RepoRef("acme", "shop"), 7, "prdeck-acme-shop-pr-7", "a" * 40, "feature",
                      datetime(2030, 1, 1, tzinfo=UTC), "maintainer")


def rendered(tmp_path: Path, compose: str, cap: QuotaCap | None = None,
             in_use: dict[str, Any] | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    (tmp_path / "compose.yml").write_text(compose)
    spec = load_spec(LocalTree(tmp_path), configured="compose.yml")
    options = ClusterOptions(quota_cap=cap or QuotaCap())
    objects = render(spec, PLACEMENT, options, {}, in_use)
    quota = next(obj for obj in objects if obj["kind"] == "ResourceQuota")["spec"]["hard"]
    deployment = next(obj for obj in objects if obj["kind"] == "Deployment")
    return quota, deployment


WEB_AND_DB = """
services:
  web:
    image: web:1
    ports: ["8080"]
    deploy: {resources: {limits: {cpus: "1", memory: 1G}, reservations: {cpus: "0.25", memory: 256M}}}
  db:
    image: postgres:16
    deploy: {resources: {limits: {memory: 512M}}}
  migrate:
    image: web:1
    restart: "no"
    deploy: {resources: {limits: {cpus: "2", memory: 256M}}}
x-prdeck: {ingress: {service: web, port: 8080}}
"""


def test_the_quota_holds_the_pods_twice_while_a_rolling_update_fits(tmp_path: Path) -> None:
    quota, deployment = rendered(tmp_path, WEB_AND_DB)
    # web 1 CPU / 1024Mi, db 500m (LimitRange default) / 512Mi: 1.5 CPUs and 1536Mi running; the one-shot
    # migrate (2 CPUs, init container) is larger in CPU alone: the pod counts 2 CPUs, 1536Mi; twice for a relaunch
    assert quota["limits.cpu"] == "4000m" and quota["limits.memory"] == "3072Mi"
    # requests: web 250m/256Mi, db 512Mi (limit = request) and 50m default; migrate 2 CPUs
    assert quota["requests.cpu"] == "4000m" and quota["requests.memory"] == "1536Mi"
    assert quota["pods"] == "20"
    assert "strategy" not in deployment["spec"]  # the default RollingUpdate


def test_a_spec_that_fits_once_but_not_twice_recreates_its_pods(tmp_path: Path) -> None:
    quota, deployment = rendered(tmp_path, WEB_AND_DB, QuotaCap(cpu="3", memory="16Gi"))
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert quota["limits.cpu"] == "2000m" and quota["limits.memory"] == "1536Mi"


def test_a_spec_over_the_cap_is_refused_naming_its_totals(tmp_path: Path) -> None:
    many = "services:\n" + "".join(f"  s{n}:\n    image: app:1\n" for n in range(5)) + \
        "x-prdeck: {ingress: {service: s0, port: 80}}\n"
    with pytest.raises(SpecError) as refused:
        rendered(tmp_path, many, QuotaCap(cpu="2", memory="16Gi"))
    assert refused.value.title == (
        "The preview needs 2.5 CPUs and 2.5Gi of memory (limits; requests 0.25 CPUs, 320Mi): more than one "
        "preview may use (2 CPUs, 16Gi of memory)")
    assert "preview.max_cpu" in refused.value.detail and "500m CPU and 512Mi" in refused.value.detail


def test_a_relaunch_rolls_next_to_the_pods_running_now(tmp_path: Path) -> None:
    """The old pods (the quota's status.used) may be larger than the new spec's: the new pod needs room next to
    them, or the rolling update waits forever; when that does not fit under the cap, Recreate."""
    running = {"limits.cpu": "3", "limits.memory": "4Gi", "requests.cpu": "500m", "requests.memory": "1Gi"}
    quota, deployment = rendered(tmp_path, WEB_AND_DB, in_use=running)
    assert quota["limits.cpu"] == "5000m" and quota["limits.memory"] == "5632Mi"  # 3 + 2 CPUs, 4Gi + 1536Mi
    assert "strategy" not in deployment["spec"]
    quota, deployment = rendered(tmp_path, WEB_AND_DB, QuotaCap(cpu="4", memory="16Gi"), in_use=running)
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert quota["limits.cpu"] == "2000m" and quota["limits.memory"] == "1536Mi"


def test_manifests_count_replicas_autoscalers_and_their_own_strategy(tmp_path: Path) -> None:
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "app.yaml").write_text("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api:1, resources: {limits: {cpu: 500m, memory: 256Mi}}}]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 4
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}}]
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: api}, ports: [{port: 80}]}
""")
    spec = load_spec(LocalTree(tmp_path), configured="manifests")
    objects = render(spec, PLACEMENT, ClusterOptions(), {})
    quota = next(obj for obj in objects if obj["kind"] == "ResourceQuota")["spec"]["hard"]
    assert quota["limits.cpu"] == "2500m" and quota["limits.memory"] == "1280Mi"  # 4 replicas + 1 surge


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """PR 1's spec asks for 3G of memory under a cap of 4Gi; ``rig.spec`` holds that compose file."""
    port = free_port()
    big = (f"services:\n  web:\n    build: .\n    ports: ['{port}']\n    deploy: {{resources: {{limits: "
           f"{{memory: 3G}}}}}}\nx-prdeck:\n  ingress:\n    service: web\n    port: {port}\n")
    with SandboxStack(app_seed(port, files={".prdeck/compose.yml": big}), builds="simulate") as stack:
        rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0), **{"preview.max_memory": "4Gi"})
        rig.spec = big  # type: ignore[attr-defined]
        yield rig


def test_over_the_cap_nothing_is_built_and_no_namespace_is_made(rig: Rig) -> None:
    admin(rig.stack.github, "pulls", {"action": "push", "repo": "octo/app", "number": 1, "files": {
        ".prdeck/compose.yml": rig.spec.replace("3G", "5G")}})
    with pytest.raises(LaunchFailed) as failed:
        rig.launch(1)
    assert failed.value.step == "fetch" and "more than one preview may use" in failed.value.title
    assert [event.step for event in rig.events if event.kind == "step" and event.state == "running"] == ["fetch"]
    assert "prdeck-octo-app-pr-1" not in {ns.metadata.name for ns in rig.cluster.core.list_namespace().items}


def test_a_relaunch_with_a_smaller_pod_rolls_in_next_to_the_old_one(rig: Rig) -> None:
    first = rig.launch(1)
    assert first.steps[-1].state == "done"
    compose = rig.spec
    # 3G fits once under 4Gi, not twice: Recreate; 1G next to the old 3G pod fits: it rolls, and the quota
    # (sized from status.used) leaves room for the new pod while the old one still runs
    admin(rig.stack.github, "pulls", {"action": "push", "repo": "octo/app", "number": 1,
                                      "files": {".prdeck/compose.yml": compose.replace("3G", "1G")}})
    second = rig.launch(1)
    assert second.steps[-1].state == "done", second.steps
