"""A compose document made ready for :mod:`prdeck.services.launch.spec_compose`, the way Compose prepares it.

Interpolation (with Compose's typing), ``env_file`` merged under ``environment``, ``profiles``, builds attached
by config ``preview.builds``, an ``image: ${VAR}`` that comes out empty named with its fix, healthchecks
without a ``test``, and Uffizzi's top-level blocks (``x-uffizzi-ingress``, ``delete_preview_after``,
``continuous_previews``). Every key that has no effect becomes a warning naming the service and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prdeck.services.launch import compose_values as values
from prdeck.services.launch.compose_files import env_file_values
from prdeck.services.launch.compose_interpolate import InterpolationError, Lookup, interpolate_tree, substitute
from prdeck.services.launch.spec_types import SpecError, TreeReader, problem

UFFIZZI_KEYS = frozenset({"ingress", "delete_preview_after", "continuous_previews"})
MAX_TTL_HOURS = 8760


@dataclass(frozen=True)
class ComposeOptions:
    """What config adds to a compose spec: builds for services (``preview.builds``), enabled profiles."""

    builds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    profiles: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    """The names config ``preview.secrets`` fills: an ``external`` compose secret of that name is mounted."""


@dataclass
class Prepared:
    document: dict[str, Any]
    warnings: list[str]
    missing: list[str]
    ttl: timedelta | None = None


def prepare(document: dict[str, Any], path: str, lookup: Lookup, tree: TreeReader | None,
            options: ComposeOptions) -> Prepared:
    """The interpolated, normalised document; SpecError naming the file and the key for what cannot be read."""
    missing: list[str] = []
    try:
        raw = interpolate_tree(document, lookup, missing)
    except InterpolationError as exc:
        raise problem(path, exc.key, str(exc)) from exc
    result = Prepared(raw, [], missing)
    _uffizzi(raw, path, result)
    services = raw.get("services")
    if not isinstance(services, dict):
        return result
    originals = document.get("services") or {}
    for name in sorted(set(options.builds) - {str(key) for key in services}):
        result.warnings.append(f"{path}: config preview.builds.{name} names no service of this file (ignored)")
    for name in list(services):
        service, where = services[name], f"services.{name}"
        if not isinstance(service, dict):
            continue
        if not _enabled(service, options.profiles):
            result.warnings.append(f"{path}: {where} has profiles {', '.join(map(str, service['profiles']))}, none "
                                   "of them in config preview.profiles: not started")
            del services[name]
            continue
        service.pop("profiles", None)
        if "env_file" in service and tree is not None:
            _merge_env_file(service, path, where, tree, lookup, missing)
        if str(name) in options.builds:
            service["build"] = dict(options.builds[str(name)])
        _check_image(service, (originals.get(name) or {}).get("image"), path, where, lookup)
        _healthcheck(service, path, where, result.warnings)
    return result


def _enabled(service: dict[str, Any], profiles: tuple[str, ...]) -> bool:
    listed = service.get("profiles")
    return not listed or not isinstance(listed, list) or any(str(item) in profiles for item in listed)


def _merge_env_file(service: dict[str, Any], path: str, where: str, tree: TreeReader, lookup: Lookup,
                    missing: list[str]) -> None:
    """``env_file`` values, with ``environment`` on top (Compose's order)."""
    from_files = env_file_values(tree, path, where, service.pop("env_file"), lookup, missing)
    try:
        environment = values.environment_map(service.get("environment"), lambda key: lookup(key) or from_files.get(key))
    except ValueError as exc:
        raise problem(path, f"{where}.environment", str(exc)) from exc
    service["environment"] = {**from_files, **environment}


def _check_image(service: dict[str, Any], original: Any, path: str, where: str, lookup: Lookup) -> None:
    """A service that runs an image needs one: ``image: ${WEB_IMAGE}`` (Uffizzi's CI built it earlier) with the
    variable unset is an error naming the variable and the two fixes."""
    if service.get("build") is not None or service.get("image"):
        image = service.get("image")
        if service.get("build") is None and isinstance(original, str) and "$" in original:
            unset: list[str] = []
            substitute(original, lookup, unset)
            if unset:
                raise _image_problem(path, where, original, unset)
        if image is not None and not isinstance(image, str):
            raise problem(path, f"{where}.image", "must be a string")
        return
    if isinstance(original, str) and "$" in original:
        unset = []
        substitute(original, lookup, unset)
        raise _image_problem(path, where, original, unset or re.findall(r"[A-Za-z_][A-Za-z0-9_]*", original)[:1])
    raise problem(path, f"{where}.image", "a service needs an image or a build (or config preview.builds."
                  f"{where.removeprefix('services.')} = {{context = \".\"}})")


def _image_problem(path: str, where: str, original: str, unset: list[str]) -> SpecError:
    name = where.removeprefix("services.")
    names = list(dict.fromkeys(unset))
    variables = ", ".join(names)
    verb = "is" if len(names) == 1 else "are"
    return problem(path, f"{where}.image", f"{original} needs {variables}, which {verb} not set (an earlier CI job "
                   f"built this image?). Set {variables} in config preview.variables to an image the cluster can "
                   f"pull, or build it from the pull request with config preview.builds.{name} = "
                   "{context = \".\", dockerfile = \"Dockerfile\"}")


def _healthcheck(service: dict[str, Any], path: str, where: str, warnings: list[str]) -> None:
    """A healthcheck without ``test`` keeps the image's own HEALTHCHECK in Compose; Kubernetes ignores that one,
    so there is no probe (a warning when the check set timings that are thereby lost)."""
    check = service.get("healthcheck")
    if not isinstance(check, dict) or "test" in check or check.get("disable"):
        return
    del service["healthcheck"]
    timings = sorted(str(key) for key in check if key != "disable")
    if timings:
        warnings.append(f"{path}: {where}.healthcheck has no test (the image's HEALTHCHECK is not used in "
                        f"Kubernetes): {', '.join(timings)} ignored")


def _uffizzi(raw: dict[str, Any], path: str, result: Prepared) -> None:
    """Uffizzi's documented top-level ``x-uffizzi-ingress`` and the ``x-uffizzi`` keys prdeck reads or names."""
    block = raw.get("x-uffizzi")
    if "x-uffizzi-ingress" in raw and not (isinstance(block, dict) and "ingress" in block):
        block = {**(block if isinstance(block, dict) else {}), "ingress": raw["x-uffizzi-ingress"]}
        raw["x-uffizzi"] = block
    if "x-prdeck" in raw or not isinstance(block, dict):
        return
    for key in sorted(str(key) for key in set(block) - UFFIZZI_KEYS):
        result.warnings.append(f"{path}: x-uffizzi.{key} is not supported (ignored)")
    if "continuous_previews" in block:
        result.warnings.append(f"{path}: x-uffizzi.continuous_previews has no effect: prdeck launches a preview "
                               "when you ask for one")
    if "delete_preview_after" in block:
        after = block["delete_preview_after"]
        try:
            seconds = values.duration_seconds(after)
        except ValueError as exc:
            raise problem(path, "x-uffizzi.delete_preview_after", f"{exc} (e.g. 72h)") from exc
        if not 3600 <= seconds <= MAX_TTL_HOURS * 3600:
            raise problem(path, "x-uffizzi.delete_preview_after", f"{after!r}: from 1h to {MAX_TTL_HOURS}h")
        result.ttl = timedelta(seconds=seconds)
