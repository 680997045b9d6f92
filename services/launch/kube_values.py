"""Values the Kubernetes API server (or the kubelet) refuses, checked when a spec is read — before anything is built.

A value the API server refuses at apply time would fail the launch after the build and push, with part of the
preview applied; a value only the kubelet refuses (an invalid image reference) would fail the rollout. Each check
follows what a real API server (1.36) answers, not the OpenAPI schema alone: env names are any printable ASCII
except ``=``; container names are DNS labels; container port names are IANA service names; Service port names
are DNS labels, required when a Service has several ports; quantities follow ``resource.Quantity``'s grammar;
a probe has exactly one handler; a request may not exceed its limit (nor, without a limit, the default limit of
prdeck's LimitRange, which the pod would get).

Every function returns a reason (a short sentence) or None; callers add the file and the key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from prdeck.services import naming
from prdeck.services.launch.limit_range import DEFAULT_LIMITS

INT32_MAX = 2**31 - 1
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")
_QUANTITY = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
_SUFFIX_VALUE: dict[str, Decimal | int] = {
    "": 1, "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": 10**3, "M": 10**6, "G": 10**9,
    "T": 10**12, "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
    "Ei": 2**60}
# distribution/reference's grammar, as the kubelet parses an image (anything else is InvalidImageName)
_DOMAIN = re.compile(r"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9]"
                     r"[a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$")
_PATH = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


def env_name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return "an environment variable needs a name"
    if "=" in name or any(not " " <= char <= "~" for char in name):
        return f"{name!r} is not a valid environment variable name (printable ASCII characters other than '=')"
    return None


def container_name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return "a container needs a name"
    if not naming.is_dns_label(name):
        return (f"{name[:80]!r} is not a valid container name (at most 63 lower-case letters, digits and '-', "
                "starting and ending with a letter or digit)")
    return None


def port_name_problem(name: Any) -> str | None:
    """A container port's name (and a targetPort given by name): an IANA service name."""
    if not isinstance(name, str) or not _IANA_SVC_NAME.match(name) or "--" in name or not re.search("[a-z]", name):
        return (f"port name {str(name)[:80]!r} is invalid (at most 15 lower-case letters, digits and '-', "
                "with at least one letter)")
    return None


