"""The preview spec: what a launch builds and runs, read from the repository.

Two forms (README, "Preview spec"):

- **Compose** (Uffizzi-compatible): a compose file with an ``x-prdeck`` (or ``x-uffizzi``) block naming the
  ingress service and port. Every service becomes a container of ONE pod, so services reach each other on
  ``localhost`` as they do on Uffizzi.
- **Manifests**: plain Kubernetes YAML (or a kustomization's ``resources:``); images named in config ``images`` are
  built from the PR and substituted.

Found by config ``preview.spec`` or, in order: ``.prdeck/compose.yml``, ``.prdeck/manifests/``, a compose file under
``.github/uffizzi/`` with an ``x-uffizzi`` block. Every problem is a :class:`SpecError` naming the file and the key.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from prdeck.services import naming
from prdeck.services.errors import PrdeckError
from prdeck.services.launch import compose_values as values
from prdeck.services.launch.spec_yaml import MAX_SERVICES, bounded_documents

COMPOSE_PATH = ".prdeck/compose.yml"
MANIFESTS_DIR = ".prdeck/manifests"
UFFIZZI_DIR = ".github/uffizzi"
SUPPORTED_SERVICE_KEYS = frozenset(
    {"build", "image", "environment", "command", "entrypoint", "ports", "deploy", "healthcheck", "expose"}
)
IGNORED_TOP_KEYS = frozenset({"version", "name", "services", "x-prdeck", "x-uffizzi"})


class SpecError(PrdeckError):
    """The preview spec is missing or invalid."""


class TreeReader(Protocol):
    """Files of one commit (or a local folder): the spec is read through this, never from a fork's tree."""

    def read(self, path: str) -> str | None: ...

    def list(self, folder: str) -> list[str]: ...


@dataclass(frozen=True)
class BuildSpec:
    context: str = "."
    dockerfile: str = "Dockerfile"
    args: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ContainerSpec:
    """One Compose service, as one container of the preview pod."""

    name: str
    image: str | None
    build: BuildSpec | None
    environment: tuple[tuple[str, str], ...] = ()
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    ports: tuple[int, ...] = ()
    memory: str | None = None
    cpus: str | None = None
    readiness: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PreviewSpec:
    source: str
    """The file or folder it was read from, relative to the repository root."""
    form: str
    """"compose" or "manifests"."""
    containers: tuple[ContainerSpec, ...] = ()
    ingress_port: int | None = None
    manifests: tuple[Mapping[str, Any], ...] = ()
    images: tuple[tuple[str, BuildSpec], ...] = ()
    """Manifests form: image names built from the PR (config ``images``)."""
    warnings: tuple[str, ...] = field(default=())

    @property
    def builds(self) -> list[tuple[str, BuildSpec]]:
        """``(name, build)`` for every image this spec builds from the PR head."""
        if self.form == "compose":
            return [(c.name, c.build) for c in self.containers if c.build is not None]
        return list(self.images)


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
    for path in sorted(tree.list(UFFIZZI_DIR)):
        if path.endswith((".yml", ".yaml")) and "x-uffizzi" in (tree.read(path) or ""):
            return path
    raise SpecError(
        "This repository has no preview spec",
        f"Add {COMPOSE_PATH} (a compose file with an x-prdeck ingress block), a {MANIFESTS_DIR}/ folder, or a "
        f"compose file with x-uffizzi under {UFFIZZI_DIR}/; or set preview.spec in the config.",
    )


def load_spec(
    tree: TreeReader,
    *,
    configured: str = "",
    variables: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    images: Mapping[str, Mapping[str, str]] | None = None,
) -> PreviewSpec:
    """Find and parse the spec. ``variables`` (config) win over ``environ`` for ``${VAR}``."""
    path = find_spec(tree, configured)
    text = tree.read(path)
    if text is None:
        return _manifests(tree, path, images or {})
    variables, environ = dict(variables or {}), dict(environ or {})

    def lookup(name: str) -> str | None:
        return variables.get(name, environ.get(name))

    return parse_compose(text, path, lookup)


