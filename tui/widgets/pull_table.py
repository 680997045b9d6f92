"""The main table: one row per pull request, keyed by ``owner/name#number``, drawn with Textual's line API.

Only rows on screen are rendered. A row's line is built the first time it scrolls into view and kept until
its pull request, its age text or the layout changes. Column widths come from the pull requests' plain values
(see :func:`prdeck.tui.view.pull_cells.table_layout`), so showing 1,000 rows, or a new page of them, builds
no cell that is not on screen, and a refresh repaints only what is on screen.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from prdeck.services.deck import Row
from prdeck.tui.view.pull_cells import CELL_PADDING, age_of, column_specs, row_cells, table_layout, table_line

HEADER_HEIGHT = 1
MARK = "✓"
CACHED_LINES = 4000


class PullTable(ScrollView, can_focus=True):
    """Pull requests by key, with a row cursor that stays on the same pull request across refreshes."""

    COMPONENT_CLASSES = {"pull-table--header", "pull-table--cursor", "pull-table--even-row"}
    DEFAULT_CSS = """
    PullTable {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .pull-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .pull-table--header { background-tint: $foreground 5%; }
        }
        & > .pull-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .pull-table--header { background: ansi_bright_blue; color: ansi_default; }
        & > .pull-table--even-row { background: $surface-lighten-1 50%; }
        &:dark > .pull-table--even-row { background: $surface-darken-1 40%; }
        & > .pull-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    BINDINGS = [
        Binding("enter", "select", "Details", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home,g", "first", "Top", show=False),
        Binding("end,G", "last", "Bottom", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
    ]

    class RowSelected(Message):
        """Enter on a row, or a click on the row under the cursor."""

        def __init__(self, table: PullTable, cursor_row: int, row_key: str) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> PullTable:
            return self.table

    class CursorMoved(Message):
        """The cursor moved to another pull request (keys, mouse, paging)."""

        def __init__(self, table: PullTable, row_key: str) -> None:
            super().__init__()
            self.table = table
            self.row_key = row_key

        @property
        def control(self) -> PullTable:
            return self.table

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._rows: list[Row] = []
        self._index: dict[str, int] = {}
        self._now = datetime.now(UTC)
        self._with_repo = False
        self._short_repo = False
        self._cursor = 0
        self._columns: tuple[tuple[str, str], ...] = ()
        self._layout = "normal"
        self._widths: tuple[int, ...] = ()
        self._laid_out_for: int | None = None
        self._header: Strip | None = None
        self._lines: dict[str, tuple[Row, str, Strip]] = {}
        self.empty_text = ""
        """Shown when there is no row (set by the screen: no open pull request, or none matches the filter)."""
        self._marked: frozenset[str] = frozenset()

    # reading ------------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def selected_key(self) -> str | None:
        return self._rows[self._cursor].key if self._rows else None

    @property
    def keys(self) -> list[str]:
        """The keys of the rows, top to bottom."""
        return [row.key for row in self._rows]

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """``(key, label)`` of each column shown, left to right."""
        return self._columns

    @property
    def layout_name(self) -> str:
        """``wide``, ``normal`` or ``compact`` (see :data:`prdeck.tui.view.pull_cells.LAYOUTS`)."""
        return self._layout

    def get_row_index(self, key: str) -> int:
        """The position of the row ``key``; KeyError when it is not shown."""
        return self._index[key]

    def get_cell(self, key: str, column: str) -> Text:
        """The full (not cut to fit) cell of row ``key`` in ``column``, as it is drawn."""
        row = self._rows[self._index[key]]
        cells = self._cells(row, age_of(row, self._now))
        return cells[[name for name, _ in self._columns].index(column)]

    @property
    def marked(self) -> frozenset[str]:
        """The keys of the marked rows (see :meth:`mark`)."""
        return self._marked

    def mark(self, keys: frozenset[str]) -> None:
        """Draw ``MARK`` at the start of these rows (the bulk actions' selection), and no other."""
        changed, self._marked = self._marked ^ keys, keys
        for key in changed:
            self._lines.pop(key, None)
        self.refresh()

    # showing ------------------------------------------------------------------------------------------
    def show(self, rows: list[Row], now: datetime, *, with_repo: bool) -> None:
        """Show ``rows`` in order; the cursor stays on its pull request and the scroll position is kept."""
        selected = self.selected_key
        self._rows = list(rows)
        self._index = {row.key: index for index, row in enumerate(self._rows)}
        self._now = now
        short_repo = len({row.pull.repo.identity[0] for row in rows}) == 1
        if (with_repo, short_repo) != (self._with_repo, self._short_repo):
            self._with_repo, self._short_repo = with_repo, short_repo
            self._lines.clear()
        self._relayout()
        if selected is not None and selected in self._index:
            self._cursor = self._index[selected]
        else:
            self._cursor = max(min(self._cursor, len(self._rows) - 1), 0)
        self._scroll_to_cursor()
        self.refresh()

    def on_resize(self) -> None:
        self._relayout()

    def _relayout(self) -> None:
        """Fit the columns to the width: the preview state first, the title takes what the others leave."""
        available = self.scrollable_content_region.width
        layout = table_layout(self._rows, available, with_repo=self._with_repo, now=self._now,
                              short_repo=self._short_repo)
        columns, widths = column_specs(layout.columns), layout.widths
        self._layout = layout.name
        self._laid_out_for = available
        if (columns, widths) != (self._columns, self._widths):
            self._columns, self._widths = columns, widths
            self._lines.clear()
            self._header = None
        total = sum(width + 2 * CELL_PADDING for width in widths)
        self.virtual_size = Size(total, len(self._rows) + HEADER_HEIGHT)

    @property
    def laid_out(self) -> bool:
        """Whether the columns fit the current width (a scrollbar coming or going changes it)."""
        return self._laid_out_for == self.scrollable_content_region.width

    # cursor -------------------------------------------------------------------------------------------
    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on ``row`` (clamped), scrolling it into view unless ``scroll`` is False."""
        del animate  # moves are never animated: a cursor that lags behind the keys feels slow
        if not self._rows:
            return
        previous, self._cursor = self._cursor, max(min(row, len(self._rows) - 1), 0)
        if previous != self._cursor:
            self.post_message(self.CursorMoved(self, self._rows[self._cursor].key))
        if scroll:
            self._scroll_to_cursor()
        self.refresh_lines(previous + HEADER_HEIGHT)
        self.refresh_lines(self._cursor + HEADER_HEIGHT)

    def _visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - HEADER_HEIGHT, 1)

    def _scroll_to_cursor(self) -> None:
        top, shown = round(self.scroll_y), self._visible_rows()
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + shown:
            self.scroll_to(y=self._cursor - shown + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_page_down(self) -> None:
        self._page(self._visible_rows())

    def action_page_up(self) -> None:
        self._page(-self._visible_rows())

    def _page(self, rows: int) -> None:
        """Move the cursor a screenful and the view with it, so the cursor keeps its place on screen."""
        self.scroll_to(y=self.scroll_y + rows, animate=False, immediate=True)
        self.move_cursor(row=self._cursor + rows)

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    def action_select(self) -> None:
        if self._rows:
            self.post_message(self.RowSelected(self, self._cursor, self._rows[self._cursor].key))

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor to the row; a click on the cursor's row selects it (as Enter does)."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < HEADER_HEIGHT:
            return
        index = round(self.scroll_y) + offset.y - HEADER_HEIGHT
        if index >= len(self._rows):
            return
        if index == self._cursor:
            self.action_select()
        else:
            self.move_cursor(row=index)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # rendering ----------------------------------------------------------------------------------------
    def _cells(self, row: Row, age: str) -> tuple[Text, ...]:
        return row_cells(row, age, [key for key, _ in self._columns], short_repo=self._short_repo)

    def _row_strip(self, row: Row) -> Strip:
        age = age_of(row, self._now)
        cached = self._lines.get(row.key)
        if cached is not None and cached[1] == age and cached[0] == row:
            return cached[2]
        line = table_line(self._cells(row, age), self._widths)
        if row.key in self._marked and CELL_PADDING:  # the glyph takes the first cell's leading space
            line = Text.assemble((MARK, "bold yellow"), line[1:], no_wrap=True, end="")
        strip = Strip(line.render(self.app.console), line.cell_len)
        if len(self._lines) >= CACHED_LINES:
            self._lines.clear()
        self._lines[row.key] = (row, age, strip)
        return strip

    def _header_strip(self) -> Strip:
        if self._header is None:
            line = table_line([Text(label) for _, label in self._columns], self._widths)
            self._header = Strip(line.render(self.app.console), line.cell_len)
        return self._header

    def render_line(self, y: int) -> Strip:
        if not self.laid_out:
            self._relayout()
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y < HEADER_HEIGHT:
            strip, style = self._header_strip(), base + self.get_component_rich_style("pull-table--header")
            post = None
        else:
            index = scroll_y + y - HEADER_HEIGHT
            if not self._rows and index == 1 and self.empty_text:
                line = Text(f"  {self.empty_text}", style="dim italic", no_wrap=True, end="")
                line.truncate(width, pad=True)
                return Strip(line.render(self.app.console), width).apply_style(base)
            if index >= len(self._rows):
                return Strip.blank(width, base)
            strip = self._row_strip(self._rows[index])
            style = base
            if index % 2 == 0:
                style += self.get_component_rich_style("pull-table--even-row")
            post = None
            if index == self._cursor:
                cursor = self.get_component_rich_style("pull-table--cursor")
                style += cursor
                post = Style.from_color(color=cursor.color)  # the cursor's colour wins over the cells'
        strip = strip.crop(scroll_x, scroll_x + width).extend_cell_length(width)
        return Strip(Segment.apply_style(strip, style, post), width)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()
        self._header = None
