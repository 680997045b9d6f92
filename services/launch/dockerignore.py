""".dockerignore matching that a pull request cannot turn into a hang.

docker-py's ``PatternMatcher`` compiles each pattern to a backtracking regular expression: a 25-byte pattern such as
``*a*a*a*a*a*a*a*a*a*a*a*a*b`` takes minutes against one 40-character file name, and the build step would hang.
This matcher has the same rules (Docker's: ``*`` and ``?`` stay within a path segment, ``**`` spans segments,
``[...]`` classes (``!``/``^`` negate; never ``/``), ``!`` exceptions, the last matching pattern wins, a pattern
that matches a directory matches what is under it; a ``**`` inside a segment counts as ``*``) but matches a segment
in time proportional to pattern length x name length, and a path by dynamic programming over segments. The file
itself is bounded too.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass

MAX_PATTERNS = 1000
MAX_PATTERN_CHARACTERS = 1024

_STAR = "*"
Token = str | Callable[[str], bool]
"""A segment pattern token: ``"*"``, or a test of one character (a literal, ``?`` or a class)."""


@dataclass(frozen=True)
class _Pattern:
    segments: tuple[tuple[Token, ...] | None, ...]
    """One entry per path segment; None is ``**`` (any number of segments)."""
    exclusion: bool


def parse(text: str) -> list[str]:
    """The patterns of a .dockerignore: one a line, comments and blank lines dropped; ValueError when too many."""
    patterns = [line.strip() for line in text.splitlines()]
    patterns = [line for line in patterns if line and not line.startswith("#")]
    if len(patterns) > MAX_PATTERNS:
        raise ValueError(f".dockerignore has {len(patterns):,} patterns; at most {MAX_PATTERNS:,} are read")
    too_long = next((line for line in patterns if len(line) > MAX_PATTERN_CHARACTERS), None)
    if too_long is not None:
        raise ValueError(f".dockerignore has a pattern of {len(too_long):,} characters; at most "
                         f"{MAX_PATTERN_CHARACTERS:,}")
    return patterns


class DockerIgnore:
    """Which paths of a build context a .dockerignore excludes (``.dockerignore`` itself is always sent)."""

    def __init__(self, patterns: list[str]) -> None:
        self._patterns = [compiled for compiled in map(_compile, patterns) if compiled.segments]

    def excludes(self, path: str) -> bool:
        parts = [part for part in path.split("/") if part and part != "."]
        if parts == [".dockerignore"]:
            return False
        excluded = False
        for pattern in self._patterns:
            if _path_matches(pattern.segments, parts) or (
                len(pattern.segments) < len(parts) and _path_matches(pattern.segments, parts[: len(pattern.segments)])
            ):
                excluded = not pattern.exclusion
        return excluded


def _compile(text: str) -> _Pattern:
    exclusion = text.startswith("!")
    cleaned = posixpath.normpath("/" + text[1:] if exclusion else "/" + text).strip("/")
    parts = [] if cleaned in ("", ".") else cleaned.split("/")
    return _Pattern(tuple(None if part == "**" else _tokens(part) for part in parts), exclusion)


def _tokens(segment: str) -> tuple[Token, ...]:
    tokens: list[Token] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        index += 1
        if char == "*":
            if not tokens or tokens[-1] != _STAR:
                tokens.append(_STAR)
        elif char == "?":
            tokens.append(_any_character)
        elif char == "[" and _class_end(segment, index) > 0:
            end = _class_end(segment, index)
            tokens.append(_character_class(segment[index:end]))
            index = end + 1
        elif char == "\\" and index < len(segment):
            tokens.append(_literal(segment[index]))
            index += 1
        else:
            tokens.append(_literal(char))
    return tuple(tokens)


def _class_end(segment: str, start: int) -> int:
    """Where the class opened before ``start`` closes (a leading ``]``, after ``!``/``^``, is a member); -1 if never."""
    first = start + 1 if segment[start:start + 1] in ("!", "^") else start
    return segment.find("]", first + 1 if segment[first:first + 1] == "]" else first)


def _any_character(char: str) -> bool:
    return True


def _literal(expected: str) -> Callable[[str], bool]:
    return lambda char: char == expected


def _character_class(body: str) -> Callable[[str], bool]:
    negated = body[:1] in ("!", "^")
    body = body[1:] if negated else body
    ranges: list[tuple[str, str]] = []
    index = 0
    while index < len(body):
        if index + 2 < len(body) and body[index + 1] == "-":
            ranges.append((body[index], body[index + 2]))
            index += 3
        else:
            ranges.append((body[index], body[index]))
            index += 1
    return lambda char: any(low <= char <= high for low, high in ranges) != negated


def _segment_matches(tokens: tuple[Token, ...], name: str) -> bool:
    """Wildcard matching with one remembered star: at most len(tokens) x len(name) steps, never exponential."""
    token = position = 0
    star, mark = -1, 0
    while position < len(name):
        if token < len(tokens) and tokens[token] == _STAR:
            star, mark = token, position
            token += 1
        elif token < len(tokens) and tokens[token](name[position]):  # type: ignore[operator]
            token += 1
            position += 1
        elif star >= 0:
            token, mark = star + 1, mark + 1
            position = mark
        else:
            return False
    while token < len(tokens) and tokens[token] == _STAR:
        token += 1
    return token == len(tokens)


def _path_matches(segments: tuple[tuple[Token, ...] | None, ...], parts: list[str]) -> bool:
    """Segments against path parts; ``**`` (None) takes any number of parts. Dynamic programming, from the end:
    len(segments) x len(parts) segment matches at most."""
    rows, columns = len(segments), len(parts)
    after = [False] * columns + [True]  # the row past the last segment: matches only the end of the path
    for row in range(rows - 1, -1, -1):
        current = [False] * (columns + 1)
        segment = segments[row]
        for column in range(columns, -1, -1):
            if segment is None and row == rows - 1:  # a last ``**`` takes one part or more, as in Docker
                current[column] = column < columns
            elif segment is None:
                current[column] = after[column] or (column < columns and current[column + 1])
            else:
                current[column] = column < columns and after[column + 1] and _segment_matches(segment, parts[column])
        after = current
    return after[0]