def _problem(path: str, key: str, reason: str) -> SpecError:
    return SpecError(f"Invalid preview spec {path}", f"{key}: {reason}" if key else reason)


def _yaml_documents(text: str, path: str) -> list[Any]:
    try:
        return bounded_documents(text)
    except ValueError as exc:
        raise _problem(path, "", str(exc)) from exc


def parse_compose(text: str, path: str, lookup: Callable[[str], str | None]) -> PreviewSpec:
    documents = _yaml_documents(text, path)
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise _problem(path, "", "a compose file is one YAML mapping")
    missing: list[str] = []
    try:
        raw = values.substitute_tree(documents[0], lookup, missing)
    except ValueError as exc:
        raise _problem(path, "", str(exc)) from exc
    warnings = [f"{path}: variable {name} is not set; using an empty string" for name in dict.fromkeys(missing)]
    services = raw.get("services")
    if not isinstance(services, dict) or not services:
        raise _problem(path, "services", "at least one service is needed")
    if len(services) > MAX_SERVICES:
        raise _problem(path, "services", f"{len(services):,} services; a preview (one pod) may have at most "
                                         f"{MAX_SERVICES}")
    extension = raw.get("x-prdeck", raw.get("x-uffizzi"))
    block = "x-prdeck" if "x-prdeck" in raw else "x-uffizzi"
    ingress = extension.get("ingress") if isinstance(extension, dict) else None
    if not isinstance(ingress, dict):
        raise _problem(path, f"{block}.ingress", "needs {service: NAME, port: PORT} naming what gets the URL")
    for key in sorted(set(raw) - IGNORED_TOP_KEYS):
        if not key.startswith("x-"):
            warnings.append(f"{path}: {key} is not supported (ignored)")
    containers = tuple(_container(path, str(name), service, lookup, warnings) for name, service in services.items())
    service_name, port = ingress.get("service"), ingress.get("port")
    target = next((c for c in containers if c.name == service_name), None)
    if target is None:
        raise _problem(path, f"{block}.ingress.service", f"no service named {service_name!r}")
    try:
        ingress_port = values.container_port(port)
    except ValueError as exc:
        raise _problem(path, f"{block}.ingress.port", str(exc)) from exc
    return PreviewSpec(
        source=path,
        form="compose",
        containers=containers,
        ingress_port=ingress_port,
        warnings=tuple(warnings),
    )


def _container(
    path: str, name: str, service: Any, lookup: Callable[[str], str | None], warnings: list[str]
) -> ContainerSpec:
    where = f"services.{name}"
    if not isinstance(service, dict):
        raise _problem(path, where, "a service is a mapping")
    unsupported = sorted(set(service) - SUPPORTED_SERVICE_KEYS)
    if unsupported:
        warnings.append(f"{path}: {where}: {', '.join(unsupported)} not supported (ignored)")
    key = where
    try:
        key = f"{where}.build"
        build = _build(service.get("build"))
        key = f"{where}.image"
        image = service.get("image")
        if image is not None and not isinstance(image, str):
            raise ValueError("must be a string")
        if build is None and not image:
            raise ValueError("a service needs an image or a build")
        key = f"{where}.environment"
        environment = values.environment_map(service.get("environment"), lookup)
        key = f"{where}.command"
        command = values.command_list(service["command"]) if "command" in service else None
        key = f"{where}.entrypoint"
        entrypoint = values.command_list(service["entrypoint"]) if "entrypoint" in service else None
        key = f"{where}.ports"
        listed = [*service.get("ports", []), *service.get("expose", [])]
        ports = tuple(dict.fromkeys(values.container_port(port) for port in listed))
        key = f"{where}.deploy.resources.limits"
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        memory = values.memory_quantity(limits["memory"]) if "memory" in limits else None
        cpus = values.cpu_quantity(limits["cpus"]) if "cpus" in limits else None
        key = f"{where}.healthcheck"
        readiness = values.readiness_probe(service["healthcheck"]) if "healthcheck" in service else None
    except (ValueError, TypeError, AttributeError) as exc:
        raise _problem(path, key, str(exc)) from exc
    return ContainerSpec(
        name=name,
        image=image if build is None else None,
        build=build,
        environment=tuple(environment.items()),
        command=tuple(command) if command is not None else None,
        entrypoint=tuple(entrypoint) if entrypoint is not None else None,
        ports=ports,
        memory=memory,
        cpus=cpus,
        readiness=readiness,
    )


