"""The compose form of a preview spec: every service becomes one container of the preview's one pod.

``${VAR}`` is filled only from the values the caller passes (``preview.variables``, the variables named in
``preview.pass_env``): a spec in a pull request can never read prdeck's environment.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from prdeck.services.launch import compose_extends, compose_mounts, compose_pod, compose_service, kube_values
from prdeck.services.launch import compose_values as values
from prdeck.services.launch.compose_build import build_spec
from prdeck.services.launch.compose_prepare import ComposeOptions, prepare
from prdeck.services.launch.compose_yaml import CoreSchemaLoader
from prdeck.services.launch.pod_policy import BASELINE_CAPABILITIES
from prdeck.services.launch.spec_types import ContainerSpec, PreviewSpec, SpecError, TreeReader, problem
from prdeck.services.launch.spec_yaml import MAX_SERVICES, bounded_documents

SUPPORTED_SERVICE_KEYS = frozenset(
    {"build", "image", "environment", "command", "entrypoint", "ports", "deploy", "healthcheck", "expose", "cap_add",
     "restart", "depends_on", "hostname", "container_name", "networks", "gpus", "user",
     *compose_mounts.SERVICE_KEYS}
)
IGNORED_TOP_KEYS = frozenset({"version", "name", "services", "x-prdeck", "x-uffizzi", *compose_mounts.TOP_KEYS})
Lookup = Callable[[str], str | None]


def yaml_documents(text: str, path: str) -> list[Any]:
    try:
        return bounded_documents(text, CoreSchemaLoader)
    except ValueError as exc:
        raise problem(path, "", str(exc)) from exc


def container_name(service: str) -> str:
    """A compose service name as a container name (a DNS label): ``Web_App`` -> ``web-app``.

    Compose allows ``_``, ``.``, upper case and long names; Kubernetes does not. A name that had to be cut
    gets a hash of the original, so two long names stay apart.
    """
    name = re.sub(r"[^a-z0-9-]+", "-", service.lower()).strip("-") or "service"
    if len(name) > 63:
        name = f"{name[:56].rstrip('-')}-{hashlib.sha256(service.encode()).hexdigest()[:6]}"
    return name


def parse_compose(text: str, path: str, lookup: Lookup, tree: TreeReader | None = None,
                  options: ComposeOptions | None = None) -> PreviewSpec:
    """``tree`` (the commit's files) is where ``env_file`` is read; ``options`` come from config."""
    documents = yaml_documents(text, path)
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise problem(path, "", "a compose file is one YAML mapping")
    document = compose_extends.resolve(documents[0], path, tree)
    prepared = prepare(document, path, lookup, tree, options or ComposeOptions())
    raw = prepared.document
    warnings = [f"{path}: variable {name} is not set; using an empty string"
                for name in dict.fromkeys(prepared.missing)]
    warnings.extend(prepared.warnings)
    services = raw.get("services")
    if not isinstance(services, dict) or not services:
        raise problem(path, "services", "at least one service is needed")
    if len(services) > MAX_SERVICES:
        raise problem(path, "services", f"{len(services):,} services; a preview (one pod) may have at most "
                                        f"{MAX_SERVICES}")
    extension = raw.get("x-prdeck", raw.get("x-uffizzi"))
    block = "x-uffizzi" if "x-uffizzi" in raw and "x-prdeck" not in raw else "x-prdeck"
    ingress = extension.get("ingress") if isinstance(extension, dict) else None
    if not isinstance(ingress, dict):
        raise problem(path, f"{block}.ingress", "needs {service: NAME, port: PORT} naming what gets the URL")
    for key in sorted(set(raw) - IGNORED_TOP_KEYS):
        if not key.startswith("x-"):
            warnings.append(f"{path}: {key} is not supported (ignored)")
    containers = tuple(_container(path, str(name), service, lookup, warnings) for name, service in services.items())
    _distinct_names(path, containers)
    names = {str(name): c.name for name, c in zip(services, containers, strict=True)}
    files = compose_mounts.pod_files(path, raw, names, tree, lookup, warnings, (options or ComposeOptions()).secrets)
    containers = tuple(replace(c, volume_mounts=files.mounts[name]) for name, c in zip(names, containers, strict=True))
    service_name, port = ingress.get("service"), ingress.get("port")
    target = next((c for c in containers if (c.service or c.name) == service_name), None)
    if target is None:
        raise problem(path, f"{block}.ingress.service", f"no service named {service_name!r}")
    try:
        ingress_port = values.container_port(port)
    except ValueError as exc:
        raise problem(path, f"{block}.ingress.port", str(exc)) from exc
    compose_pod.check(path, containers, str(service_name))
    return PreviewSpec(source=path, form="compose", containers=containers, ingress_port=ingress_port,
                       warnings=tuple(warnings), ingress_service=str(service_name), ttl=prepared.ttl,
                       volumes=files.volumes, files=files.objects)


def _distinct_names(path: str, containers: tuple[ContainerSpec, ...]) -> None:
    seen: dict[str, str] = {}
    for container in containers:
        original = container.service or container.name
        if container.name in seen:
            raise problem(path, f"services.{original}", f"services {seen[container.name]!r} and {original!r} both "
                          f"become the container name {container.name!r}; rename one")
        seen[container.name] = original


def _container(path: str, name: str, service: Any, lookup: Lookup, warnings: list[str]) -> ContainerSpec:
    where = f"services.{name}"
    if not isinstance(service, dict):
        raise problem(path, where, "a service is a mapping")
    unsupported = sorted(set(service) - SUPPORTED_SERVICE_KEYS)
    if unsupported:
        warnings.append(f"{path}: {where}: {', '.join(unsupported)} not supported (ignored)")
    key = where
    try:
        key = f"{where}.build"
        build = build_spec(service.get("build"), lookup, warnings, f"{path}: {where}")
        key = f"{where}.image"
        image = service.get("image")
        if image is not None and not isinstance(image, str):
            raise ValueError("must be a string")
        if build is None and not image:
            raise ValueError("a service needs an image or a build")
        if build is None and (reason := kube_values.image_problem(image)):
            raise ValueError(reason)
        key = f"{where}.environment"
        environment = values.environment_map(service.get("environment"), lookup)
        for variable in environment:
            if reason := kube_values.env_name_problem(variable):
                raise ValueError(reason)
        key = f"{where}.command"
        command = values.command_list(service["command"]) if "command" in service else None
        key = f"{where}.entrypoint"
        entrypoint = values.command_list(service["entrypoint"]) if "entrypoint" in service else None
        key = f"{where}.ports"
        listed = [*_listed(service.get("ports")), *_listed(service.get("expose"))]
        ports = tuple(dict.fromkeys(values.container_port(port) for port in listed))
        key = f"{where}.deploy.resources.limits"
        limits = _limits(service.get("deploy"))
        memory = values.memory_quantity(limits["memory"]) if "memory" in limits else None
        cpus = values.cpu_quantity(limits["cpus"]) if "cpus" in limits else None
        key = f"{where}.healthcheck"
        readiness, start_period = compose_pod.health_probe(service["healthcheck"]) if "healthcheck" in service \
            else (None, 0)
        key = f"{where}.cap_add"
        capabilities = _capabilities(service.get("cap_add"))
        key = f"{where}.user"
        uid, gid, named = values.user_ids(service["user"]) if "user" in service else (None, None, "")
    except (ValueError, TypeError, AttributeError) as exc:
        raise problem(path, key, str(exc)) from exc
    for unreachable in compose_service.unreachable_names(name, service):
        fixed = re.sub(r"[^a-z0-9.-]+", "-", unreachable).strip("-.") or "service"
        warnings.append(f"{path}: {where}: other services cannot reach it as {unreachable!r} (a pod's host names "
                        f"take lower-case letters, digits, '-' and '.'): give it hostname: {fixed} (or a network "
                        "alias) and use that name, or localhost (all services share one pod)")
    if named:
        warnings.append(f"{path}: {where}.user: {named} is a name, and a pod runs as numbers only (runAsUser, "
                        "runAsGroup): the image's own USER applies; write the ids, e.g. user: \"1000:1000\"")
    container = container_name(name)
    return ContainerSpec(
        name=container,
        image=image if build is None else None,
        build=build,
        environment=tuple(environment.items()),
        command=tuple(command) if command is not None else None,
        entrypoint=tuple(entrypoint) if entrypoint is not None else None,
        ports=ports,
        memory=memory,
        cpus=cpus,
        readiness=readiness,
        capabilities=capabilities,
        service=name if container != name else "",
        start_period=start_period,
        run_as_user=uid,
        run_as_group=gid,
        **compose_service.pod_fields(path, name, service),
    )


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("must be a list of ports")
    return value


def _limits(deploy: Any) -> dict[str, Any]:
    """``deploy.resources.limits``, each level a mapping (or absent)."""
    level: Any = deploy
    for key in ("resources", "limits"):
        if level is None:
            return {}
        if not isinstance(level, dict):
            raise ValueError("deploy.resources.limits must be mappings")
        level = level.get(key)
    if level is not None and not isinstance(level, dict):
        raise ValueError("deploy.resources.limits must be mappings")
    return level or {}


def _capabilities(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("must be a list of capability names")
    names = tuple(dict.fromkeys(item.upper().removeprefix("CAP_") for item in value))
    refused = [name for name in names if name not in BASELINE_CAPABILITIES]
    if refused:
        raise ValueError(f"{', '.join(refused)} cannot be added to a preview container (Pod Security baseline "
                         f"allows only {', '.join(sorted(BASELINE_CAPABILITIES))})")
    return names


__all__ = ["SpecError", "container_name", "parse_compose", "yaml_documents"]
