"""``.env`` and ``env_file:`` files, read as Compose reads them.

``KEY=value`` lines (an ``export`` prefix allowed), ``#`` comments, blank lines; unquoted values are trimmed and lose
an inline `` #comment``; ``'single'`` quotes are literal; ``"double"`` quotes may span lines and know ``\\n``,
``\\t``, ``\\"``, ``\\\\``. Unquoted and double-quoted values are interpolated from the keys above them, then the
lookup (which holds only what the caller allows). A bare ``KEY`` takes its value from the lookup, or is skipped.
"""

from __future__ import annotations

import re

from prdeck.services.launch.compose_interpolate import Lookup, substitute

_KEY = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*(=|$)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$$"}


def parse_dotenv(text: str, lookup: Lookup, missing: list[str]) -> dict[str, str]:
    """The variables of a dotenv file; ValueError with the line number when a line is not ``KEY=value``."""
    result: dict[str, str] = {}

    def known(name: str) -> str | None:
        return result[name] if name in result else lookup(name)

    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line, number = lines[index], index + 1
        index += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _KEY.match(line)
        if match is None:
            raise ValueError(f"line {number}: not KEY=value")
        key = match.group(1)
        if not match.group(2):
            value = lookup(key)
            if value is not None:
                result[key] = value
            continue
        raw = line[match.end():].lstrip()
        if raw.startswith("'"):
            end = raw.find("'", 1)
            if end < 0:
                raise ValueError(f"line {number}: the ' quote of {key} is not closed")
            result[key] = raw[1:end]
        elif raw.startswith('"'):
            parts = [raw[1:]]
            while (end := _closing_quote(parts[-1])) < 0:  # each line is scanned once: linear in the file
                if index >= len(lines):
                    raise ValueError(f'line {number}: the " quote of {key} is not closed')
                parts.append(lines[index])
                index += 1
            body = "\n".join([*parts[:-1], parts[-1][:end]])
            result[key] = _interpolated(_unescaped(body), known, missing)
        else:
            result[key] = _interpolated(re.split(r"\s+#", raw, maxsplit=1)[0].strip(), known, missing)
    return result


def _closing_quote(body: str) -> int:
    escaped = False
    for position, char in enumerate(body):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return position
    return -1


def _unescaped(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body)


def _interpolated(value: str, lookup: Lookup, missing: list[str]) -> str:
    try:
        return substitute(value, lookup, missing)
    except ValueError as exc:
        if str(exc).startswith("variable "):  # ${VAR:?message}
            raise
        return value  # compose-go's dotenv keeps a lone "$" (a password's) as it is