def _build(value: Any) -> BuildSpec | None:
    if value is None:
        return None
    if isinstance(value, str):
        return BuildSpec(context=value)
    if not isinstance(value, dict):
        raise ValueError("must be a path or a mapping with context, dockerfile, args")
    args = value.get("args") or {}
    if isinstance(args, list):
        args = dict(item.partition("=")[::2] for item in args)
    if not isinstance(args, dict):
        raise ValueError("args must be a map or a list of KEY=value")
    return BuildSpec(
        context=str(value.get("context", ".")),
        dockerfile=str(value.get("dockerfile", "Dockerfile")),
        args=tuple((str(k), str(v)) for k, v in args.items()),
    )


def _manifests(tree: TreeReader, folder: str, images: Mapping[str, Mapping[str, str]]) -> PreviewSpec:
    objects: list[Mapping[str, Any]] = []
    for path in _manifest_files(tree, folder, set()):
        for index, document in enumerate(_yaml_documents(tree.read(path) or "", path)):
            if not isinstance(document, dict) or not document.get("kind") or not document.get("apiVersion"):
                raise _problem(path, f"document {index + 1}", "a Kubernetes object needs apiVersion and kind")
            name = (document.get("metadata") or {}).get("name")
            if not name:
                raise _problem(path, f"document {index + 1}", "metadata.name is missing")
            if not naming.is_dns_subdomain(name):
                raise _problem(path, f"{document['kind']} {str(name)[:80]!r}", "metadata.name must be lower-case "
                               "letters, digits, '-' and '.' (an RFC 1123 name, at most 253 characters)")
            objects.append(document)
    if not objects:
        raise _problem(folder, "", "no Kubernetes objects found")
    builds = []
    for name, build in sorted(images.items()):
        if not isinstance(build, Mapping):
            raise SpecError("Invalid config value", f"images.{name} must be a table with context and dockerfile")
        builds.append((name, BuildSpec(str(build.get("context", ".")), str(build.get("dockerfile", "Dockerfile")))))
    return PreviewSpec(source=folder, form="manifests", manifests=tuple(objects), images=tuple(builds))


def _manifest_files(tree: TreeReader, folder: str, seen: set[str]) -> list[str]:
    if folder in seen:
        raise _problem(folder, "resources", "a kustomization includes itself")
    seen.add(folder)
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        text = tree.read(posixpath.join(folder, name))
        if text is None:
            continue
        documents = _yaml_documents(text, posixpath.join(folder, name))
        resources = documents[0].get("resources") if documents and isinstance(documents[0], dict) else None
        if not isinstance(resources, list):
            raise _problem(posixpath.join(folder, name), "resources", "a list of files or folders is needed")
        files: list[str] = []
        for entry in resources:
            path = posixpath.normpath(posixpath.join(folder, str(entry)))
            if tree.read(path) is not None:
                files.append(path)
            elif tree.list(path):
                files.extend(_manifest_files(tree, path, seen))
            else:
                raise _problem(posixpath.join(folder, name), "resources", f"{entry} does not exist")
        return files
    return sorted(path for path in tree.list(folder) if path.endswith((".yaml", ".yml")))
