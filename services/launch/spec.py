"""The preview spec: what a launch builds and runs, read from the repository.

Two forms (README, "Preview spec"):

- **Compose** (Uffizzi-compatible): a compose file with an ``x-prdeck`` (or ``x-uffizzi``) block naming the
  ingress service and port. Every service becomes a container of ONE pod, so services reach each other on
  ``localhost`` as they do on Uffizzi.
- **Manifests**: plain Kubernetes YAML (or a kustomization's ``resources:``); images named in config ``images`` are
  built from the PR and substituted.

Found by config ``preview.spec`` or, in order: ``.prdeck/compose.yml``, ``.prdeck/manifests/``,
``docker-compose.uffizzi.yml`` (or ``.yaml``) at the root, a compose file under ``.github/uffizzi/`` (or a folder in
it) with an ``x-uffizzi`` block. Every problem is a :class:`SpecError` naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from prdeck.services.launch.compose_files import project_dotenv
from prdeck.services.launch.compose_prepare import ComposeOptions
from prdeck.services.launch.pod_policy import PodPolicy
from prdeck.services.launch.spec_compose import parse_compose
from prdeck.services.launch.spec_manifests import load_manifests
from prdeck.services.launch.spec_types import BuildSpec, ContainerSpec, PreviewSpec, SpecError, TreeReader

COMPOSE_PATH = ".prdeck/compose.yml"
MANIFESTS_DIR = ".prdeck/manifests"
UFFIZZI_DIR = ".github/uffizzi"
UFFIZZI_ROOT_FILES = ("docker-compose.uffizzi.yml", "docker-compose.uffizzi.yaml")
URL_VARIABLES = ("PRDECK_URL", "UFFIZZI_URL")
"""prdeck's own variables: ``${PRDECK_URL}`` in a compose spec becomes Kubernetes' ``$(PRDECK_URL)``, which the
container's environment (and command) expand to the preview's URL."""


def find_spec(tree: TreeReader, configured: str = "") -> str:
    """The spec's path in the tree (a file or a manifests folder)."""
    if configured:
        if tree.read(configured) is not None or tree.list(configured):
            return configured
        raise SpecError(f"No preview spec at {configured}", "config preview.spec names a path the repository lacks.")
    if tree.read(COMPOSE_PATH) is not None:
        return COMPOSE_PATH
    if tree.list(MANIFESTS_DIR):
        return MANIFESTS_DIR
    for path in UFFIZZI_ROOT_FILES:
        if tree.read(path) is not None:
            return path
    for path in _files_under(tree, UFFIZZI_DIR):
        if path.endswith((".yml", ".yaml")) and "x-uffizzi" in (tree.read(path) or ""):
            return path
    raise SpecError(
        "This repository has no preview spec",
        f"Add {COMPOSE_PATH} (a compose file with an x-prdeck ingress block), a {MANIFESTS_DIR}/ folder, or a "
        f"compose file with x-uffizzi under {UFFIZZI_DIR}/ (or {UFFIZZI_ROOT_FILES[0]}); or set preview.spec in "
        "the config.",
    )


def _files_under(tree: TreeReader, folder: str, depth: int = 3) -> list[str]:
    """Files under ``folder`` and its sub-folders (``depth`` levels), sorted: a folder lists as entries."""
    found: list[str] = []
    for entry in sorted(tree.list(folder)):
        children = tree.list(entry) if depth > 1 else []
        found.extend(_files_under(tree, entry, depth - 1) if children else [entry])
    return found


def load_spec(
    tree: TreeReader,
    *,
    configured: str = "",
    variables: Mapping[str, str] | None = None,
    images: Mapping[str, Mapping[str, str]] | None = None,
    policy: PodPolicy | None = None,
    compose: ComposeOptions | None = None,
) -> PreviewSpec:
    """Find and parse the spec. ``variables`` and :data:`URL_VARIABLES` are ALL a compose spec's ``${VAR}`` can
    see: the caller decides (config ``preview.variables`` and ``preview.pass_env``), never prdeck's environment;
    below them, the ``.env`` next to the compose file in the same tree (it is part of the pull request)."""
    path = find_spec(tree, configured)
    text = tree.read(path)
    if text is None:
        return load_manifests(tree, path, images or {}, policy or PodPolicy())
    known = {**{name: f"$({name})" for name in URL_VARIABLES}, **(variables or {})}
    known = {**project_dotenv(tree, path, known.get), **known}
    spec = parse_compose(text, path, known.get, tree, compose)
    hint = root_image_hint(spec, policy or PodPolicy())
    return replace(spec, warnings=(*spec.warnings, hint)) if hint else spec


ROOT_SWITCHING_IMAGES = frozenset({"postgres", "postgis/postgis", "mysql", "mariadb", "mongo", "redis", "nginx",
                                   "rabbitmq", "memcached", "elasticsearch", "bitnami/postgresql", "clickhouse/"
                                   "clickhouse-server", "minio/minio", "httpd", "wordpress", "php"})
"""Official images whose entrypoint starts as root and changes owners or switches users (CHOWN, SETUID, SETGID,
FOWNER): with every capability dropped (``restricted``) they fail to start."""


def root_image_hint(spec: PreviewSpec, policy: PodPolicy) -> str | None:
    """One warning naming the containers that are likely to fail under ``preview.container_security``
    ``restricted``, with the key that lets them start (Compose and Uffizzi ran them with Docker's defaults)."""
    if policy.security != "restricted":
        return None
    names = [c.service or c.name for c in spec.containers if c.image and _repository(c.image) in ROOT_SWITCHING_IMAGES
             and "CHOWN" not in c.capabilities]
    if not names:
        return None
    return (f"{spec.source}: {', '.join(names)} run{'s' if len(names) == 1 else ''} an image whose entrypoint starts "
            "as root and switches users; with preview.container_security = \"restricted\" (every capability "
            "dropped) it may fail to start. Set preview.container_security = \"baseline\" (Docker's default "
            "capabilities, as Compose and Uffizzi ran it), or add cap_add: [CHOWN, SETUID, SETGID, FOWNER, "
            "DAC_OVERRIDE] to the service.")


def _repository(image: str) -> str:
    """``docker.io/library/postgres:16@sha256:..`` -> ``postgres``."""
    name = image.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/", "library/", "index.docker.io/library/"):
        name = name.removeprefix(prefix)
    return name


__all__ = ["URL_VARIABLES", "BuildSpec", "ContainerSpec", "PreviewSpec", "SpecError", "TreeReader", "find_spec",
           "load_spec"]
