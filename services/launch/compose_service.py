"""Per-service compose keys that shape the one preview pod: restart, depends_on, names, port bindings, requests.

Read into :class:`ContainerSpec` fields by :func:`pod_fields`; :mod:`prdeck.services.launch.compose_pod` puts the
services together into the pod. Each problem raises :class:`SpecError` naming the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from prdeck.services.launch import compose_values as values
from prdeck.services.launch.spec_types import SpecError, problem

ONE_SHOT_RESTARTS = frozenset({"no"})
"""The Compose restart policy of a service that is meant to end. ``on-failure`` is not one: it is how many
projects run databases and workers (restart when they crash), which keep running."""
CONDITIONS = frozenset({"service_started", "service_healthy", "service_completed_successfully"})
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def pod_fields(path: str, name: str, service: Mapping[str, Any]) -> dict[str, Any]:
    """The ContainerSpec fields this module owns, read from one service."""
    where = f"services.{name}"
    key = where
    try:
        key = f"{where}.restart"
        restart = _restart(service.get("restart"))
        key = f"{where}.depends_on"
        depends_on = _depends_on(service.get("depends_on"))
        key = f"{where}.networks"
        hostnames = _hostnames(name, service)
        key = f"{where}.ports"
        bindings = [*(_binding(item) for item in _list(service.get("ports")))]
        key = f"{where}.expose"
        bindings += [(0, *_port_protocol(item)) for item in _list(service.get("expose"))]
        key = f"{where}.gpus"
        if service.get("gpus") not in (None, [], 0):
            raise ValueError(NO_GPUS)
        key = f"{where}.deploy.resources.reservations"
        reservations = _reservations(service.get("deploy"))
        if reservations.get("devices"):
            key = f"{where}.deploy.resources.reservations.devices"
            raise ValueError(NO_GPUS if _asks_for_gpu(reservations["devices"]) else
                             "a preview container cannot reserve the node's devices")
        memory = values.memory_quantity(reservations["memory"]) if "memory" in reservations else None
        cpus = values.cpu_quantity(reservations["cpus"]) if "cpus" in reservations else None
    except (ValueError, TypeError) as exc:
        raise problem(path, key, str(exc)) from exc
    return {
        "restart": restart,
        "depends_on": depends_on,
        "hostnames": hostnames,
        "port_bindings": tuple(dict.fromkeys(bindings)),
        "memory_request": memory,
        "cpu_request": cpus,
    }


def is_one_shot(restart: str) -> bool:
    return restart.split(":", 1)[0] in ONE_SHOT_RESTARTS


def valid_hostname(name: str) -> bool:
    """A name ``/etc/hosts`` (and the API server's ``hostAliases`` check) takes: a lower-case DNS-1123 subdomain."""
    return len(name) <= 253 and bool(_HOSTNAME.match(name)) and name != "localhost"


def _restart(value: Any) -> str:
    if value is None:
        return ""
    if value is False:  # YAML 1.1 reads an unquoted ``no`` as false
        return "no"
    if not isinstance(value, str):
        raise ValueError('must be "no", "always", "on-failure[:N]" or "unless-stopped"')
    policy = value.split(":", 1)[0]
    if policy not in ("no", "always", "on-failure", "unless-stopped"):
        raise ValueError(f'{value!r} is not a restart policy ("no", "always", "on-failure[:N]", "unless-stopped")')
    return value


def _depends_on(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple((item, "service_started") for item in value)
    if not isinstance(value, dict):
        raise ValueError("must be a list of service names or a mapping of service to {condition}")
    result = []
    for service, options in value.items():
        condition = (options or {}).get("condition", "service_started") if isinstance(options, dict | None) else None
        if condition not in CONDITIONS:
            raise ValueError(f"{service}: condition must be one of {', '.join(sorted(CONDITIONS))}")
        result.append((str(service), str(condition)))
    return tuple(result)


def unreachable_names(name: str, service: Mapping[str, Any]) -> list[str]:
    """The names Compose's network would resolve to this service that a pod's ``hostAliases`` cannot hold
    (``app_db``: the API server takes lower-case RFC 1123 names only)."""
    try:
        return [item for item in _names(name, service) if not valid_hostname(item)]
    except ValueError:
        return []


def _hostnames(name: str, service: Mapping[str, Any]) -> tuple[str, ...]:
    """The names compose's network resolves to this service: its name, ``hostname``, ``container_name`` and
    every network alias; lower-cased (DNS ignores case), only those that are valid host names."""
    return tuple(item for item in _names(name, service) if valid_hostname(item))


def _names(name: str, service: Mapping[str, Any]) -> tuple[str, ...]:
    names = [name, service.get("hostname"), service.get("container_name")]
    networks = service.get("networks")
    if isinstance(networks, dict):
        for network in networks.values():
            aliases = network.get("aliases") if isinstance(network, dict) else None
            if aliases is not None and not isinstance(aliases, list):
                raise ValueError("aliases must be a list of names")
            names.extend(aliases or [])
    return tuple(dict.fromkeys(str(item).lower() for item in names if isinstance(item, str | int) and item != ""))


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("must be a list of ports")
    return value


def _port_protocol(value: Any) -> tuple[int, str]:
    protocol = "TCP"
    if isinstance(value, dict):
        protocol = str(value.get("protocol") or "tcp").upper()
    elif "/" in str(value):
        protocol = str(value).rsplit("/", 1)[1].upper()
    if protocol not in ("TCP", "UDP", "SCTP"):
        raise ValueError(f"protocol must be tcp or udp, got {protocol.lower()!r}")
    return values.container_port(value), protocol


def _binding(value: Any) -> tuple[int, int, str]:
    """``(published or 0, target, protocol)`` of one ``ports`` entry (short or long syntax)."""
    target, protocol = _port_protocol(value)
    if isinstance(value, dict):
        published: Any = value.get("published")
    else:
        parts = str(value).split("/", 1)[0].rsplit(":", 2)
        published = parts[-2] if len(parts) > 1 else None
    text = str(published or "")
    return (int(text) if text.isdigit() and 0 < int(text) < 65536 else 0), target, protocol


NO_GPUS = ("preview pods get no GPUs (prdeck's namespaces do not request GPU devices); remove it, or give the "
           "service a profile (profiles: [gpu]) so that previews leave it out")


def _asks_for_gpu(devices: Any) -> bool:
    for device in devices if isinstance(devices, list) else [devices]:
        if not isinstance(device, dict):
            return False
        capabilities = device.get("capabilities") or []
        flat = [c for group in capabilities for c in (group if isinstance(group, list) else [group])]
        if "gpu" in flat or str(device.get("driver", "")).lower() in ("nvidia", "amd"):
            return True
    return False


def _reservations(deploy: Any) -> dict[str, Any]:
    level: Any = deploy
    for key in ("resources", "reservations"):
        if level is None:
            return {}
        if not isinstance(level, dict):
            raise ValueError("deploy.resources.reservations must be mappings")
        level = level.get(key)
    if level is not None and not isinstance(level, dict):
        raise ValueError("deploy.resources.reservations must be mappings")
    return level or {}


__all__ = ["SpecError", "is_one_shot", "pod_fields", "valid_hostname"]
