"""What a compose file becomes in the ONE preview pod (issue 14): names, order, health, ports, Uffizzi's variables.

Each file of tests/compose_corpus/ is one pattern real compose files use; each is rendered, its objects
validated strictly against the published schemas, and the combined one launched on the Kubernetes sandbox,
whose kubelet runs init containers in order and native sidecars as a real one does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from prdeck.services.kube.version import server_version
from prdeck.services.launch import compose_pod
from prdeck.services.launch.compose_pod import largest_start_period
from prdeck.services.launch.git_mirror import LocalTree
from prdeck.services.launch.pod_policy import PodPolicy
from prdeck.services.launch.render import ClusterOptions, Placement, render
from prdeck.services.launch.results import LaunchFailed
from prdeck.services.launch.spec import PreviewSpec, SpecError, load_spec
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import SimulatedBuilder, free_port
from prdeck.services.sandbox.stack import SandboxStack
from tests.kube_support import eventually, kube_admin
from tests.launch_support import Rig, app_seed, make_rig
from tests.test_kube_schema import SCHEMA_VERSION

pytestmark = pytest.mark.timeout(120)
CORPUS = Path(__file__).parent / "compose_corpus"
PLACEMENT = Placement(RepoRef("acme", "shop"), 7, "prdeck-acme-shop-pr-7", "a" * 40, "feature/x",
                      datetime(2030, 1, 1, tzinfo=UTC), "maintainer")
OPTIONS = ClusterOptions(domain="previews.example.com")


def spec_of(tmp: Path, name: str) -> PreviewSpec:
    target = tmp / ".prdeck" / "compose.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text((CORPUS / name).read_text(encoding="utf-8"), encoding="utf-8")
    return load_spec(LocalTree(tmp))


def rendered(tmp: Path, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pod spec and the Service of one corpus file; every object validated strictly."""
    spec = spec_of(tmp, name)
    objects = render(spec, PLACEMENT, OPTIONS, {c.name: f"registry.test/{c.name}:pr-7" for c in spec.containers})
    for obj in objects:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
    deployment, service = (next(o for o in objects if o["kind"] == kind) for kind in ("Deployment", "Service"))
    return deployment["spec"]["template"]["spec"], service


def names(containers: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in containers]


def env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["env"]}


def test_services_reach_each_other_by_name_aliases_and_hostname(tmp_path: Path) -> None:
    pod, _ = rendered(tmp_path, "by_name.yml")
    # cache_store and Api_Old are no valid host names (the API server refuses them in hostAliases)
    assert pod["hostAliases"] == [{"ip": "127.0.0.1",
                                   "hostnames": ["web", "api.internal", "redis", "postgres", "db-primary"]}]
    assert env(pod["containers"][0])["REDIS_URL"] == "redis://redis:6379/0"


def test_one_shot_services_are_init_containers_in_dependency_order(tmp_path: Path) -> None:
    pod, _ = rendered(tmp_path, "one_shot.yml")
    assert names(pod["initContainers"]) == ["init", "migrate", "create-buckets"]
    assert all("restartPolicy" not in c and "readinessProbe" not in c for c in pod["initContainers"])
    assert names(pod["containers"]) == ["web", "worker"], "restart: on-failure keeps running (it is no one-shot)"


def test_service_healthy_makes_a_native_sidecar_with_its_healthcheck_as_startup_probe(tmp_path: Path) -> None:
    pod, _ = rendered(tmp_path, "healthy_sidecar.yml")
    db, migrate = pod["initContainers"]
    assert (db["name"], db["restartPolicy"], migrate["name"]) == ("db", "Always", "migrate")
    assert db["startupProbe"]["exec"]["command"] == ["/bin/sh", "-c", "pg_isready -U postgres"]
    assert db["startupProbe"]["periodSeconds"] == 5 and db["startupProbe"]["timeoutSeconds"] == 30
    assert "readinessProbe" not in db and "restartPolicy" not in migrate
    assert names(pod["containers"]) == ["web", "worker"]


def test_a_dependency_cycle_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as error:
        spec_of(tmp_path, "cycle.yml")
    assert "depends_on" in error.value.detail and "api -> worker -> api" in error.value.detail


