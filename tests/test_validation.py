"""Values the Kubernetes API server refuses are refused when the spec is read — before anything is built — with the
file and the key; values it accepts still pass. The expectations follow a real 1.36 API server's answers
(server-side apply, dry run), not only the OpenAPI schema."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from prdeck.services.launch import kube_values
from prdeck.services.launch.git_mirror import LocalTree
from prdeck.services.launch.render import ClusterOptions, Placement, render
from prdeck.services.launch.results import LaunchFailed
from prdeck.services.launch.spec import SpecError, load_spec
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import SimulatedBuilder, free_port
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import run_prdeck
from tests.launch_support import app_seed, make_rig

COMPOSE = ".prdeck/compose.yml"
MANIFEST = ".prdeck/manifests/app.yaml"
PLACEMENT = Placement(RepoRef("octo", "app"), 7, "prdeck-octo-app-pr-7", "a" * 40, "feature/x",
                      datetime(2030, 1, 1, tzinfo=UTC), "maintainer")


def compose(service: dict[str, Any], **extra: Any) -> str:
    return yaml.safe_dump({"services": {"web": {"image": "busybox:1.36", **service}, **extra},
                           "x-prdeck": {"ingress": {"service": "web", "port": 8080}}})


def tree(tmp_path: Path, files: dict[str, str]) -> LocalTree:
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    return LocalTree(tmp_path)


def refused(tmp_path: Path, files: dict[str, str]) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_spec(tree(tmp_path, files))
    return caught.value


# compose ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("service", "key", "reason"), [
    ({"environment": {"A=B": "1"}}, "services.web.environment", "'A=B' is not a valid environment variable name"),
    ({"environment": ["=1"]}, "services.web.environment", "needs a name"),
    ({"environment": {"NAMÉ": "1"}}, "services.web.environment", "printable ASCII"),
    ({"image": "Busybox:1"}, "services.web.image", "not a valid image reference"),
    ({"image": "busybox:1:2"}, "services.web.image", "not a valid image reference"),
    ({"image": "busybox with spaces"}, "services.web.image", "not a valid image reference"),
    ({"image": "busybox@sha256:abc"}, "services.web.image", "digest"),
    ({"deploy": {"resources": {"limits": {"memory": -1}}}}, "limits", "more than 0"),
    ({"deploy": {"resources": {"limits": {"memory": True}}}}, "limits", "not a size"),
    ({"deploy": {"resources": {"limits": {"cpus": float("inf")}}}}, "limits", "finite"),
    ({"deploy": {"resources": {"limits": {"cpus": float("nan")}}}}, "limits", "finite"),
    ({"deploy": {"resources": {"limits": {"cpus": True}}}}, "limits", "not a number of CPUs"),
    ({"deploy": {"resources": {"limits": {"cpus": 0.0001}}}}, "limits", "at least 0.001"),
    ({"deploy": {"resources": [1]}}, "limits", "must be mappings"),
    ({"healthcheck": {"test": "true", "retries": True}}, "services.web.healthcheck", "whole number"),
    ({"healthcheck": {"test": "true", "retries": 2**31}}, "services.web.healthcheck", "whole number"),
    ({"healthcheck": {"test": "true", "interval": "1000000h"}}, "services.web.healthcheck", "too long"),
    ({"healthcheck": [1]}, "services.web.healthcheck", "must be a mapping"),
    ({"ports": 8080}, "services.web.ports", "a list of ports"),
])
def test_compose_values_the_api_server_refuses_are_refused_when_read(
    tmp_path: Path, service: dict[str, Any], key: str, reason: str
) -> None:
    error = refused(tmp_path, {COMPOSE: compose(service)})
    assert error.title == f"Invalid preview spec {COMPOSE}"
    assert key in error.detail and reason in error.detail, error.detail


def test_cpus_inf_written_as_yaml_is_one_clear_error(tmp_path: Path) -> None:
    text = compose({}).replace("image: busybox:1.36", "image: busybox:1.36\n    deploy: {resources: {limits: "
                                                       "{cpus: .inf}}}")
    error = refused(tmp_path, {COMPOSE: text})
    assert "services.web.deploy.resources.limits" in error.detail and ".inf" not in error.title


@pytest.mark.parametrize("service", [
    {"environment": {"A B": "1", "a.b": "2", "1A": "3", "~x": "4"}},  # the server takes any printable ASCII but =
    {"image": "localhost:5000/team/app_x--y:v1.2-rc"},
    {"image": f"registry.example/app@sha256:{'a' * 64}"},
    {"image": "[::1]:5000/app:1"},
    {"deploy": {"resources": {"limits": {"memory": "1GB", "cpus": "0.25"}}}},  # compose's GB, translated
    {"healthcheck": {"test": ["CMD", "true"], "retries": 3, "interval": "1m30s"}},
])
def test_compose_values_the_api_server_accepts_still_pass(tmp_path: Path, service: dict[str, Any]) -> None:
    spec = load_spec(tree(tmp_path, {COMPOSE: compose(service)}))
    render(spec, PLACEMENT, ClusterOptions(), {})


# manifests -------------------------------------------------------------------------------------------------
def deployment(container: dict[str, Any] | None = None, **pod: Any) -> dict[str, Any]:
    containers = [{"name": "web", "image": "busybox:1.36", **(container or {})}]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": containers, **pod}}}}


def service(ports: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": ports}}


EXEC = {"exec": {"command": ["true"]}}


@pytest.mark.parametrize(("obj", "reason"), [
    (deployment({"name": "web_app"}), "'web_app' is not a valid container name"),
    (deployment({"name": "a" * 64}), "not a valid container name"),
    (deployment(containers=[{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]), "used twice"),
    (deployment({"env": [{"name": "A=B", "value": "1"}]}), "not a valid environment variable name"),
    (deployment({"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}), "'A' is set twice"),
    (deployment({"env": [{"name": "A", "value": 1}]}), "value must be a string"),
    (deployment({"image": "team/UPPER"}), "not a valid image reference"),
    (deployment({"image": ""}), "an image is needed"),
    (deployment({"resources": {"limits": {"memory": "1GB"}}}), "'1GB' is not a quantity"),
    (deployment({"resources": {"limits": {"memory": "-1Mi"}}}), "must not be negative"),
    (deployment({"resources": {"limits": {"cpu": ".inf"}}}), "is not a quantity"),
    (deployment({"resources": {"limits": {"cpu": "NaN"}}}), "is not a quantity"),
    (deployment({"resources": {"limits": {"memory": "1ki"}}}), "is not a quantity"),
    (deployment({"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}), "above its limit"),
    (deployment({"resources": {"requests": {"cpu": "1"}}}), "above the default limit 500m"),
    (deployment({"readinessProbe": {"periodSeconds": 5}}), "exactly one of exec"),
    (deployment({"readinessProbe": {**EXEC, "tcpSocket": {"port": 80}}}), "exactly one of exec"),
    (deployment({"readinessProbe": {**EXEC, "failureThreshold": True}}), "failureThreshold must be a whole"),
    (deployment({"livenessProbe": {**EXEC, "periodSeconds": 2**31}}), "periodSeconds must be a whole"),
    (deployment({"ports": [{"containerPort": 65536}]}), "not a port number"),
    (deployment({"ports": [{"containerPort": 80}, {"containerPort": 80}]}), "listed twice"),
    (deployment({"ports": [{"containerPort": 80, "name": "HTTP"}]}), "port name 'HTTP' is invalid"),
    (service([{"name": "HTTP", "port": 80}]), "a DNS label"),
    (service([{"port": 80}, {"port": 81}]), "must name each one"),
    (service([{"name": "a", "port": 80}, {"name": "a", "port": 81}]), "used twice"),
    (service([{"port": 70000}]), "not a port number"),
    (service([{"port": 80, "targetPort": "HTTP"}]), "targetPort"),
    ({**deployment(), "metadata": {"name": "web", "labels": {"tier": 1}}}, "labels must be a mapping of strings"),
    ({**deployment(), "spec": {"template": {"metadata": [1], "spec": {"containers": []}}}}, "template metadata"),
])
def test_manifest_values_the_api_server_refuses_are_refused_when_read(
    tmp_path: Path, obj: dict[str, Any], reason: str
) -> None:
    error = refused(tmp_path, {MANIFEST: yaml.safe_dump(obj)})
    assert error.title == f"Invalid preview spec {MANIFEST}"
    assert f"{obj['kind']} 'web'" in error.detail and reason in error.detail, error.detail


@pytest.mark.parametrize("obj", [
    deployment({"name": "1a", "env": [{"name": "A B", "value": "1"}],
                "resources": {"limits": {"memory": "1e3", "cpu": "0.5"}, "requests": {"cpu": "500m"}},
                "ports": [{"containerPort": 80, "name": "http"}], "readinessProbe": {**EXEC, "failureThreshold": 0}}),
    service([{"name": "a" * 16, "port": 80}]),  # Service port names are DNS labels, not IANA names, since 1.x
    service([{"name": "123", "port": 80, "targetPort": "http"}]),
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"clusterIP": "None"}},
])
def test_manifest_values_the_api_server_accepts_still_pass(tmp_path: Path, obj: dict[str, Any]) -> None:
    spec = load_spec(tree(tmp_path, {MANIFEST: yaml.safe_dump(obj)}))
    render(spec, PLACEMENT, ClusterOptions(), {})


def test_quantities_read_like_the_api_server() -> None:
    assert kube_values.quantity("512Mi") == 512 * 2**20
    assert kube_values.quantity("500m") == kube_values.quantity(0.5)
    assert kube_values.quantity("1e3") == 1000
    for bad in ("1GB", "1g", ".inf", "NaN", "-", "1 Gi", True, None, float("inf")):
        with pytest.raises(ValueError):
            kube_values.quantity(bad)


# shapes: every input is a SpecError or a spec that renders ------------------------------------------------
def random_value(rng: random.Random, depth: int = 0) -> Any:
    choices: list[Any] = [None, True, 0, -1, 2**40, 1.5, float("inf"), float("nan"), "", "x", "A=B", "8080",
                          "Web_App", ".inf", "1GB", [], {}]
    if depth < 3:
        choices += [[random_value(rng, depth + 1) for _ in range(rng.randint(1, 3))],
                    {rng.choice(["name", "image", "port", "ports", "spec", "metadata", "env", "x"]):
                     random_value(rng, depth + 1) for _ in range(rng.randint(1, 3))}]
    return rng.choice(choices)


def mutated(document: Any, rng: random.Random) -> Any:
    """``document`` with one value somewhere inside replaced by a random shape."""
    if not isinstance(document, dict | list) or rng.random() < 0.25:
        return random_value(rng)
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    if not keys:
        return random_value(rng)
    copy: Any = dict(document) if isinstance(document, dict) else list(document)
    key = rng.choice(keys)
    copy[key] = mutated(copy[key], rng)
    return copy


COMPOSE_DOC = yaml.safe_load(compose({"build": {"context": ".", "args": {"A": "1"}}, "environment": {"A": "1"},
                                      "ports": ["8080"], "healthcheck": {"test": "true", "retries": 2},
                                      "deploy": {"resources": {"limits": {"memory": "64m", "cpus": 0.5}}}},
                                     db={"image": "postgres:16", "environment": ["X=1"]}))
MANIFEST_DOCS = [deployment({"env": [{"name": "A", "value": "1"}], "ports": [{"containerPort": 8080}],
                             "readinessProbe": EXEC}), service([{"name": "http", "port": 8080}])]


@pytest.mark.parametrize("seed", range(40))
def test_random_shapes_give_a_spec_error_or_a_spec_that_renders(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    for attempt in range(25):
        root = tmp_path / f"{attempt}"
        if attempt % 2:
            files = {COMPOSE: yaml.safe_dump(mutated(COMPOSE_DOC, rng))}
        else:
            files = {MANIFEST: yaml.safe_dump_all([mutated(doc, rng) for doc in MANIFEST_DOCS])}
        try:
            spec = load_spec(tree(root, files), images={"busybox": {"context": "."}})
            render(spec, PLACEMENT, ClusterOptions(domain="example.test"), {"web": "r/web:1", "busybox": "r/b:1"})
        except SpecError:
            pass


def test_manifest_metadata_as_a_list_is_a_spec_error(tmp_path: Path) -> None:
    for obj in ({**service([{"port": 80}]), "metadata": [1]}, {**deployment(), "metadata": {"name": "web",
                                                                                          "annotations": [1]}}):
        with pytest.raises(SpecError):
            load_spec(tree(tmp_path, {MANIFEST: yaml.safe_dump(obj)}))


# end to end: the launch stops at fetch, nothing built; render says the file and the key ----------------------
def test_an_invalid_value_stops_the_launch_before_the_build(tmp_path: Path) -> None:
    bad = compose({"image": None, "build": ".", "environment": {"A=B": "1"}})
    seed = app_seed(free_port(), files={COMPOSE: bad})
    built: list[str] = []

    class Recording(SimulatedBuilder):
        def build(self, *args: Any, **kwargs: Any) -> str:
            built.append(args[2])
            return super().build(*args, **kwargs)

    with SandboxStack(seed, builds="simulate") as stack:
        rig = make_rig(stack, tmp_path, lambda: Recording(pace=0))
        with pytest.raises(LaunchFailed) as failure:
            rig.launch(1)
        assert isinstance(failure.value.cause, SpecError) and "services.web.environment" in failure.value.detail
        assert failure.value.title == f"Invalid preview spec {COMPOSE}", "not 'fetch failed: ...'"
        assert not built
        assert not any(event.kind == "step" and event.step == "build" and event.state == "running"
                       for event in rig.events)


def test_render_with_a_bad_local_spec_is_one_line_naming_file_and_key(tmp_path: Path) -> None:
    spec = tmp_path / "compose.yml"
    spec.write_text(compose({"deploy": {"resources": {"limits": {"memory": "-5"}}}}))
    with SandboxStack(app_seed(free_port()), builds="simulate") as stack:
        env = {k: str(v) for k, v in stack.info()["env"].items()}
        done = run_prdeck("render", "1", "--spec", str(spec), env=env)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "compose.yml" in lines[0] and "services.web.deploy.resources.limits" in lines[0]
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
