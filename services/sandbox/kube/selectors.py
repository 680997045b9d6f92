"""Label and field selectors, parsed the way the API server parses ``labelSelector`` / ``fieldSelector``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from prdeck.services.sandbox.kube.errors import KubeError

Matcher = Callable[[dict[str, Any]], bool]
_SET = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([A-Za-z0-9./_-]+)\s*$")


Labels = dict[str, str]


def _member(key: str, values: set[str], wanted: bool) -> Callable[[Labels], bool]:
    return lambda labels: (labels.get(key) in values) == wanted


def _equal(key: str, value: str, wanted: bool) -> Callable[[Labels], bool]:
    return lambda labels: (labels.get(key) == value) == wanted


def _exists(key: str, wanted: bool) -> Callable[[Labels], bool]:
    return lambda labels: (key in labels) == wanted


def _field_equal(path: str, value: str, wanted: bool) -> Matcher:
    return lambda obj: ((_field(obj, path) or "") == value) == wanted


def _split(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part for part in parts if part.strip()]


def label_matcher(selector: str | None) -> Callable[[dict[str, str]], bool]:
    """A predicate over a labels dict; a bad selector is a 400 like the API server's."""
    if not selector:
        return lambda labels: True
    tests: list[Callable[[dict[str, str]], bool]] = []
    for requirement in _split(selector):
        if match := _SET.match(requirement):
            key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
            tests.append(_member(key, values, wanted=op == "in"))
        elif match := _EQ.match(requirement):
            key, op, value = match.groups()
            tests.append(_equal(key, value, wanted=op != "!="))
        elif match := _EXISTS.match(requirement):
            negate, key = match.group(1) == "!", match.group(2)
            tests.append(_exists(key, wanted=not negate))
        else:
            raise KubeError(
                400,
                f"unable to parse requirement: found '{requirement.strip()}', expected: in, notin, =, ==, !=, gt, lt",
            )
    return lambda labels: all(test(labels) for test in tests)


def _field(obj: dict[str, Any], path: str) -> str | None:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return None if value is None else str(value)


def field_matcher(selector: str | None) -> Matcher:
    """Equality-based field selectors (``metadata.name=x``, ``involvedObject.name=y``, ``status.phase!=Running``)."""
    if not selector:
        return lambda obj: True
    tests: list[Matcher] = []
    for requirement in _split(selector):
        match = re.match(r"^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$", requirement)
        if match is None:
            raise KubeError(400, f'invalid field selector: "{requirement.strip()}"')
        path, op, value = match.groups()
        tests.append(_field_equal(path, value, wanted=op != "!="))
    return lambda obj: all(test(obj) for test in tests)