def test_only_the_ingress_healthcheck_gates_ready_with_composes_defaults(tmp_path: Path) -> None:
    pod, _ = rendered(tmp_path, "health.yml")
    web, search, cache = pod["containers"]
    assert web["readinessProbe"] == {"exec": {"command": ["wget", "-qO-", "http://localhost:8000/health"]},
                                     "periodSeconds": 30, "timeoutSeconds": 30, "failureThreshold": 3}
    assert web["startupProbe"]["periodSeconds"] == 5 and web["startupProbe"]["failureThreshold"] == 8 + 18
    assert not any(key.endswith("Probe") for key in [*search, *cache])
    assert largest_start_period(spec_of(tmp_path, "health.yml")) == 600


def test_published_ports_udp_and_reservations(tmp_path: Path) -> None:
    pod, service = rendered(tmp_path, "ports.yml")
    assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": 80}]
    web, dns = pod["containers"]
    assert web["resources"] == {"limits": {"memory": "256Mi", "cpu": "500m"},
                                "requests": {"memory": "256Mi", "cpu": "500m"}}
    assert dns["ports"] == [{"containerPort": 53, "protocol": "UDP"}, {"containerPort": 53, "protocol": "TCP"}]
    assert dns["resources"] == {"limits": {"memory": "128Mi"}, "requests": {"memory": "64Mi", "cpu": "100m"}}
    assert env(web)["PORT"] == "80"


def test_two_services_on_one_container_port_are_refused_naming_both(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as error:
        spec_of(tmp_path, "same_port.yml")
    assert "'web' and 'admin'" in error.value.detail and "3000/tcp" in error.value.detail


def test_uffizzis_variables_and_literal_dollars(tmp_path: Path) -> None:
    pod, _ = rendered(tmp_path, "uffizzi_vars.yml")
    (app,) = pod["containers"]
    values = env(app)
    assert values["UFFIZZI_URL"] == "http://pr-7-acme-shop.previews.example.com"
    assert values["PRDECK_URL"] == "http://pr-7-acme-shop.previews.example.com/"
    assert values["UFFIZZI_DOMAIN"] == "pr-7-acme-shop.previews.example.com" and values["PORT"] == "3000"
    assert values["API_BASE"] == "$(UFFIZZI_URL)/api"  # still expanded by Kubernetes
    assert values["PRICE"] == "$$(HOME) costs $5"  # Kubernetes makes it the literal "$(HOME) costs $5"
    assert app["args"] == ["sh", "-c", "echo $$(date) ${HOME} && exec ./start --public $(PRDECK_URL)"]


def simulated(tmp: Path, compose: str) -> Iterator[Rig]:
    seed = app_seed(free_port(), files={".prdeck/compose.yml": (CORPUS / compose).read_text(encoding="utf-8")})
    with SandboxStack(seed, builds="simulate") as stack:
        yield make_rig(stack, tmp, lambda: SimulatedBuilder(pace=0))


def the_pod(rig: Rig) -> dict[str, Any]:
    pods = rig.cluster.core.list_namespaced_pod("prdeck-octo-app-pr-1").items
    pod: dict[str, Any] = rig.cluster.core.api_client.sanitize_for_serialization(pods[0])
    return {**pod, "apiVersion": "v1", "kind": "Pod"}


def test_web_postgres_redis_and_a_migration_become_ready_in_order(tmp_path: Path) -> None:
    for rig in simulated(tmp_path, "combined.yml"):
        rig.launch(1)
        pod = the_pod(rig)
        kubernetes_validate.validate(pod, SCHEMA_VERSION, strict=True)
        assert names(pod["spec"]["initContainers"]) == ["postgres", "migrate"]
        assert pod["spec"]["hostAliases"][0]["hostnames"] == ["web", "migrate", "postgres", "redis"]
        postgres, migrate = pod["status"]["initContainerStatuses"]
        assert "running" in postgres["state"] and postgres["started"] and postgres["ready"]
        assert migrate["state"]["terminated"]["reason"] == "Completed"
        assert all(status["ready"] for status in pod["status"]["containerStatuses"])


def test_a_failing_migration_holds_the_app_back_and_fails_the_launch_with_its_log(tmp_path: Path) -> None:
    for rig in simulated(tmp_path, "combined.yml"):
        sha = rig.stack.github.state.repo("octo", "app").pulls[1].head_sha
        kube_admin(rig.stack.kube, "images", {"image": f"{rig.stack.registry_address}/octo-app-migrate:pr-1-"
                                              f"{sha[:12]}", "crash": True})
        with pytest.raises(LaunchFailed) as failure:
            rig.launch(1)
        assert failure.value.step == "rollout" and "Init:" in failure.value.title, failure.value.title
        assert any("log of" in line and "/migrate" in line for line in failure.value.output), failure.value.output
        pod = the_pod(rig)
        assert pod["status"]["phase"] == "Pending"
        assert all("waiting" in status["state"] for status in pod["status"]["containerStatuses"])


def crash_looping(core: Any) -> bool:
    status = core.read_namespaced_pod("two", "ports").status
    return "CrashLoopBackOff" in json.dumps(core.api_client.sanitize_for_serialization(status))


def test_the_sandbox_fails_the_second_container_binding_a_port(tmp_path: Path) -> None:
    for rig in simulated(tmp_path, "combined.yml"):
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "two"},
                "spec": {"containers": [{"name": name, "image": "busybox:1.36", "ports": [{"containerPort": 80}]}
                                        for name in ("a", "b")]}}
        rig.cluster.core.create_namespace({"metadata": {"name": "ports"}})
        rig.cluster.core.create_namespaced_pod("ports", body)

        eventually(partial(crash_looping, rig.cluster.core))
        statuses = {s.name: s for s in rig.cluster.core.read_namespaced_pod("two", "ports").status.container_statuses}
        assert statuses["b"].restart_count >= 1 and statuses["a"].restart_count == 0
        log = rig.cluster.core.read_namespaced_pod_log("two", "ports", container="b", previous=True)
        assert "bind: address already in use" in log


