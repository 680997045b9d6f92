"""Files from the repository in a compose preview (issue 14, pattern 4): bind mounts, configs, secrets, volumes.

Each corpus file is read from a repository laid out as a real project's, rendered, and every object validated
strictly against the published schemas; the nginx one is launched on the Kubernetes sandbox and becomes Ready.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from prdeck.services.launch.compose_prepare import ComposeOptions
from prdeck.services.launch.git_mirror import GitMirror, GitTree, LocalTree
from prdeck.services.launch.render import render
from prdeck.services.launch.spec import PreviewSpec, SpecError, load_spec
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import SimulatedBuilder, free_port
from prdeck.services.sandbox.stack import SandboxStack
from tests.launch_support import app_seed, make_rig
from tests.test_compose_pod import CORPUS, OPTIONS, PLACEMENT
from tests.test_kube_schema import SCHEMA_VERSION

pytestmark = pytest.mark.timeout(120)
COMPOSE = "docker-compose.uffizzi.yml"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
NGINX_FILES: dict[str, str | bytes] = {
    "nginx/default.conf": "server { listen 80; location / { proxy_pass http://app:8000; } }\n",
    "nginx/html/index.html": "<h1>preview</h1>\n",
    "nginx/html/logo.png": PNG,
    "config/app.yml": "debug: false\n",
    "config/.env.defaults": "LEVEL=info\n",
    "config/locales/en/messages.yml": "hello: Hello\n",
    "Dockerfile": "FROM scratch\n",
}
CONFIG_FILES: dict[str, str | bytes] = {"deploy/site.conf": "server_tokens off;\n",
                                        "deploy/db_password.txt": "s3cret\n"}


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


def spec_in(root: Path, compose: str, files: dict[str, str | bytes] | None = None,
            variables: dict[str, str] | None = None) -> PreviewSpec:
    """The spec of a repository holding ``compose`` (a corpus file's name, or the file's text) at its root."""
    text = (CORPUS / compose).read_text(encoding="utf-8") if compose.endswith(".yml") else compose
    write(root, {COMPOSE: text, **(files or {})})
    return load_spec(LocalTree(root), variables=variables)


def objects_of(spec: PreviewSpec) -> list[dict[str, Any]]:
    objects = render(spec, PLACEMENT, OPTIONS, {c.name: f"registry.test/{c.name}:pr-7" for c in spec.containers})
    for obj in objects:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
    return objects


def pod_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in items}


def container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    return by_name([*pod["containers"], *pod.get("initContainers", [])])[name]


def test_nginx_gets_its_config_file_and_folders_from_the_repository(tmp_path: Path) -> None:
    spec = spec_in(tmp_path, "files_nginx.yml", NGINX_FILES)
    objects = objects_of(spec)
    kinds = [o["kind"] for o in objects]
    assert kinds.index("ConfigMap") < kinds.index("Deployment")
    maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    assert set(maps) == {"files-nginx-1", "files-nginx-2", "files-app-1"}
    assert all(o["metadata"]["namespace"] == PLACEMENT.namespace for o in maps.values())
    assert maps["files-nginx-1"]["data"] == {"default.conf": NGINX_FILES["nginx/default.conf"]}
    html = maps["files-nginx-2"]
    assert html["data"] == {"index.html": "<h1>preview</h1>\n"}
    assert base64.b64decode(html["binaryData"]["logo.png"]) == PNG
    pod = pod_of(objects)
    nginx = container(pod, "nginx")
    assert nginx["volumeMounts"] == [
        {"name": "files-nginx-1", "mountPath": "/etc/nginx/conf.d/default.conf", "subPath": "default.conf",
         "readOnly": True},
        {"name": "files-nginx-2", "mountPath": "/usr/share/nginx/html", "readOnly": True}]
    volumes = by_name(pod["volumes"])
    assert volumes["files-nginx-1"] == {"name": "files-nginx-1", "configMap": {"name": "files-nginx-1"}}
    # nested folders keep their layout through items
    assert volumes["files-app-1"]["configMap"]["items"] == [
        {"key": ".env.defaults", "path": ".env.defaults"}, {"key": "app.yml", "path": "app.yml"},
        {"key": "locales__en__messages.yml", "path": "locales/en/messages.yml"}]
    # a folder the commit lacks (uploads) starts empty, with a warning naming it
    assert volumes["files-app-2"] == {"name": "files-app-2", "emptyDir": {}}
    assert any("./uploads is not in the commit" in w for w in spec.warnings)
    assert not any("not supported" in w for w in spec.warnings), spec.warnings


def test_configs_and_secrets_from_files_content_and_variables(tmp_path: Path) -> None:
    spec = spec_in(tmp_path, "files_configs.yml", CONFIG_FILES, variables={"API_KEY": "k-123"})
    objects = objects_of(spec)
    found = {(o["kind"], o["metadata"]["name"]): o for o in objects if o["kind"] in ("ConfigMap", "Secret")}
    assert set(found) == {("ConfigMap", "config-site-conf-" + found_suffix(found, "config-site-conf")),
                          ("ConfigMap", "config-banner"), ("Secret", "secret-db-password-"
                                                           + found_suffix(found, "secret-db-password")),
                          ("Secret", "secret-api-key-" + found_suffix(found, "secret-api-key"))}
    banner = found[("ConfigMap", "config-banner")]
    assert banner["data"] == {"banner": "preview of $(PRDECK_URL)\n"}
    secrets = {name: o for (kind, name), o in found.items() if kind == "Secret"}
    assert {base64.b64decode(v).decode() for o in secrets.values() for v in o["data"].values()} == {"s3cret\n",
                                                                                                   "k-123"}
    assert all(o["type"] == "Opaque" for o in secrets.values())
    pod = pod_of(objects)
    web = {m["mountPath"]: m for m in container(pod, "web")["volumeMounts"]}
    assert set(web) == {"/site_conf", "/usr/share/nginx/html/banner.txt", "/run/secrets/db_password",
                        "/run/secrets/api.key"}
    assert web["/site_conf"]["subPath"] == "site.conf"
    assert web["/run/secrets/db_password"]["subPath"] == "db_password.txt"
    worker = container(pod, "worker")["volumeMounts"]
    assert [m["mountPath"] for m in worker] == ["/etc/worker/site.conf"]
    volumes = by_name(pod["volumes"])
    assert "secretName" in volumes[web["/run/secrets/api.key"]["name"]]["secret"]
    assert len(pod["volumes"]) == 4  # site_conf once, though two services mount it


def found_suffix(found: dict[tuple[str, str], Any], prefix: str) -> str:
    """The hash a name gets when the compose name had to change (``site_conf`` -> ``config-site-conf-<hash>``)."""
    return next(name for _, name in found if name.startswith(prefix)).removeprefix(prefix + "-")


def test_a_named_volume_is_one_empty_dir_shared_by_the_services_that_mount_it(tmp_path: Path) -> None:
    objects = objects_of(spec_in(tmp_path, "files_volumes.yml"))
    pod = pod_of(objects)
    volumes = by_name(pod["volumes"])
    assert volumes["volume-data"] == {"name": "volume-data", "emptyDir": {}}
    db, backup = container(pod, "db"), container(pod, "backup")
    assert db["volumeMounts"][0] == {"name": "volume-data", "mountPath": "/var/lib/postgresql/data"}
    assert backup["volumeMounts"][:2] == [
        {"name": "volume-data", "mountPath": "/backup/data", "readOnly": True},
        {"name": "volume-data", "mountPath": "/backup/logs", "subPath": "log"}]
    anonymous, tmp = backup["volumeMounts"][2:]
    assert volumes[anonymous["name"]] == {"name": anonymous["name"], "emptyDir": {}} and anonymous["mountPath"] == \
        "/scratch" and anonymous["name"] != "volume-data"
    assert volumes[tmp["name"]]["emptyDir"] == {"medium": "Memory", "sizeLimit": "16Mi"}
    assert volumes[db["volumeMounts"][1]["name"]]["emptyDir"] == {"medium": "Memory", "sizeLimit": "64Mi"}
    assert volumes["volume-cache"] == {"name": "volume-cache", "emptyDir": {}}
    assert not any(o["kind"] in ("ConfigMap", "Secret", "PersistentVolumeClaim") for o in objects)


SERVICE = """services:
  web:
    image: nginx:1.27
    {key}:
      - {entry}
{top}x-prdeck:
  ingress: {{service: web, port: 80}}