def port_number_problem(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        return f"{str(value)[:40]!r} is not a port number (1-65535)"
    return None


def image_problem(ref: Any) -> str | None:
    """Why ``ref`` is not an image reference the kubelet can pull (``[host[:port]/]path[:tag][@digest]``)."""
    if not isinstance(ref, str) or not ref:
        return "an image is needed"
    reason = f"{ref[:120]!r} is not a valid image reference"
    rest, _, digest = ref.partition("@")
    if digest and not _valid_digest(digest):
        return f"{reason} (the digest must be algorithm:hex, e.g. sha256: and 64 hex digits)"
    slash = rest.rfind("/")
    name, tag = (rest[:rest.rfind(":")], rest[rest.rfind(":") + 1:]) if ":" in rest[slash + 1:] else (rest, "")
    if ":" in rest[slash + 1:] and not _TAG.match(tag):
        return f"{reason} (a tag is letters, digits, '_', '.' and '-', at most 128)"
    first, sep, remainder = name.partition("/")
    has_domain = bool(sep) and ("." in first or ":" in first or first == "localhost" or first != first.lower())
    path = remainder if has_domain else name
    if has_domain and not _DOMAIN.match(first):
        return f"{reason} (the registry host {first!r} is not a host name)"
    if len(name) > 255 or not _PATH.match(path) or re.fullmatch("[a-f0-9]{64}", path):
        return f"{reason} (repository names are lower-case letters, digits and separators: e.g. nginx:1.27)"
    return None


def _valid_digest(digest: str) -> bool:
    if not _DIGEST.match(digest):
        return False
    algorithm, _, hexdigits = digest.partition(":")
    return len(hexdigits) == _DIGEST_LENGTHS.get(algorithm, len(hexdigits))


def quantity(value: Any) -> Decimal:
    """A Kubernetes quantity (``512Mi``, ``0.5``, ``500m``, ``1e3``) as a number; ValueError when the API server
    would refuse it (``1GB``, ``.inf``, NaN, ``1ki``, a boolean)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{str(value)[:40]!r} is not a quantity (examples: 512Mi, 1Gi, 500m, 0.5)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not a quantity (a finite number is needed)")
    text = str(value)
    match = _QUANTITY.match(text)
    if match is None or len(text) > 64:
        raise ValueError(f"{text[:40]!r} is not a quantity (examples: 512Mi, 1Gi, 500m, 0.5; not 1GB or 1g)")
    suffix = match.group("suffix") or ""
    number = text[: len(text) - len(suffix)]
    try:
        if suffix[:1] in ("e", "E"):
            return Decimal(number) * Decimal(10) ** int(suffix[1:])
        return Decimal(number) * Decimal(_SUFFIX_VALUE[suffix])
    except (InvalidOperation, ArithmeticError, ValueError):
        raise ValueError(f"{text[:40]!r} is too large a quantity") from None


def resources_problem(resources: Any) -> str | None:
    """``resources``: quantities the server accepts, not negative; requests within limits (or within the default
    limits prdeck's LimitRange gives a container without one: its pods would be refused, after the apply)."""
    if resources is None:
        return None
    if not isinstance(resources, dict):
        return "resources must be a mapping"
    amounts: dict[str, dict[str, Decimal]] = {}
    for kind in ("limits", "requests"):
        given = resources.get(kind) or {}
        if not isinstance(given, dict):
            return f"resources.{kind} must be a mapping"
        amounts[kind] = {}
        for name, value in given.items():
            try:
                amount = quantity(value)
            except ValueError as exc:
                return f"resources.{kind}.{name}: {exc}"
            if amount < 0:
                return f"resources.{kind}.{name}: must not be negative ({value!r})"
            amounts[kind][str(name)] = amount
    for name, request in amounts["requests"].items():
        limit = amounts["limits"].get(name)
        if limit is not None and request > limit:
            return f"resources.requests.{name} ({resources['requests'][name]}) is above its limit " \
                   f"({resources['limits'][name]})"
        default = DEFAULT_LIMITS.get(name)
        if limit is None and default is not None and request > quantity(default):
            return f"resources.requests.{name} ({resources['requests'][name]}) is above the default limit " \
                   f"{default} that the preview's LimitRange gives a container without one: set limits.{name} too"
    return None


def probe_problem(probe: Any) -> str | None:
    if not isinstance(probe, dict):
        return "a probe is a mapping"
    handlers = [key for key in PROBE_HANDLERS if key in probe]
    if len(handlers) != 1:
        return f"a probe needs exactly one of {', '.join(PROBE_HANDLERS)} (it has {len(handlers)})"
    command = (probe.get("exec") or {}).get("command") if isinstance(probe.get("exec"), dict) else None
    if handlers == ["exec"] and not (isinstance(command, list) and command):
        return "exec.command must be a non-empty list"
    for key, value in probe.items():
        if key not in PROBE_HANDLERS and key != "terminationGracePeriodSeconds" and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT32_MAX):
            return f"{key} must be a whole number from 0 to {INT32_MAX:,}, got {str(value)[:40]!r}"
    return None


def _mapping_of_strings(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return f"{what} must be a mapping of strings to strings (quote numbers and booleans)"
    return None


def metadata_problem(metadata: Any, where: str = "metadata") -> str | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        return f"{where} must be a mapping"
    return (_mapping_of_strings(metadata.get("labels"), f"{where}.labels")
            or _mapping_of_strings(metadata.get("annotations"), f"{where}.annotations"))


def container_problem(container: Mapping[str, Any]) -> str | None:
    reason = container_name_problem(container.get("name")) or image_problem(container.get("image"))
    if reason:
        return reason
    env = container.get("env") or []
    if not isinstance(env, list) or not all(isinstance(item, dict) for item in env):
        return "env must be a list of {name, value} mappings"
    seen: set[str] = set()
    for item in env:
        reason = env_name_problem(item.get("name"))
        if reason:
            return f"env: {reason}"
        if item["name"] in seen:
            return f"env: {item['name']!r} is set twice"
        seen.add(item["name"])
        if "value" in item and not isinstance(item["value"], str):
            return f"env {item['name']!r}: value must be a string (quote it), got {str(item['value'])[:40]!r}"
    for key in ("envFrom", "volumeMounts"):
        items = container.get(key) or []
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            return f"{key} must be a list of mappings"
    return _ports_problem(container.get("ports")) or resources_problem(container.get("resources")) or next(
        (f"{key}: {reason}" for key in PROBES if key in container
         for reason in [probe_problem(container[key])] if reason), None)


def _ports_problem(ports: Any) -> str | None:
    if ports is None:
        return None
    if not isinstance(ports, list) or not all(isinstance(port, dict) for port in ports):
        return "ports must be a list of mappings"
    seen: set[tuple[Any, Any]] = set()
    for port in ports:
        reason = port_number_problem(port.get("containerPort"))
        if reason:
            return f"ports: containerPort {reason}"
        if "name" in port and (reason := port_name_problem(port["name"])):
            return f"ports: {reason}"
        key = (port["containerPort"], port.get("protocol", "TCP"))
        if key in seen:
            return f"ports: containerPort {key[0]} ({key[1]}) is listed twice"
        seen.add(key)
    return None


def pod_problem(pod: Mapping[str, Any]) -> str | None:
    """Containers (and init containers) of one pod spec: shapes, names (unique), images, env, ports, resources,
    probes."""
    names: set[str] = set()
    for key in ("initContainers", "containers"):
        containers = pod.get(key)
        if key == "containers" and not containers:
            return "spec.containers: a pod needs at least one container"
        if containers is not None and (not isinstance(containers, list)
                                       or not all(isinstance(c, dict) for c in containers)):
            return f"spec.{key} must be a list of mappings"
        for container in containers or []:
            reason = container_problem(container)
            if reason:
                return f"{key} {str(container.get('name'))[:63]!r}: {reason}"
            if container["name"] in names:
                return f"container name {container['name']!r} is used twice in one pod"
            names.add(container["name"])
    return None


def service_problem(spec: Mapping[str, Any]) -> str | None:
    """A Service's ports: numbers in range, names DNS labels, unique, and required when there are several."""
    ports = spec.get("ports")
    if not ports and spec.get("clusterIP") == "None" and ports in (None, []):
        return None  # a headless Service may have no ports
    if not isinstance(ports, list) or not ports or not all(isinstance(port, dict) for port in ports):
        return "spec.ports must be a non-empty list of mappings"
    names: set[str] = set()
    for index, port in enumerate(ports):
        where = f"spec.ports[{index}]"
        reason = port_number_problem(port.get("port"))
        if reason:
            return f"{where}.port: {reason}"
        target = port.get("targetPort")
        if target is not None:
            reason = port_name_problem(target) if isinstance(target, str) else port_number_problem(target)
            if reason:
                return f"{where}.targetPort: {reason}"
        name = port.get("name")
        if name is None or name == "":
            if len(ports) > 1:
                return f"{where}.name: a Service with several ports must name each one"
            continue
        if not isinstance(name, str) or not naming.is_dns_label(name):
            return f"{where}.name: {str(name)[:80]!r} must be lower-case letters, digits and '-' (a DNS label)"
        if name in names:
            return f"{where}.name: {name!r} is used twice"
        names.add(name)
    return None