OLD_CLUSTER = ClusterOptions(domain="previews.example.com", server_version=(1, 28))
WEB_WAITS_FOR_DB = """services:
  web:
    build: .
    ports: ["8000"]
    depends_on:
      db: {condition: service_healthy}
  db:
    image: postgres:16
    healthcheck: {test: ["CMD-SHELL", "pg_isready -U postgres"], interval: 5s}
x-prdeck:
  ingress: {service: web, port: 8000}
"""


def test_before_kubernetes_1_29_healthy_dependencies_start_with_the_app_and_a_launch_says_so(tmp_path: Path) -> None:
    """An older API server drops an init container's restartPolicy: a database as an init container would never
    end, and the pod would never start. So it starts as an app container, and the launch warns once."""
    target = tmp_path / ".prdeck" / "compose.yml"
    target.parent.mkdir(parents=True)
    target.write_text(WEB_WAITS_FOR_DB)
    spec = load_spec(LocalTree(tmp_path))
    deployment = next(o for o in render(spec, PLACEMENT, OLD_CLUSTER, {"web": "r/web:1"}) if o["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert "initContainers" not in pod and names(pod["containers"]) == ["db", "web"]
    assert all("startupProbe" not in c and "restartPolicy" not in c for c in pod["containers"])
    assert compose_pod.sidecar_warning(spec, (1, 28)) == (
        "The cluster runs Kubernetes 1.28, without native sidecar containers (1.29+): db starts together with the "
        "other services instead of before them (depends_on: service_healthy is not kept).")
    assert compose_pod.sidecar_warning(spec, (1, 29)) is None and compose_pod.sidecar_warning(spec, None) is None


def test_before_kubernetes_1_29_a_one_shot_that_needs_a_running_service_is_refused(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, "healthy_sidecar.yml")
    with pytest.raises(SpecError) as error:
        render(spec, PLACEMENT, OLD_CLUSTER, {c.name: f"registry.test/{c.name}:pr-7" for c in spec.containers})
    assert error.value.title == ("The one-shot service migrate needs db running before it, which this cluster "
                                 "(Kubernetes 1.28) cannot do")


def test_a_launch_on_a_1_28_cluster_starts_the_database_alongside_and_warns_once(tmp_path: Path) -> None:
    seed = app_seed(free_port(), files={".prdeck/compose.yml": WEB_WAITS_FOR_DB})
    seed["kube"]["version"] = "1.28"
    with SandboxStack(seed, builds="simulate") as stack:
        rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0))
        result = rig.launch(1)
        assert [w for w in result.warnings if "native sidecar" in w] == [
            "The cluster runs Kubernetes 1.28, without native sidecar containers (1.29+): db starts together with "
            "the other services instead of before them (depends_on: service_healthy is not kept)."]
        pod = the_pod(rig)
        assert names(pod["spec"]["containers"]) == ["db", "web"] and not pod["spec"].get("initContainers")
        assert all(status["ready"] for status in pod["status"]["containerStatuses"])