"""


@pytest.mark.parametrize(("key", "entry", "top", "says"), [
    ("volumes", "/etc/passwd:/etc/passwd", "", "/etc/passwd is outside the repository"),
    ("volumes", "~/.ssh:/root/.ssh", "", "~/.ssh is outside the repository"),
    ("volumes", "../../outside:/data", "", "../../outside is outside the repository"),
    ("volumes", "/var/run/docker.sock:/var/run/docker.sock", "", "the Docker socket"),
    ("volumes", "{type: bind, source: /run/docker.sock, target: /sock}", "", "the Docker socket"),
    ("devices", "/dev/fuse:/dev/fuse", "", "'/dev/fuse:/dev/fuse': a preview container cannot use the node's "
                                           "devices"),
    ("volumes", "data:/data", "volumes:\n  data:\n    driver_opts: {type: none, o: bind, device: /srv/data}\n",
     "/srv/data: a volume on a path of the host"),
    ("volumes", "undeclared:/data", "", "volume 'undeclared' is not declared"),
    ("volumes", "./conf:relative", "", "the target must be an absolute path"),
])
def test_host_paths_the_docker_socket_and_devices_are_refused_naming_service_and_path(
        tmp_path: Path, key: str, entry: str, top: str, says: str) -> None:
    with pytest.raises(SpecError) as error:
        spec_in(tmp_path, SERVICE.format(key=key, entry=entry, top=top))
    assert COMPOSE in error.value.title
    assert says in error.value.detail, error.value.detail
    expected = "volumes.data.driver_opts" if "driver_opts" in top else f"services.web.{key}"
    assert error.value.detail.startswith(expected), error.value.detail


@pytest.mark.parametrize(("fragment", "key"), [
    ("    deploy:\n      resources:\n        reservations:\n          devices:\n            - driver: nvidia\n"
     "              count: 1\n              capabilities: [gpu]\n", "deploy.resources.reservations.devices"),
    ("    deploy: {resources: {reservations: {devices: [{capabilities: [[gpu, utility]]}]}}}\n",
     "deploy.resources.reservations.devices"),
    ("    gpus: all\n", "gpus"),
])
def test_gpus_are_refused_clearly_naming_service_and_key(tmp_path: Path, fragment: str, key: str) -> None:
    compose = (f"services:\n  web:\n    image: ollama/ollama\n{fragment}"
               "x-prdeck:\n  ingress: {service: web, port: 80}\n")
    with pytest.raises(SpecError) as error:
        spec_in(tmp_path, compose)
    assert error.value.detail.startswith(f"services.web.{key}"), error.value.detail
    assert "no GPUs" in error.value.detail and "profiles" in error.value.detail


def test_a_mount_over_kubernetes_1_mib_object_limit_is_refused_naming_service_and_path(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"assets/a.bin": b"\xff" * (600 * 1024), "assets/b.bin": b"\xfe" * (600 * 1024)}
    with pytest.raises(SpecError) as error:
        spec_in(tmp_path, SERVICE.format(key="volumes", entry="./assets:/srv/assets", top=""), files)
    assert error.value.detail.startswith("services.web.volumes") and "assets" in error.value.detail
    assert "1 MiB" in error.value.detail
    # exactly 1 MiB fits
    (tmp_path / "assets" / "b.bin").write_bytes(b"\xfe" * (1024 * 1024 - 600 * 1024))
    (assets,) = [o for o in objects_of(load_spec(LocalTree(tmp_path))) if o["kind"] == "ConfigMap"]
    assert sum(len(base64.b64decode(value)) for value in assets["binaryData"].values()) == 1024 * 1024


def test_a_config_or_secret_file_outside_the_repository_or_missing_is_refused(tmp_path: Path) -> None:
    def compose(file: str) -> str:
        return SERVICE.format(key="secrets", entry="token", top=f"secrets:\n  token:\n    file: {file}\n")

    with pytest.raises(SpecError) as error:
        spec_in(tmp_path, compose("/etc/shadow"))
    assert error.value.detail.startswith("secrets.token.file") and "/etc/shadow is outside" in error.value.detail
    with pytest.raises(SpecError) as error:
        spec_in(tmp_path, compose("./missing.txt"))
    assert "./missing.txt is not in the commit" in error.value.detail


def test_nginx_with_a_repository_config_becomes_ready_on_the_sandbox(tmp_path: Path) -> None:
    compose = (CORPUS / "files_nginx.yml").read_text(encoding="utf-8").replace("nginx:1.27", "busybox:1.36")
    text_files = {name: content for name, content in NGINX_FILES.items() if isinstance(content, str)}
    seed = app_seed(free_port(), files={".prdeck/compose.yml": compose.replace("./", "../"), **text_files})
    with SandboxStack(seed, builds="simulate") as stack:
        rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0))
        rig.launch(1)
        maps = rig.cluster.core.list_namespaced_config_map("prdeck-octo-app-pr-1").items
        found = {m.metadata.name: m for m in maps}
        assert set(found) >= {"files-nginx-1", "files-nginx-2", "files-app-1"}
        # read from the commit through git: nested folders included
        assert found["files-app-1"].data["locales__en__messages.yml"] == "hello: Hello\n"
        pods = rig.cluster.core.list_namespaced_pod("prdeck-octo-app-pr-1").items
        assert all(status.ready for status in pods[0].status.container_statuses)
        assert {m.mount_path for m in pods[0].spec.containers[0].volume_mounts} >= {
            "/etc/nginx/conf.d/default.conf", "/usr/share/nginx/html"}


def test_a_mount_of_the_services_own_build_context_is_left_to_the_image(tmp_path: Path) -> None:
    compose = """services:
  web:
    build: .
    ports: ["3000:3000"]
    volumes:
      - .:/app
      - ./src:/app/src
      - /app/node_modules
