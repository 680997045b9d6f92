"""Compose files read the way Compose reads them (issue 14): one small compose file per pattern seen in real
projects. Each of these failed before prdeck read compose files with Compose's semantics."""

from __future__ import annotations

import tarfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from prdeck.services.launch.builder import Builder
from prdeck.services.launch.compose_prepare import ComposeOptions
from prdeck.services.launch.context import build_context
from prdeck.services.launch.git_mirror import LocalTree
from prdeck.services.launch.spec import BuildSpec, PreviewSpec, SpecError, load_spec
from tests.test_security_build import _repo

SPEC = ".prdeck/compose.yml"
INGRESS = "x-prdeck:\n  ingress: {service: web, port: 80}\n"


def load(tmp_path: Path, text: str, files: dict[str, str] | None = None, **kwargs: Any) -> PreviewSpec:
    for name, content in {SPEC: text + INGRESS, **(files or {})}.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return load_spec(LocalTree(tmp_path), **kwargs)


def web(spec: PreviewSpec) -> Any:
    return next(c for c in spec.containers if c.name == "web")


# item 7: interpolation and typing --------------------------------------------------------------------------------

def test_nested_defaults_are_interpolated(tmp_path: Path) -> None:
    spec = load(tmp_path, "services:\n  web:\n    image: nginx\n    environment:\n"
                          "      A: ${UNSET:-x${ALSO_UNSET:-y}}\n      B: ${UNSET:-x${SET:-y}}z\n",
                variables={"SET": "s"})
    assert dict(web(spec).environment) == {"A": "xy", "B": "xsz"}


def test_numbers_and_booleans_come_from_variables(tmp_path: Path) -> None:
    spec = load(tmp_path, "services:\n  web:\n    image: nginx\n    ports: [{target: '${PORT}'}]\n"
                          "    healthcheck:\n      test: [CMD, 'true']\n      retries: ${RETRIES}\n"
                          "      disable: ${NO_CHECK}\n    deploy: {resources: {limits: {cpus: '${CPUS}'}}}\n",
                variables={"RETRIES": "5", "NO_CHECK": "false", "PORT": "80", "CPUS": "0.5"})
    assert web(spec).ports == (80,) and web(spec).cpus == "500m"
    assert web(spec).readiness["failureThreshold"] == 5


def test_dotenv_next_to_the_compose_file_is_read_below_preview_variables(tmp_path: Path) -> None:
    dotenv = "# defaults\nexport TAG=1.25\nGREETING='hello $TAG'\nNAME=\"from ${TAG}\"\nWHO=dotenv # comment\n"
    spec = load(tmp_path, "services:\n  web:\n    image: nginx:${TAG}\n    environment:\n"
                          "      G: $GREETING\n      N: $NAME\n      W: $WHO\n",
                files={".prdeck/.env": dotenv}, variables={"WHO": "config"})
    assert web(spec).image == "nginx:1.25"
    assert dict(web(spec).environment) == {"G": "hello $TAG", "N": "from 1.25", "W": "config"}
    assert not any("not set" in warning for warning in spec.warnings)


def test_null_environment_values_and_bare_build_args_take_the_variable(tmp_path: Path) -> None:
    spec = load(tmp_path, "services:\n  web:\n    build:\n      context: .\n      args: [VERSION, UNSET_ARG]\n"
                          "    environment:\n      API_KEY:\n      UNSET_KEY:\n      EMPTY:\n      SET: ''\n",
                variables={"VERSION": "3", "API_KEY": "k", "EMPTY": ""})
    assert dict(web(spec).environment) == {"API_KEY": "k", "EMPTY": "", "SET": ""}, \
        "an unset bare variable is left out, as Compose does (not set to an empty string)"
    listed = load(tmp_path, "services:\n  web:\n    image: app\n    environment: [API_KEY, UNSET_KEY, A=]\n",
                  variables={"API_KEY": "k"})
    assert dict(web(listed).environment) == {"API_KEY": "k", "A": ""}
    assert web(spec).build.args == (("VERSION", "3"),), "an unset bare arg is left out, as Compose does"


