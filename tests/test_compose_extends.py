"""Compose's ``extends`` and ``include`` from the commit's tree, with Compose's merge rules (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prdeck.services.launch.spec import SpecError
from tests.test_compose_parsing import load, web

COMMON = """services:
  base:
    build:
      context: app
      args: [VERSION=1]
    environment: [MODE=base, KEEP=yes]
    command: ["serve", "--base"]
    ports: ["8000:8000"]
    volumes: ["./conf/app.conf:/etc/app.conf"]
    healthcheck: {test: ["CMD", "true"], interval: 10s}
    env_file: base.env
"""


def test_extends_from_another_file_merges_as_compose_and_keeps_relative_paths(tmp_path: Path) -> None:
    spec = load(tmp_path, "services:\n  web:\n    extends: {file: ../deploy/shared/common.yml, service: base}\n"
                          "    environment: {MODE: preview}\n    command: [serve, --preview]\n"
                          "    ports: ['8000:8000', '9000']\n    healthcheck: {interval: 5s}\n",
                files={"deploy/shared/common.yml": COMMON, "deploy/shared/conf/app.conf": "listen 8000\n",
                       "deploy/shared/base.env": "FROM_FILE=1\n", "app/Dockerfile": "FROM scratch\n"})
    service = web(spec)
    assert dict(service.environment) == {"FROM_FILE": "1", "MODE": "preview", "KEEP": "yes"}
    assert service.command == ("serve", "--preview")  # replaced, not appended
    assert service.build is not None and service.build.context == "app"  # from the repository root, as every build
    assert dict(service.build.args) == {"VERSION": "1"}
    assert [(published, target) for published, target, _ in service.port_bindings] == [(8000, 8000), (0, 9000)]
    assert service.readiness is not None and service.readiness["periodSeconds"] == 5  # healthcheck merged
    assert [mount["mountPath"] for mount in service.volume_mounts] == ["/etc/app.conf"]
    assert not any("extends" in warning for warning in spec.warnings), spec.warnings


def test_extends_in_the_same_file_and_chains(tmp_path: Path) -> None:
    spec = load(tmp_path, "services:\n  common:\n    image: app:1\n    environment: [A=1]\n"
                          "  middle:\n    extends: common\n    environment: [B=2]\n"
                          "  web:\n    extends: {service: middle}\n    environment: [C=3]\n")
    assert dict(web(spec).environment) == {"A": "1", "B": "2", "C": "3"} and web(spec).image == "app:1"


@pytest.mark.parametrize(("text", "says"), [
    ("services:\n  web:\n    extends: web\n    image: a\n", "extends loops back to web"),
    ("services:\n  web:\n    extends: {service: nope}\n", "no service 'nope'"),
    ("services:\n  web:\n    extends: {service: a, file: /etc/compose.yml}\n", "outside the repository"),
    ("services:\n  web:\n    extends: {service: a, file: ../../../x.yml}\n", "outside the repository"),
    ("services:\n  web:\n    extends: {service: a, file: missing.yml}\n", "not in the commit"),
    ("include: [https://example.com/compose.yml]\nservices:\n  web: {image: a}\n", "repository only"),
    ("include: [{path: oci://example.com/app}]\nservices:\n  web: {image: a}\n", "repository only"),
    ("include: [compose.yml]\nservices:\n  web: {image: a}\n", "includes itself"),
])
def test_what_cannot_be_extended_or_included_is_refused_naming_the_key(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(SpecError) as error:
        load(tmp_path, text)
    assert says in error.value.detail or says in error.value.title, (error.value.title, error.value.detail)


def test_include_adds_services_volumes_and_configs_with_their_own_paths(tmp_path: Path) -> None:
    spec = load(tmp_path, "include:\n  - ../infra/db.yml\nservices:\n  web:\n    image: app:1\n"
                          "    depends_on: [db]\n",
                files={"infra/db.yml": "services:\n  db:\n    image: postgres:16\n    volumes: ['data:/var/lib/data']\n"
                       "    configs: [init]\nvolumes:\n  data: {}\nconfigs:\n  init:\n    file: ./init.sql\n",
                       "infra/init.sql": "create table t();\n"})
    assert {c.name for c in spec.containers} == {"web", "db"}
    db = next(c for c in spec.containers if c.name == "db")
    assert {mount["mountPath"] for mount in db.volume_mounts} == {"/var/lib/data", "/init"}
    config = next(obj for obj in spec.files if obj["metadata"]["name"] == "config-init")
    assert "create table" in str(config.get("data"))


def test_an_included_file_that_redefines_a_service_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as error:
        load(tmp_path, "include: [other.yml]\nservices:\n  web: {image: a}\n",
             files={".prdeck/other.yml": "services:\n  web: {image: b}\n"})
    assert "defines services.web, which this file defines too" in error.value.detail