def test_the_sandbox_plays_an_older_server_that_drops_sidecar_restart_policies(tmp_path: Path) -> None:
    seed = app_seed(free_port())
    seed["kube"]["version"] = "1.28"
    with SandboxStack(seed, builds="simulate") as stack:
        rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0))
        assert server_version(rig.cluster) == (1, 28)
        rig.cluster.core.create_namespace({"metadata": {"name": "old"}})
        pod = {"metadata": {"name": "p"}, "spec": {
            "initContainers": [{"name": "db", "image": "postgres:16", "restartPolicy": "Always"}],
            "containers": [{"name": "web", "image": "web:1"}]}}
        created = rig.cluster.core.create_namespaced_pod("old", pod)
        assert created.spec.init_containers[0].restart_policy is None


def test_a_name_no_pod_host_name_can_hold_is_a_warning_with_the_fix(tmp_path: Path) -> None:
    target = tmp_path / ".prdeck" / "compose.yml"
    target.parent.mkdir(parents=True)
    target.write_text("services:\n  web:\n    image: app:1\n  app_db:\n    image: postgres:16\n"
                      "    networks: {default: {aliases: [DB_Main]}}\nx-prdeck:\n  ingress: {service: web, port: 80}\n")
    spec = load_spec(LocalTree(tmp_path))
    warnings = [w for w in spec.warnings if "cannot reach it" in w]
    assert len(warnings) == 2, spec.warnings  # the name and the alias (lower-cased first, as DNS ignores case)
    assert "'app_db'" in warnings[0] and "hostname: app-db" in warnings[0]
    assert "'db_main'" in warnings[1] and "hostname: db-main" in warnings[1]


def test_images_that_switch_users_get_one_hint_under_restricted(tmp_path: Path) -> None:
    target = tmp_path / ".prdeck" / "compose.yml"
    target.parent.mkdir(parents=True)
    target.write_text("services:\n  web:\n    build: .\n  db:\n    image: docker.io/library/postgres:16-alpine\n"
                      "  cache:\n    image: redis:7\n    cap_add: [CHOWN, SETUID, SETGID]\n"
                      "x-prdeck:\n  ingress: {service: web, port: 80}\n")
    hints = [w for w in load_spec(LocalTree(tmp_path)).warnings if "switches users" in w]
    assert len(hints) == 1 and hints[0].startswith(".prdeck/compose.yml: db runs an image"), hints
    assert 'preview.container_security = "baseline"' in hints[0]
    assert not [w for w in load_spec(LocalTree(tmp_path), policy=PodPolicy("baseline")).warnings
                if "switches users" in w]


@pytest.mark.parametrize(("user", "expected", "named"), [
    ('"1000:1000"', {"runAsUser": 1000, "runAsGroup": 1000}, None),
    ("999", {"runAsUser": 999}, None),
    ("node", {}, "'node'"),
    ('"1000:staff"', {"runAsUser": 1000}, "'staff'"),
    ('"node:0"', {"runAsGroup": 0}, "'node'"),
])
def test_compose_user_runs_the_container_as_those_ids(tmp_path: Path, user: str, expected: dict[str, int],
                                                       named: str | None) -> None:
    target = tmp_path / ".prdeck" / "compose.yml"
    target.parent.mkdir(parents=True)
    target.write_text(f"services:\n  web:\n    image: nginx:1.27\n    user: {user}\n    ports: ['80']\n"
                      "x-prdeck:\n  ingress: {service: web, port: 80}\n")
    spec = load_spec(LocalTree(tmp_path))
    (pod,) = [o for o in render(spec, PLACEMENT, OPTIONS, {}) if o["kind"] == "Deployment"]
    kubernetes_validate.validate(pod, SCHEMA_VERSION, strict=True)
    security = pod["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    assert {key: security[key] for key in ("runAsUser", "runAsGroup") if key in security} == expected
    warnings = [w for w in spec.warnings if ".user:" in w]
    assert (warnings == []) if named is None else (len(warnings) == 1 and f"{named} is a name" in warnings[0])
    assert not any("not supported" in w for w in spec.warnings)


@pytest.mark.parametrize("user", ['"99999999999"', '""', "true", "[1000]"])
def test_a_compose_user_that_is_no_id_or_name_is_refused_naming_the_key(tmp_path: Path, user: str) -> None:
    target = tmp_path / ".prdeck" / "compose.yml"
    target.parent.mkdir(parents=True)
    target.write_text(f"services:\n  web:\n    image: nginx:1.27\n    user: {user}\n    ports: ['80']\n"
                      "x-prdeck:\n  ingress: {service: web, port: 80}\n")
    with pytest.raises(SpecError, match=r"services\.web\.user"):
        load_spec(LocalTree(tmp_path))