def test_typed_build_args_are_written_as_compose_writes_them(tmp_path: Path) -> None:
    spec = load(tmp_path, "services:\n  web:\n    build:\n      context: .\n"
                          "      args: {WORKERS: 4, RATIO: 0.5, DEBUG: true}\n")
    assert dict(web(spec).build.args) == {"WORKERS": "4", "RATIO": "0.5", "DEBUG": "true"}


def test_compose_files_are_yaml_1_2(tmp_path: Path) -> None:
    spec = load(tmp_path, "x-common: &common\n  image: ftp\nservices:\n  web:\n    <<: *common\n"
                          "    ports:\n      - 21:21\n    environment:\n"
                          "      DEBUG: off\n      CACHE: yes\n      MODE: 0777\n")
    assert web(spec).ports == (21,), "21:21 is a string in YAML 1.2 (1281 in YAML 1.1)"
    assert dict(web(spec).environment) == {"DEBUG": "off", "CACHE": "yes", "MODE": "777"}
    assert web(spec).image == "ftp", "merge keys (<<) work as in Compose"


def test_healthcheck_disable_false_is_valid(tmp_path: Path) -> None:
    spec = load(tmp_path, "services:\n  web:\n    image: nginx\n    healthcheck:\n      disable: false\n")
    assert web(spec).readiness is None


# item 1: images an earlier CI job built ---------------------------------------------------------------------------

def test_an_image_from_an_unset_variable_names_the_variable_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as raised:
        load(tmp_path, "services:\n  web:\n    image: ${WEB_IMAGE}\n")
    assert "services.web.image" in raised.value.detail and "WEB_IMAGE" in raised.value.detail
    assert "preview.builds.web" in raised.value.detail and "preview.variables" in raised.value.detail


def test_preview_builds_attaches_a_build_to_a_service(tmp_path: Path) -> None:
    builds = {"web": {"context": "app", "dockerfile": "Dockerfile.prod", "target": "runtime", "args": {"A": "1"}}}
    spec = load(tmp_path, "services:\n  web:\n    image: ${WEB_IMAGE}\n", compose=ComposeOptions(builds=builds))
    assert web(spec).image is None
    assert web(spec).build == BuildSpec("app", "Dockerfile.prod", (("A", "1"),), target="runtime")
    spec = load(tmp_path, "services:\n  web:\n    image: nginx\n", compose=ComposeOptions(builds={"api": {}}))
    assert any("preview.builds.api names no service" in warning for warning in spec.warnings)


# item 8: build keys -----------------------------------------------------------------------------------------------

def test_build_target_inline_dockerfile_and_cache_from_are_kept(tmp_path: Path) -> None:
    spec = load(tmp_path, "services:\n  web:\n    build:\n      context: .\n      target: dev\n"
                          "      dockerfile_inline: |\n        FROM nginx\n      cache_from: [web:cache]\n")
    build = web(spec).build
    assert (build.target, build.dockerfile_inline, build.cache_from) == ("dev", "FROM nginx\n", ("web:cache",))
    assert not spec.warnings


def test_an_inline_dockerfile_becomes_the_contexts_dockerfile(tmp_path: Path) -> None:
    mirror, sha = _repo(tmp_path, {"app/index.html": b"hi"})
    build = BuildSpec(context="app", dockerfile=".prdeck-inline.Dockerfile", dockerfile_inline="FROM nginx\n")
    with build_context(mirror, sha, build, "web", 1 << 20) as context, tarfile.open(fileobj=context) as tar:
        dockerfile = tar.extractfile(".prdeck-inline.Dockerfile")
        assert dockerfile is not None and dockerfile.read() == b"FROM nginx\n"
        assert "index.html" in tar.getnames()


