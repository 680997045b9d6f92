"""What the API server checks in a pod template: containers, ports, env, probes and resources.

Messages, fields and reasons are the real server's (Kubernetes 1.36). ``1GB`` is refused while decoding (400
BadRequest), before validation: ``bad_quantities`` finds those; ``pod_causes`` the 422 causes; ``pod_warnings``
what a real server accepts but warns about (duplicate ports, an env var hiding an earlier one).
"""

from __future__ import annotations

import re
from typing import Any

from prdeck.services.sandbox.kube import quantity

Cause = tuple[str, str, str]
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
ENV_NAME = re.compile(r"^[\x20-\x3c\x3e-\x7e]+$")
ENV_MESSAGE = "a valid environment variable name must consist only of printable ASCII characters other than '='"
HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")


def _all_containers(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for key in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(key) or []):
            if isinstance(container, dict):
                found.append((f"{key}[{index}]", container))
    return found


def bad_quantities(spec: Any) -> bool:
    """True when a resource quantity cannot even be decoded (the API server answers 400, not 422)."""
    if not isinstance(spec, dict):
        return False
    for _, container in _all_containers(spec):
        resources = container.get("resources") or {}
        for key in ("requests", "limits"):
            for value in (resources.get(key) or {}).values():
                if quantity.parse(value) is None:
                    return True
    return False


def _resources(container: dict[str, Any], where: str) -> list[Cause]:
    resources = container.get("resources") or {}
    causes: list[Cause] = []
    values: dict[str, dict[str, Any]] = {}
    for key in ("requests", "limits"):
        values[key] = {}
        for name, text in (resources.get(key) or {}).items():
            value = quantity.parse(text)
            values[key][name] = value
            if value is not None and value < 0:
                causes.append(
                    (
                        "FieldValueInvalid",
                        f"{where}.resources.{key}[{name}]",
                        f'Invalid value: "{text}": must be greater than or equal to 0',
                    )
                )
    for name, request in values["requests"].items():
        limit = values["limits"].get(name)
        if request is not None and limit is not None and request > limit:
            shown = resources["limits"][name]
            causes.append(
                (
                    "FieldValueInvalid",
                    f"{where}.resources.requests",
                    f'Invalid value: "{resources["requests"][name]}": must be less than or equal to '
                    f"{name} limit of {shown}",
                )
            )
    return causes


def _container(container: dict[str, Any], where: str, names: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    name = container.get("name")
    if not name:
        causes.append(("FieldValueRequired", f"{where}.name", "Required value"))
    elif len(name) > 63:
        causes.append(
            ("FieldValueInvalid", f"{where}.name", f'Invalid value: "{name}": must be no more than 63 characters')
        )
    elif not LABEL.match(name):
        causes.append(("FieldValueInvalid", f"{where}.name", f'Invalid value: "{name}": {LABEL_MESSAGE}'))
    elif name in names:
        causes.append(("FieldValueDuplicate", f"{where}.name", f'Duplicate value: "{name}"'))
    names.add(name or "")
    if not container.get("image"):
        causes.append(("FieldValueRequired", f"{where}.image", "Required value"))
    for index, port in enumerate(container.get("ports") or []):
        number = port.get("containerPort")
        if not isinstance(number, int) or not 0 < number < 65536:
            causes.append(
                (
                    "FieldValueInvalid",
                    f"{where}.ports[{index}].containerPort",
                    f"Invalid value: {number}: must be between 1 and 65535, inclusive",
                )
            )
    for index, env in enumerate(container.get("env") or []):
        env_name = env.get("name") or ""
        if not env_name:
            causes.append(("FieldValueRequired", f"{where}.env[{index}].name", "Required value"))
        elif not ENV_NAME.match(env_name):
            causes.append(
                ("FieldValueInvalid", f"{where}.env[{index}].name", f'Invalid value: "{env_name}": {ENV_MESSAGE}')
            )
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        found = container.get(probe)
        if isinstance(found, dict) and not any(found.get(handler) for handler in HANDLERS):
            causes.append(("FieldValueRequired", f"{where}.{probe}", "Required value: must specify a handler type"))
    return causes + _resources(container, where)


def pod_causes(spec: Any, field: str) -> list[Cause]:
    """The 422 causes of a pod spec at ``field`` (``spec`` or ``spec.template.spec``)."""
    containers = spec.get("containers") if isinstance(spec, dict) else None
    if not containers:
        return [("FieldValueRequired", f"{field}.containers", "Required value")]
    causes: list[Cause] = []
    names: set[str] = set()
    for where, container in _all_containers(spec):
        causes.extend(_container(container, f"{field}.{where}", names))
    return causes


def pod_warnings(spec: Any, field: str) -> list[str]:
    """What the real server accepts but warns about, in its words."""
    if not isinstance(spec, dict):
        return []
    warnings: list[str] = []
    for where, container in _all_containers(spec):
        seen_ports: dict[tuple[Any, Any], int] = {}
        for index, port in enumerate(container.get("ports") or []):
            key = (port.get("containerPort"), port.get("protocol", "TCP"))
            if key in seen_ports:
                warnings.append(
                    f"{field}.{where}.ports[{index}]: duplicate port definition with "
                    f"{field}.{where}.ports[{seen_ports[key]}]"
                )
            else:
                seen_ports[key] = index
        seen_env: set[str] = set()
        for index, env in enumerate(container.get("env") or []):
            env_name = env.get("name")
            if env_name in seen_env:
                warnings.append(
                    f'{field}.{where}.env[{index}]: hides previous definition of "{env_name}", '
                    "which may be dropped when using apply"
                )
            seen_env.add(env_name)
    return warnings