x-prdeck:
  ingress: {service: web, port: 3000}
"""
    spec = spec_in(tmp_path, compose, {"src/index.js": "console.log('hi')\n", "Dockerfile": "FROM scratch\n"})
    pod = pod_of(objects_of(spec))
    # the context itself is in the image; a folder inside it may not be (the Dockerfile decides): mounted
    assert [m["mountPath"] for m in container(pod, "web")["volumeMounts"]] == ["/app/src", "/app/node_modules"]
    assert [w for w in spec.warnings if "build context" in w] == [
        f"{COMPOSE}: services.web.volumes: . (the service's build context) is not mounted: the image built from this "
        "commit has its files"]


def _mount_paths(spec: PreviewSpec, service: str) -> list[str]:
    container = next(c for c in spec.containers if c.name == service)
    return [mount["mountPath"] for mount in container.volume_mounts]


def test_a_build_context_mount_is_left_out_only_where_the_dockerfile_puts_the_same_files(tmp_path: Path) -> None:
    compose = ("services:\n  web:\n    build: ./conf\n    entrypoint: /etc/app/entrypoint.sh\n"
               "    volumes: ['./conf:/etc/app']\n  api:\n    build: ./api\n    volumes: ['./api:/app']\n"
               "x-prdeck:\n  ingress: {service: web, port: 80}\n")
    spec = spec_in(tmp_path, compose, {
        "conf/Dockerfile": "FROM base\nCOPY . /usr/src/app\n", "conf/entrypoint.sh": "#!/bin/sh\n",
        "api/Dockerfile": "FROM base\nWORKDIR /app\nCOPY --chown=1000 [\".\", \".\"]\n", "api/main.py": "print()\n"})
    assert _mount_paths(spec, "web") == ["/etc/app"], "the image has them at /usr/src/app: the mount puts them here"
    assert _mount_paths(spec, "api") == [], "COPY . . after WORKDIR /app: the image has them at /app"
    assert any("./api (the service's build context) is not mounted" in w for w in spec.warnings), spec.warnings


def test_a_large_development_mount_inside_the_build_context_is_left_to_the_image(tmp_path: Path) -> None:
    compose = ("services:\n  web:\n    build: ./backend\n    volumes: ['./backend/app:/srv/app']\n"
               "x-prdeck:\n  ingress: {service: web, port: 80}\n")
    spec = spec_in(tmp_path, compose, {"backend/Dockerfile": "FROM base\nCOPY . /code\n",
                                       "backend/app/big.bin": b"\xff" * (1200 * 1024)})
    assert _mount_paths(spec, "web") == []
    assert any("./backend/app" in w and "not mounted" in w for w in spec.warnings), spec.warnings
    # outside any build context the same folder is still an error naming it
    with pytest.raises(SpecError) as error:
        spec_in(tmp_path / "other", compose.replace("build: ./backend", "image: web:1"),
                {"backend/app/big.bin": b"\xff" * (1200 * 1024)})
    assert "1 MiB" in error.value.detail


@pytest.mark.parametrize("kind", ["local", "git"])
def test_mounted_scripts_keep_their_executable_bit(tmp_path: Path, kind: str) -> None:
    """A ``./scripts:/scripts`` mount whose entrypoint is 100755 in git: projected with mode 0755 (a ConfigMap
    volume's files are 0644 otherwise, and the entrypoint would not run)."""
    compose = ("services:\n  web:\n    image: alpine:3\n    entrypoint: /scripts/start.sh\n"
               "    volumes: ['./scripts:/scripts', './bin/run.sh:/run.sh']\n"
               "x-prdeck:\n  ingress: {service: web, port: 80}\n")
    files = {COMPOSE: compose, "scripts/start.sh": "#!/bin/sh\nexec web\n", "scripts/README": "notes\n",
             "bin/run.sh": "#!/bin/sh\n"}
    write(tmp_path / "work", files)
    for script in ("scripts/start.sh", "bin/run.sh"):
        (tmp_path / "work" / script).chmod(0o755)
    if kind == "git":
        git = ["git", "-C", str(tmp_path / "work"), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-qm", "tree"], check=True)
        mirror = GitMirror(RepoRef("o", "r"), "unused", None, tmp_path / "mirrors")
        subprocess.run(["git", "clone", "-q", "--bare", str(tmp_path / "work"), str(mirror.path)], check=True)
        tree: Any = GitTree(mirror, mirror.rev_parse("HEAD"))
    else:
        tree = LocalTree(tmp_path / "work")
    spec = load_spec(tree)
    by_name = {volume["name"]: volume for volume in spec.volumes}
    folder = next(v for v in by_name.values() if v.get("configMap") and len(v["configMap"]["items"]) == 2)
    modes = {item["path"]: item.get("mode") for item in folder["configMap"]["items"]}
    assert modes == {"README": None, "start.sh": 0o755}
    single = next(v for v in by_name.values() if v.get("configMap") and len(v["configMap"]["items"]) == 1)
    assert single["configMap"]["items"][0]["mode"] == 0o755
    for obj in objects_of(spec):
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)


def test_an_external_secret_comes_from_preview_secrets_or_names_that_key(tmp_path: Path) -> None:
    compose = ("services:\n  web:\n    image: postgres:16\n    secrets: [pg_password]\n"
               "secrets:\n  pg_password: {external: true, name: POSTGRES_PASSWORD}\n"
               "x-prdeck:\n  ingress: {service: web, port: 80}\n")
    write(tmp_path, {COMPOSE: compose})
    with pytest.raises(SpecError) as error:
        load_spec(LocalTree(tmp_path))
    assert 'preview.secrets.POSTGRES_PASSWORD = "ENV_VAR"' in error.value.detail
    spec = load_spec(LocalTree(tmp_path), compose=ComposeOptions(secrets=("POSTGRES_PASSWORD",)))
    (mount,) = spec.containers[0].volume_mounts
    assert mount["mountPath"] == "/run/secrets/pg_password" and mount["subPath"] == "POSTGRES_PASSWORD"
    volume = next(v for v in spec.volumes if v["name"] == mount["name"])
    assert volume["secret"] == {"secretName": "prdeck-secrets", "optional": True,
                                "items": [{"key": "POSTGRES_PASSWORD", "path": "POSTGRES_PASSWORD"}]}