def test_the_builder_passes_target_and_cache_from(tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []

    class Api:
        def build(self, **kwargs: Any) -> list[dict[str, Any]]:
            calls.append(kwargs)
            return [{"aux": {"ID": "sha256:1"}}]

    class Client:
        api = Api()

    Builder(Client()).build(None, BuildSpec(target="dev", cache_from=("web:cache",)), "r/web:1",  # type: ignore
                            lambda _line: None, network=True)
    assert calls[0]["target"] == "dev" and calls[0]["cache_from"] == ["web:cache"]


@pytest.mark.parametrize("build, reason", [
    ("https://github.com/acme/web.git", "remote"),
    ("github.com/acme/web", "remote"),
    ("{context: ., secrets: [npm_token]}", "secrets"),
    ("{context: ., ssh: [default]}", "ssh"),
])
def test_remote_contexts_and_build_secrets_are_refused_when_read(tmp_path: Path, build: str, reason: str) -> None:
    with pytest.raises(SpecError) as raised:
        load(tmp_path, f"services:\n  web:\n    build: {build}\n")
    assert "services.web.build" in raised.value.detail and reason in raised.value.detail


def test_build_keys_without_effect_are_warnings_naming_service_and_key(tmp_path: Path) -> None:
    spec = load(tmp_path, "services:\n  web:\n    build: {context: ., network: host, shm_size: 1g}\n")
    assert any("services.web.build: network, shm_size not supported" in warning for warning in spec.warnings)


# item 9: env_file and profiles ------------------------------------------------------------------------------------

def test_env_file_values_are_merged_under_environment(tmp_path: Path) -> None:
    spec = load(tmp_path, "services:\n  web:\n    image: nginx\n    env_file:\n      - ../web.env\n"
                          "      - {path: local.env, required: false}\n      - {path: absent.env, required: false}\n"
                          "    environment:\n      B: from-environment\n",
                files={"web.env": "A=a\nB=b\nC=${TAG}\n", ".prdeck/local.env": "C=local\n"},
                variables={"TAG": "t"})
    assert dict(web(spec).environment) == {"A": "a", "B": "from-environment", "C": "local"}


@pytest.mark.parametrize("env_file, expected", [("missing.env", "missing.env is not in the commit"),
                                                ("../../outside.env", "outside the repository")])
def test_env_files_the_commit_lacks_are_errors_naming_them(tmp_path: Path, env_file: str, expected: str) -> None:
    with pytest.raises(SpecError) as raised:
        load(tmp_path, f"services:\n  web:\n    image: nginx\n    env_file: {env_file}\n")
    assert "services.web.env_file" in raised.value.detail and expected in raised.value.detail


def test_services_with_profiles_start_only_when_config_enables_one(tmp_path: Path) -> None:
    compose = "services:\n  web:\n    image: nginx\n  debug:\n    image: busybox\n    profiles: [debug]\n"
    spec = load(tmp_path, compose)
    assert [c.name for c in spec.containers] == ["web"]
    assert any("services.debug" in warning and "debug" in warning for warning in spec.warnings)
    spec = load(tmp_path, compose, compose=ComposeOptions(profiles=("debug",)))
    assert [c.name for c in spec.containers] == ["web", "debug"]


# item 11: Uffizzi's files -----------------------------------------------------------------------------------------

UFFIZZI = "services:\n  web:\n    image: nginx\nx-uffizzi:\n  ingress: {service: web, port: 80}\n"


@pytest.mark.parametrize("path", ["docker-compose.uffizzi.yml", "docker-compose.uffizzi.yaml",
                                  ".github/uffizzi/preview/docker-compose.yml"])
def test_uffizzi_files_are_found_where_projects_keep_them(tmp_path: Path, path: str) -> None:
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(UFFIZZI)
    assert load_spec(LocalTree(tmp_path)).source == path


def test_top_level_x_uffizzi_ingress_and_the_uffizzi_keys(tmp_path: Path) -> None:
    text = ("services:\n  web:\n    image: nginx\nx-uffizzi-ingress:\n  service: web\n  port: 80\n"
            "x-uffizzi:\n  delete_preview_after: 24h\n  continuous_previews:\n"
            "    deploy_preview_when_pull_request_is_opened: true\n")
    (tmp_path / "docker-compose.uffizzi.yml").write_text(text)
    spec = load_spec(LocalTree(tmp_path))
    assert spec.ingress_port == 80 and spec.ttl == timedelta(hours=24)
    assert any("continuous_previews has no effect" in warning for warning in spec.warnings)


# the pipeline: warnings in the launch's result (launch --json), the TTL, config keys ------------------------------

def test_a_launch_lists_the_specs_warnings_and_takes_the_uffizzi_ttl(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from prdeck.services.models import RepoRef
    from prdeck.services.sandbox.images import SimulatedBuilder, free_port
    from prdeck.services.sandbox.stack import SandboxStack
    from tests.launch_support import app_seed, make_rig

    port = free_port()
    compose = (f"services:\n  web:\n    build: .\n    ports: ['{port}']\n  debug:\n    image: busybox\n"
               f"    profiles: [debug]\nx-uffizzi:\n  ingress: {{service: web, port: {port}}}\n"
               "  delete_preview_after: 2h\n"
               "  continuous_previews: {deploy_preview_when_pull_request_is_opened: true}\n")
    with SandboxStack(app_seed(port, files={".prdeck/compose.yml": compose}), builds="simulate") as stack:
        rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0))
        plan = rig.launcher.plan(RepoRef("octo", "app"), 1, check_approval=False)
        left = plan.placement.expires_at - datetime.now(UTC)
        assert timedelta(hours=1, minutes=58) < left <= timedelta(hours=2)
        warnings = rig.launch(1).to_json()["warnings"]
    assert any("services.debug" in warning and "preview.profiles" in warning for warning in warnings)
    assert any("continuous_previews has no effect" in warning for warning in warnings)


