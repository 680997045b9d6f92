"""A scrolling view of log lines that renders only what is on screen (Textual's line API).

Lines arrive in batches (see the logs screen); each visible line is turned into a Strip once per setting and
cached, so a burst of thousands of lines costs a buffer append and a repaint of one screenful.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from prdeck.services.models import LogLine
from prdeck.tui.view.log_buffer import LogBuffer, Wrapping
from prdeck.tui.view.safe_text import printable

PREFIX_COLORS = ("cyan", "magenta", "green", "yellow", "blue", "bright_cyan", "bright_magenta", "bright_green")
MATCH_STYLE = "black on yellow"
CURRENT_STYLE = "bold white on blue"
"""The current match stands apart from the others (black on yellow) in hue, not only in shade."""


class LogView(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LogView { background: $surface; }
    """
    BINDINGS = [
        Binding("j,down", "scroll_down", "Down", show=False),
        Binding("k,up", "scroll_up", "Up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("left,h", "scroll_left", "Left", show=False),
        Binding("right,l", "scroll_right", "Right", show=False),
    ]

    def __init__(self, max_lines: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.buffer = LogBuffer(max_lines)
        self.follow = True
        self.wrap = False
        self.timestamps = False
        self.show_prefix = True
        self.query_text = ""
        self.current_match: int | None = None
        self._strips: dict[int, Strip] = {}
        self._wrapping = Wrapping()
        self._widest = 0
        self._colors: dict[str, str] = {}
        self._matches: tuple[tuple[str, int, int], list[int]] | None = None

    @property
    def matches(self) -> list[int]:
        """Lines matching the search, found again only when the query or the buffer changed."""
        state = (self.query_text, self.buffer.first, len(self.buffer))
        if self._matches is None or self._matches[0] != state:
            self._matches = (state, self.buffer.matches(self.query_text))
        return self._matches[1]

    @property
    def match_count(self) -> int:
        return len(self.matches)

    # content ------------------------------------------------------------------------------------------
    def add(self, lines: Iterable[LogLine]) -> None:
        before = self.buffer.first
        added = self.buffer.extend(lines)
        if not added:
            return
        if self.buffer.first != before:
            self._strips = {n: s for n, s in self._strips.items() if n >= self.buffer.first}
        self._relayout()
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def reset(self) -> None:
        self.buffer.clear()
        self._strips.clear()
        self.current_match = None
        self._relayout()

    def settings_changed(self) -> None:
        self._strips.clear()
        self._relayout()
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _relayout(self) -> None:
        width = self.scrollable_content_region.width or 80
        if self.wrap:
            height = self._wrapping.rebuild(self.buffer, width, timestamps=self.timestamps, prefix=self.show_prefix)
            self.virtual_size = Size(width, height)
        else:
            for line in list(self.buffer.lines)[-200:]:
                self._widest = max(self._widest, len(line.text) + 64)
            self.virtual_size = Size(self._widest, len(self.buffer))
        self.refresh()

    def on_resize(self) -> None:
        if self.wrap:
            self._relayout()

    # search -------------------------------------------------------------------------------------------
    def visible_lines(self) -> tuple[int, int]:
        """Absolute numbers of the first and last line (partly) on screen."""
        top_row = round(self.scroll_y)
        bottom_row = top_row + max(self.scrollable_content_region.height, 1) - 1
        if self.wrap:
            top, bottom = self._wrapping.locate(top_row)[0], self._wrapping.locate(bottom_row)[0]
        else:
            top, bottom = top_row, bottom_row
        last = self.buffer.first + len(self.buffer) - 1
        return self.buffer.first + top, min(self.buffer.first + bottom, last)

    def scroll_to_line(self, number: int) -> None:
        index = number - self.buffer.first
        row = self._wrapping.row_of(index) if self.wrap else index
        self.scroll_to(y=max(row - self.scrollable_content_region.height // 2, 0), animate=False, immediate=True)
        self.refresh()

    # rendering ----------------------------------------------------------------------------------------
    def _color(self, prefix: str) -> str:
        if prefix not in self._colors:
            self._colors[prefix] = PREFIX_COLORS[len(self._colors) % len(PREFIX_COLORS)]
        return self._colors[prefix]

    def line_text(self, number: int, line: LogLine) -> Text:
        text = Text(no_wrap=True, end="")
        if self.timestamps:
            text.append(line.timestamp + " ", style="dim")
        if self.show_prefix:
            text.append(f"[{line.prefix}] ", style=self._color(line.prefix))
        body = Text(printable(line.text), end="")
        if self.query_text:
            style = CURRENT_STYLE if number == self.current_match else MATCH_STYLE
            body.highlight_words([self.query_text], style=style, case_sensitive=False)
        text.append_text(body)
        return text

    def _strip(self, number: int) -> Strip:
        strip = self._strips.get(number)
        if strip is None:
            line = self.buffer.line(number)
            if line is None:
                return Strip.blank(0)
            segments = list(self.line_text(number, line).render(self.app.console))
            strip = Strip([s for s in segments if s.text != "\n"])
            if len(self._strips) > 4000:
                self._strips.clear()
            self._strips[number] = strip
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        row = scroll_y + y
        base = Style.from_color(bgcolor=None)
        if self.wrap:
            index, part = self._wrapping.locate(row)
            if index >= len(self.buffer):
                return Strip.blank(width)
            strip = self._strip(self.buffer.first + index).crop(part * width, (part + 1) * width)
        else:
            if row >= len(self.buffer):
                return Strip.blank(width)
            strip = self._strip(self.buffer.first + row).crop(scroll_x, scroll_x + width)
        return strip.extend_cell_length(width, base).apply_style(self.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
