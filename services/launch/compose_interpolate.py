"""Compose's interpolation, as its reference implementation (compose-go) does it.

``${VAR}``, ``$VAR``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``,
``${VAR:+replacement}``, ``${VAR+replacement}`` and ``$$``; defaults and replacements may themselves hold
``${...}`` (``${A:-x${B:-y}}``). Values only, never keys. After interpolation, the values Compose types (a
healthcheck's ``retries``, ``disable``, a port's ``target``...) are cast from strings, as compose-go's cast table
does, so ``retries: ${RETRIES}`` is the number 3.

The lookup holds only what the caller allows (README, "Security model"): never prdeck's environment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Lookup = Callable[[str], str | None]
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class InterpolationError(ValueError):
    """A value that cannot be interpolated or cast; ``key`` is its dotted path in the compose file."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


MAX_NESTING = 20
"""Defaults inside defaults a value may nest (real files nest two or three); deeper is refused, not recursed."""


def substitute(text: str, lookup: Lookup, missing: list[str], depth: int = 0) -> str:
    """``text`` with every variable replaced; unset ones without a default become "" and are added to
    ``missing``. ValueError for a lone ``$``, an unclosed ``${`` or a ``${VAR:?message}`` whose VAR is unset."""
    if depth > MAX_NESTING:
        raise ValueError(f"invalid interpolation: defaults nest more than {MAX_NESTING} levels deep")
    out: list[str] = []
    index = 0
    while (dollar := text.find("$", index)) >= 0:
        out.append(text[index:dollar])
        rest = text[dollar + 1:]
        if rest.startswith("$"):
            out.append("$")
            index = dollar + 2
        elif rest.startswith("{"):
            end = _closing_brace(text, dollar)
            if end < 0:
                raise ValueError(f"invalid interpolation in {text!r}: ${{ without a closing }}")
            out.append(_braced(text[dollar + 2:end], text, lookup, missing, depth))
            index = end + 1
        elif match := _NAME.match(rest):
            out.append(_value(match.group(), lookup, missing))
            index = dollar + 1 + match.end()
        else:
            raise ValueError(f"invalid interpolation in {text!r} (write $$ for a literal $)")
    out.append(text[index:])
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    """The ``}`` closing the ``${`` at ``start``: each ``${`` opens a level, each ``}`` closes one (compose-go)."""
    depth, index = 0, start
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _braced(inner: str, text: str, lookup: Lookup, missing: list[str], depth: int) -> str:
    match = _NAME.match(inner)
    if match is None:
        raise ValueError(f"invalid interpolation in {text!r}: ${{{inner}}} does not start with a variable name")
    name, tail = match.group(), inner[match.end():]
    if not tail:
        return _value(name, lookup, missing)
    operator = next((op for op in _OPERATORS if tail.startswith(op)), None)
    if operator is None:
        raise ValueError(f"invalid interpolation in {text!r}: unknown modifier in ${{{inner}}}")
    argument = tail[len(operator):]
    value = lookup(name)
    unset = value is None or (operator.startswith(":") and value == "")
    if operator.endswith("-"):
        return substitute(argument, lookup, missing, depth + 1) if unset else str(value)
    if operator.endswith("?"):
        if unset:
            reason = substitute(argument, lookup, missing, depth + 1)
            raise ValueError(f"variable {name} is required: {reason or 'not set'}")
        return str(value)
    return "" if unset else substitute(argument, lookup, missing, depth + 1)


def _value(name: str, lookup: Lookup, missing: list[str]) -> str:
    value = lookup(name)
    if value is None:
        missing.append(name)
        return ""
    return value


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("y", "yes", "true", "on"):
        return True
    if lowered in ("n", "no", "false", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r} (true or false)")


def _integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"not a whole number: {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None


_CASTS: tuple[tuple[tuple[str, ...], Callable[[str], Any]], ...] = (
    (("healthcheck", "retries"), _integer),
    (("healthcheck", "disable"), _boolean),
    (("ports", "[]", "target"), _integer),
    (("ports", "[]", "published"), str),
    (("cpus",), _number),
    (("deploy", "replicas"), _integer),
    (("deploy", "resources", "limits", "pids"), _integer),
    (("init",), _boolean),
    (("privileged",), _boolean),
    (("read_only",), _boolean),
    (("stdin_open",), _boolean),
    (("tty",), _boolean),
    (("oom_kill_disable",), _boolean),
    (("volumes", "[]", "read_only"), _boolean),
    (("configs", "[]", "mode"), _integer),
    (("secrets", "[]", "mode"), _integer),
)
"""compose-go's cast table (services.<name>.<path>): a string at one of these paths becomes the typed value."""


def interpolate_tree(value: Any, lookup: Lookup, missing: list[str], path: tuple[str, ...] = ()) -> Any:
    """:func:`substitute` applied to every string value of a parsed compose document, then cast where Compose
    types the value. Errors are :class:`InterpolationError` naming the key."""
    if isinstance(value, str):
        key = ".".join(part for part in path if part != "[]")
        try:
            text = substitute(value, lookup, missing)
            cast = _cast_for(path)
            return cast(text) if cast is not None else text
        except ValueError as exc:
            raise InterpolationError(key, str(exc)) from None
    if isinstance(value, list):
        return [interpolate_tree(item, lookup, missing, (*path, "[]")) for item in value]
    if isinstance(value, dict):
        return {key: interpolate_tree(item, lookup, missing, (*path, str(key))) for key, item in value.items()}
    return value


def _cast_for(path: tuple[str, ...]) -> Callable[[str], Any] | None:
    if len(path) < 3 or path[0] != "services":
        return None
    rest = path[2:]
    return next((cast for pattern, cast in _CASTS if pattern == rest), None)