def test_preview_builds_and_profiles_are_config_keys(tmp_path: Path) -> None:
    from prdeck.services.config import load_config
    from prdeck.services.errors import ConfigError
    from prdeck.services.launch.settings import LaunchSettings

    path = tmp_path / "c.toml"
    path.write_text('[preview]\nprofiles = ["debug"]\n[preview.builds.web]\ncontext = "app"\ntarget = "dev"\n'
                    '[preview.builds.web.args]\nA = "1"\n')
    settings = LaunchSettings.from_config(load_config(path), "me", environ={})
    assert settings.compose == ComposeOptions({"web": {"context": "app", "target": "dev", "args": {"A": "1"}}},
                                              ("debug",))
    path.write_text('[preview.builds.web]\nimage = "x"\n')
    with pytest.raises(ConfigError, match=r"preview\.builds"):
        load_config(path)


def test_a_pull_requests_files_cannot_make_the_reader_recurse_or_crawl(tmp_path: Path) -> None:
    deep = '"' + "${A:-" * 3000 + "x" + "}" * 3000 + '"'
    with pytest.raises(SpecError) as raised:
        load(tmp_path, f"services:\n  web:\n    image: nginx\n    environment:\n      A: {deep}\n")
    assert "services.web.environment.A" in raised.value.detail and "nest more than" in raised.value.detail
    with pytest.raises(SpecError) as raised:
        load(tmp_path, "services:\n  web:\n    image: ${TAG}\n", files={".prdeck/.env": 'TAG="' + "x\n" * 100_000})
    assert raised.value.title == "Invalid preview spec .prdeck/.env" and "not closed" in raised.value.detail


def test_a_plain_compose_file_without_an_ingress_is_told_about_x_prdeck(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text("services:\n  web:\n    image: nginx\n")
    with pytest.raises(SpecError) as error:
        load_spec(LocalTree(tmp_path), configured="docker-compose.yml")
    assert error.value.detail.startswith("x-prdeck.ingress: needs {service: NAME, port: PORT}"), error.value.detail


@pytest.mark.parametrize(("written", "context"), [("./web", "web"), ("web/", "web"), (".", "."), ("./", "."),
                                                   ("a/../b", "b")])
def test_build_contexts_are_normalised_for_git(tmp_path: Path, written: str, context: str) -> None:
    spec = load(tmp_path, f"services:\n  web:\n    build: {written}\n")
    assert web(spec).build.context == context


def test_a_build_context_outside_the_repository_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as error:
        load(tmp_path, "services:\n  web:\n    build: ../elsewhere\n")
    assert "outside the repository" in error.value.detail
