"""The logs screen's model: a bounded buffer of lines, search matches, and how lines wrap (pure, no widgets)."""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable

from rich.cells import cell_len

from prdeck.services.models import LogLine
from prdeck.tui.view.safe_text import printable


class LogBuffer:
    """The newest ``max_lines`` lines; absolute numbers keep counting so a line keeps its identity."""

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self.lines: deque[LogLine] = deque(maxlen=max_lines)
        self.first = 0
        """Absolute number of ``lines[0]``."""
        self.dropped = 0

    def __len__(self) -> int:
        return len(self.lines)

    def extend(self, lines: Iterable[LogLine]) -> int:
        before = self.first + len(self.lines)
        for line in lines:
            if len(self.lines) == self.max_lines:
                self.first += 1
                self.dropped += 1
            self.lines.append(line)
        return self.first + len(self.lines) - before

    def clear(self) -> None:
        self.first += len(self.lines)
        self.lines.clear()

    def line(self, number: int) -> LogLine | None:
        index = number - self.first
        return self.lines[index] if 0 <= index < len(self.lines) else None

    def matches(self, query: str) -> list[int]:
        """Absolute numbers of lines containing ``query`` (case-insensitive)."""
        if not query:
            return []
        wanted = query.casefold()
        return [self.first + i for i, line in enumerate(self.lines) if wanted in line.text.casefold()]


def next_match(matches: list[int], current: int | None, forward: bool) -> int | None:
    """The match after (or before) ``current``, wrapping around; None without matches."""
    if not matches:
        return None
    if current is None:
        return matches[-1] if not forward else matches[0]
    if forward:
        index = bisect.bisect_right(matches, current)
        return matches[index % len(matches)]
    index = bisect.bisect_left(matches, current) - 1
    return matches[index % len(matches)]


def step_match(matches: list[int], current: int | None, top: int, bottom: int, forward: bool) -> int | None:
    """What n (``forward``) or N jumps to, with lines ``top``..``bottom`` on screen.

    From the current match while it is on screen; otherwise from the screen itself: n finds the first match at
    or below the top line, N the last at or above the bottom line (so scrolling home then n finds the first).
    """
    if not matches:
        return None
    if current is not None and top <= current <= bottom:
        return next_match(matches, current, forward)
    return next_match(matches, top - 1, True) if forward else next_match(matches, bottom + 1, False)


def match_position(matches: list[int], current: int | None) -> int | None:
    """1-based position of ``current`` among ``matches`` (the 3 of "3/12"); None when it is not one."""
    if current is None:
        return None
    index = bisect.bisect_left(matches, current)
    return index + 1 if index < len(matches) and matches[index] == current else None


def display_width(line: LogLine, *, timestamps: bool, prefix: bool) -> int:
    width = cell_len(printable(line.text))
    if timestamps:
        width += len(line.timestamp) + 1
    if prefix:
        width += len(line.prefix) + 3
    return width


class Wrapping:
    """Maps screen rows to (line, part) when long lines wrap; rebuilt when lines or width change."""

    def __init__(self) -> None:
        self.starts: list[int] = [0]

    def rebuild(self, buffer: LogBuffer, width: int, *, timestamps: bool, prefix: bool) -> int:
        starts = [0]
        total = 0
        width = max(width, 1)
        for line in buffer.lines:
            total += max(1, -(-display_width(line, timestamps=timestamps, prefix=prefix) // width))
            starts.append(total)
        self.starts = starts
        return total

    def locate(self, row: int) -> tuple[int, int]:
        """(index into the buffer, part of that line) for a screen row."""
        index = bisect.bisect_right(self.starts, row) - 1
        return index, row - self.starts[index]

    def row_of(self, index: int) -> int:
        return self.starts[min(index, len(self.starts) - 1)]
