"""The preview spec: Compose (x-prdeck / x-uffizzi) and manifests, translated and rendered into objects that pass
the Kubernetes OpenAPI schemas (kubernetes-validate, strict)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import kubernetes_validate
import pytest

from prdeck.services.launch.git_mirror import LocalTree
from prdeck.services.launch.render import ClusterOptions, Placement, render
from prdeck.services.launch.spec import SpecError, load_spec
from prdeck.services.models import RepoRef
from tests.test_kube_schema import SCHEMA_VERSION

UFFIZZI = """
services:
  app:
    build:
      context: ./app
      dockerfile: Dockerfile.preview
      args:
        NODE_ENV: preview
    environment:
      DATABASE_URL: postgres://postgres:secret@localhost:5432/app
      PUBLIC_URL: ${PUBLIC_URL:-unset}
    command: ["sh", "-c", "echo serving at $$UFFIZZI_URL && exec ./start"]
    ports:
      - "3000:3000"
    deploy:
      resources:
        limits:
          memory: 512m
          cpus: "0.5"
    healthcheck:
      test: ["CMD-SHELL", "wget -qO- http://localhost:3000/health"]
      interval: 10s
      retries: 3
  db:
    image: ${DB_IMAGE}
    environment:
      - POSTGRES_PASSWORD=secret
    deploy:
      resources:
        limits:
          memory: 250M
    volumes:
      - data:/var/lib/postgresql/data
x-uffizzi:
  ingress:
    service: app
    port: 3000
volumes:
  data: {}
"""


def tree(tmp_path: Path, files: dict[str, str]) -> LocalTree:
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return LocalTree(tmp_path)


PLACEMENT = Placement(RepoRef("acme", "shop"), 7, "prdeck-acme-shop-pr-7", "a" * 40, "feature/x",
                      datetime(2030, 1, 1, tzinfo=UTC), "maintainer")


def test_a_uffizzi_compose_file_becomes_one_pod_with_a_sidecar_on_localhost(tmp_path: Path) -> None:
    files = tree(tmp_path, {".github/uffizzi/docker-compose.uffizzi.yml": UFFIZZI})
    spec = load_spec(files, variables={"DB_IMAGE": "postgres:16", "PUBLIC_URL": "https://x"})
    assert spec.source == ".github/uffizzi/docker-compose.uffizzi.yml" and spec.form == "compose"
    assert [c.name for c in spec.containers] == ["app", "db"]
    assert spec.builds[0][1].context == "app" and spec.builds[0][1].args == (("NODE_ENV", "preview"),)
    assert not any("not supported" in w for w in spec.warnings), spec.warnings

    objects = render(spec, PLACEMENT, ClusterOptions(), {"app": "registry.test/acme-shop-app:pr-7-aaaaaaaaaaaa"})
    kinds = [obj["kind"] for obj in objects]
    assert kinds == ["Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "Deployment", "Service"]
    pod = objects[4]["spec"]["template"]["spec"]
    app, db = pod["containers"]
    assert db["image"] == "postgres:16" and app["image"].endswith(":pr-7-aaaaaaaaaaaa")
    assert app["args"] == ["sh", "-c", "echo serving at $UFFIZZI_URL && exec ./start"]
    env = {item["name"]: item["value"] for item in app["env"]}
    assert env["DATABASE_URL"].endswith("@localhost:5432/app"), "services share the pod: localhost reaches the db"
    assert env["PUBLIC_URL"] == "https://x" and env["UFFIZZI_URL"] + "/" == env["PRDECK_URL"] == "http://localhost:3000/"
    assert app["resources"]["limits"] == {"memory": "512Mi", "cpu": "500m"}
    assert db["resources"]["limits"] == {"memory": "250Mi"}
    assert db["volumeMounts"] == [{"name": "volume-data", "mountPath": "/var/lib/postgresql/data"}]
    assert pod["volumes"] == [{"name": "volume-data", "emptyDir": {}}]
    assert app["readinessProbe"] == {"exec": {"command": ["/bin/sh", "-c", "wget -qO- http://localhost:3000/health"]},
                                     "periodSeconds": 10, "failureThreshold": 3, "timeoutSeconds": 30}
    assert objects[5]["spec"]["ports"][0]["port"] == 3000
    for obj in objects:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)


def test_a_domain_adds_an_ingress_with_tls_and_secrets_go_to_an_env_from(tmp_path: Path) -> None:
    files = tree(tmp_path, {".prdeck/compose.yml": "services:\n  web:\n    image: nginx\n    ports: [80]\n"
                            "x-prdeck:\n  ingress: {service: web, port: 80}\n"})
    spec = load_spec(files)
    options = ClusterOptions(domain="previews.example.com", ingress_class="nginx", tls_secret="wildcard",
                             secrets={"API_KEY": "s3cret"})
    objects = render(spec, PLACEMENT, options, {})
    by_kind = {obj["kind"]: obj for obj in objects}
    rule = by_kind["Ingress"]["spec"]["rules"][0]
    assert rule["host"] == "pr-7-acme-shop.previews.example.com"
    assert by_kind["Ingress"]["spec"]["tls"][0]["secretName"] == "wildcard"
    assert by_kind["Secret"]["stringData"] == {"API_KEY": "s3cret"}
    container = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["envFrom"] == [{"secretRef": {"name": "prdeck-secrets"}}]
    assert by_kind["Namespace"]["metadata"]["annotations"]["prdeck.dev/url"] == "https://pr-7-acme-shop.previews.example.com/"
    for obj in objects:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "prdeck"


@pytest.mark.parametrize(
    ("compose", "where"),
    [
        ("services:\n  web:\n    image: a\nx-prdeck: {}\n", "x-prdeck.ingress"),
        ("services:\n  web:\n    image: a\nx-prdeck:\n  ingress: {service: api, port: 80}\n",
         "x-prdeck.ingress.service"),
        ("services:\n  web:\n    ports: [80]\nx-prdeck:\n  ingress: {service: web, port: 80}\n", "services.web.image"),
        ("services:\n  web:\n    image: a\n    ports: ['x']\nx-prdeck:\n  ingress: {service: web, port: 80}\n",
         "services.web.ports"),
        ("services:\n  web:\n    image: a\n    deploy: {resources: {limits: {memory: lots}}}\n"
         "x-prdeck:\n  ingress: {service: web, port: 80}\n", "services.web.deploy.resources.limits"),
        ("services: [\n", "not valid YAML"),
        ("services:\n  web:\n    image: $1\nx-prdeck:\n  ingress: {service: web, port: 80}\n", "invalid interpolation"),
    ],
)
def test_invalid_specs_name_the_file_and_the_key(tmp_path: Path, compose: str, where: str) -> None:
    with pytest.raises(SpecError) as problem:
        load_spec(tree(tmp_path, {".prdeck/compose.yml": compose}))
    assert problem.value.title == "Invalid preview spec .prdeck/compose.yml"
    assert where in problem.value.detail


def test_a_missing_spec_says_where_prdeck_looked(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as problem:
        load_spec(tree(tmp_path, {"README.md": "x"}))
    assert ".prdeck/compose.yml" in problem.value.detail and "x-uffizzi" in problem.value.detail


def test_the_manifests_form_reads_a_kustomization_and_substitutes_built_images(tmp_path: Path) -> None:
    deployment = """apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: shop-api:dev
