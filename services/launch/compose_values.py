"""Small value translations from Compose to Kubernetes: ports, sizes, CPUs, durations, health checks.

Pure functions; each raises :class:`ValueError` with a short reason that :mod:`prdeck.services.launch.spec`
prefixes with the file and the key.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable, Mapping
from typing import Any


def command_list(value: Any) -> list[str]:
    """A Compose ``command``/``entrypoint``: a list, or a string split the way a shell would."""
    if isinstance(value, str):
        return shlex.split(value)
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return [str(item) for item in value]
    raise ValueError("must be a string or a list of strings")


def environment_map(value: Any, lookup: Callable[[str], str | None]) -> dict[str, str]:
    """``environment`` as a map or as ``["KEY=value", "KEY"]``; a bare or empty key takes its value from the
    variables (as Compose takes it from the shell), which hold only what the maintainer allowed; when they do not
    have it, the container does not get the variable at all (as with Compose), rather than an empty one."""
    if value is None:
        return {}
    pairs: list[tuple[str, str | None]] = []
    if isinstance(value, dict):
        pairs = [(str(key), lookup(str(key)) if item is None else _scalar(item)) for key, item in value.items()]
    elif isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                raise ValueError("list entries must be KEY=value strings")
            key, sep, text = item.partition("=")
            pairs.append((key, text if sep else lookup(key)))
    else:
        raise ValueError("must be a map or a list of KEY=value strings")
    return {key: text for key, text in pairs if text is not None}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueError(f"values must be strings or numbers, got {type(value).__name__}")


MAX_ID = 2**31 - 1
"""The largest user or group id a pod's securityContext takes (the API server refuses more)."""


def user_ids(value: Any) -> tuple[int | None, int | None, str]:
    """Compose ``user`` (``uid``, ``uid:gid``, ``name``, ``name:group``) as ``(uid, gid, names)``: a pod runs as
    numbers only, so a name comes back in ``names`` (the image's own ``USER`` then applies) instead of an id."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("must be a user id or name, optionally with :group")
    user, _, group = str(value).strip().partition(":")
    if not user:
        raise ValueError("names no user")
    ids: list[int | None] = []
    names: list[str] = []
    for part in (user, group):
        if part.isdigit():
            if int(part) > MAX_ID:
                raise ValueError(f"{part} is not a user or group id (at most {MAX_ID})")
            ids.append(int(part))
        else:
            ids.append(None)
            if part:
                names.append(part)
    return ids[0], ids[1], " and ".join(repr(name) for name in names)


def container_port(value: Any) -> int:
    """The container side of a Compose port: ``8080``, ``"8080"``, ``"80:8080"``, ``"8080/tcp"``, ``{target: 8080}``."""
    if isinstance(value, dict):
        value = value.get("target")
    text = str(value).split("/", 1)[0].rsplit(":", 1)[-1]
    if "-" in text:
        raise ValueError(f"port ranges are not supported ({value!r})")
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"not a port number: {value!r}")
    return int(text)


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$", re.IGNORECASE)
_SIZE_UNITS = {"": "", "b": "", "k": "Ki", "m": "Mi", "g": "Gi"}


def memory_quantity(value: Any) -> str:
    """Compose sizes (``512m``, ``1g``, ``64M``, ``1GB``, bytes) as Kubernetes quantities (``512Mi``, ``1Gi``);
    more than 0, and finite."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a size: {str(value)[:40]!r} (examples: 512m, 1g)")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"must be more than 0, got {value!r}")
        return str(value)
    match = _SIZE.match(str(value).strip())
    if match is None:
        raise ValueError(f"not a size: {value!r} (examples: 512m, 1g)")
    number, unit = match.groups()
    if float(number) <= 0:
        raise ValueError(f"must be more than 0, got {value!r}")
    if "." in number:
        factor = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]
        return str(max(1, int(float(number) * factor)))
    return f"{number}{_SIZE_UNITS[unit.lower()]}"


def cpu_quantity(value: Any) -> str:
    """Compose ``cpus: 0.5`` as ``500m``: a finite number of CPUs, at least 0.001."""
    if isinstance(value, bool):
        raise ValueError(f"not a number of CPUs: {value!r}")
    try:
        cpus = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"not a number of CPUs: {str(value)[:40]!r}") from None
    if not math.isfinite(cpus):
        raise ValueError(f"not a number of CPUs: {value!r} (a finite number is needed, e.g. 0.5)")
    if cpus < 0.001:
        raise ValueError(f"must be at least 0.001, got {value!r}")
    return f"{round(cpus * 1000)}m"


MAX_PROBE_SECONDS = 2**31 - 1
"""Kubernetes keeps a probe's times and thresholds in 32-bit integers (a larger one is refused)."""
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_DURATION_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def duration_seconds(value: Any) -> int:
    """Compose durations (``1m30s``, ``10s``, ``500ms``) as whole seconds, at least 1."""
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"not a duration: {value!r} (examples: 10s, 1m30s)")
    seconds = max(1, round(sum(float(number) * _DURATION_SECONDS[unit] for number, unit in parts)))
    if seconds > MAX_PROBE_SECONDS:
        raise ValueError(f"{value!r} is too long (a probe's times are at most {MAX_PROBE_SECONDS:,} s)")
    return seconds


def readiness_probe(check: Any) -> dict[str, Any] | None:
    """A Compose ``healthcheck`` as an exec readiness probe; None when disabled."""
    if not isinstance(check, Mapping):
        raise ValueError("must be a mapping with test (and interval, timeout, retries, start_period)")
    if check.get("disable"):
        return None
    test = check.get("test")
    if isinstance(test, str):
        command = ["/bin/sh", "-c", test]
    elif isinstance(test, list) and test and all(isinstance(item, str) for item in test):
        if test[0] == "NONE":
            return None
        if test[0] == "CMD" and len(test) > 1:
            command = list(test[1:])
        elif test[0] == "CMD-SHELL" and len(test) == 2:
            command = ["/bin/sh", "-c", test[1]]
        else:
            raise ValueError('test must start with "CMD", "CMD-SHELL" or "NONE"')
    else:
        raise ValueError("test must be a string or a list of strings")
    probe: dict[str, Any] = {"exec": {"command": command}}
    for compose_key, probe_key in (
        ("interval", "periodSeconds"),
        ("timeout", "timeoutSeconds"),
        ("start_period", "initialDelaySeconds"),
    ):
        if compose_key in check:
            probe[probe_key] = duration_seconds(check[compose_key])
    if "retries" in check:
        retries = check["retries"]
        if isinstance(retries, bool) or not isinstance(retries, int) or not 1 <= retries <= MAX_PROBE_SECONDS:
            raise ValueError(f"retries must be a whole number from 1 to {MAX_PROBE_SECONDS:,}, got {retries!r}")
        probe["failureThreshold"] = retries
    return probe