"""
    service = ("apiVersion: v1\nkind: Service\nmetadata: {name: api}\n"
               "spec:\n  selector: {app: api}\n  ports: [{port: 8000}]\n")
    files = tree(tmp_path, {
        ".prdeck/manifests/kustomization.yaml": "resources:\n  - app/\n  - service.yaml\n",
        ".prdeck/manifests/app/kustomization.yaml": "resources: [deployment.yaml]\n",
        ".prdeck/manifests/app/deployment.yaml": deployment,
        ".prdeck/manifests/service.yaml": service,
        ".prdeck/compose.yml.unused": "",
    })
    spec = load_spec(files, images={"shop-api": {"context": "api", "dockerfile": "Dockerfile"}})
    assert spec.form == "manifests" and [name for name, _ in spec.builds] == ["shop-api"]
    objects = render(spec, PLACEMENT, ClusterOptions(domain="p.example.com"), {"shop-api": "reg/shop-api:pr-7"})
    by_kind = {obj["kind"]: obj for obj in objects}
    template = by_kind["Deployment"]["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "reg/shop-api:pr-7"
    assert template["metadata"]["annotations"]["prdeck.dev/head-sha"] == "a" * 40
    assert by_kind["Deployment"]["metadata"]["namespace"] == PLACEMENT.namespace
    assert by_kind["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "api"
    for obj in objects:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)


def test_manifests_may_not_create_cluster_scoped_objects(tmp_path: Path) -> None:
    files = tree(tmp_path, {".prdeck/manifests/role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\n"
                            "kind: ClusterRole\nmetadata: {name: admin-ish}\nrules: []\n"})
    with pytest.raises(SpecError, match=r"role\.yaml: ClusterRole 'admin-ish': .*ClusterRole is not allowed"):
        load_spec(files)
