"""The main table: one row per pull request, keyed by ``owner/name#number``, updated in place on refresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from services.previews import Row
from tui.pull_cells import COMPACT_BELOW, TITLE, age_of, column_specs, row_cells, title_room


@dataclass
class _Built:
    """The cells made for a row, kept while the row and its age text stay the same."""

    row: Row
    age: str
    cells: tuple[Text, ...]
    widths: tuple[int, ...]


class PullTable(DataTable[Text]):
    """A DataTable that shows rows by key and keeps the cursor on the same pull request across refreshes.

    Cells are built once per pull request and rebuilt only when the pull request (or its age) changes, so a
    refresh or a new page of a long list costs in proportion to what changed.
    """

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "first", "Top", show=False),
        Binding("G", "last", "Bottom", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self._with_repo: bool | None = None
        self._compact = False
        self._short_repo: bool | None = None
        self._shown: list[str] = []
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._built: dict[str, _Built] = {}
        self._last: tuple[list[Row], datetime, bool] | None = None
        self._title_room: int | None = None

    def on_resize(self) -> None:
        """Titles take the width the other columns leave, so a new terminal width re-fits them."""
        if self._last is not None:
            rows, now, with_repo = self._last
            self.show(rows, now, with_repo=with_repo)

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=max(self.row_count - 1, 0))

    @property
    def selected_key(self) -> str | None:
        if not self._shown or self.cursor_row >= len(self._shown):
            return None
        return self._shown[self.cursor_row]

    def show(self, rows: list[Row], now: datetime, *, with_repo: bool) -> None:
        """Show ``rows`` in order: changed cells are repainted in place, rows added at the end are appended."""
        self._last = (rows, now, with_repo)
        short_repo = len({row.pull.repo.partition("/")[0] for row in rows}) == 1
        compact = 0 < self.size.width < COMPACT_BELOW
        if with_repo != self._with_repo or compact != self._compact:
            self.clear(columns=True)
            for key, label in column_specs(with_repo, compact):
                self.add_column(label, key=key)
            self._with_repo, self._compact = with_repo, compact
            self._shown = []
            self._built.clear()
        if short_repo != self._short_repo:
            self._built.clear()
            self._short_repo = short_repo
        cells, refit = self._build(rows, now, with_repo=with_repo, short_repo=short_repo)
        keys = [row.key for row in rows]
        if not refit and keys[: len(self._shown)] == self._shown:
            self._update_in_place(cells)
            for key in keys[len(self._shown) :]:
                self.add_row(*cells[key], key=key)
            self._shown = keys
        else:
            self._replace(keys, cells)
        self._cells = cells

    def _build(
        self, rows: list[Row], now: datetime, *, with_repo: bool, short_repo: bool
    ) -> tuple[dict[str, tuple[Text, ...]], bool]:
        """Cells for ``rows``, reusing the ones built before; titles truncated to the room the others leave.

        Also says whether the title width changed, in which case every row must be redrawn.
        """
        fresh: list[_Built] = []
        for row in rows:
            age = age_of(row, now)
            built = self._built.get(row.key)
            if built is None or built.age != age or built.row != row:
                cells = row_cells(row, age, with_repo=with_repo, short_repo=short_repo, compact=self._compact)
                built = _Built(row, age, cells, tuple(cell.cell_len for cell in cells))
                self._built[row.key] = built
                fresh.append(built)
        room = self._room(rows)
        refit = room != self._title_room
        if refit:
            fresh = [self._built[row.key] for row in rows]
            for built in fresh:
                built.cells = row_cells(
                    built.row, built.age, with_repo=with_repo, short_repo=short_repo, compact=self._compact
                )
        if room is not None:
            index = [key for key, _ in column_specs(with_repo, self._compact)].index(TITLE)
            for built in fresh:
                if built.cells[index].cell_len > room:
                    built.cells[index].truncate(room, overflow="ellipsis")
        self._title_room = room
        return {row.key: self._built[row.key].cells for row in rows}, refit

    def _room(self, rows: list[Row]) -> int | None:
        if not rows or not self.size.width or self._with_repo is None:
            return None
        columns = column_specs(self._with_repo, self._compact)
        widths = [0] * len(columns)
        for row in rows:
            for index, width in enumerate(self._built[row.key].widths):
                if width > widths[index]:
                    widths[index] = width
        return title_room(widths, columns, self.scrollable_content_region.width, self.cell_padding)

    def _update_in_place(self, cells: dict[str, tuple[Text, ...]]) -> None:
        """Repaint only the cells that changed in the rows already shown (cursor and scroll stay put)."""
        column_keys = [column.key for column in self.ordered_columns]
        for key in self._shown:
            old, new = self._cells[key], cells[key]
            if old is new:
                continue
            for column_key, before, after in zip(column_keys, old, new, strict=True):
                if before != after:
                    self.update_cell(key, column_key, after, update_width=True)

    def _replace(self, keys: list[str], cells: dict[str, tuple[Text, ...]]) -> None:
        selected, row, scroll_y = self.selected_key, self.cursor_row, self.scroll_y
        self.clear(columns=True)  # fresh columns: clear() alone keeps the widths of the rows gone
        for key, label in column_specs(bool(self._with_repo), self._compact):
            self.add_column(label, key=key)
        for key in keys:
            self.add_row(*cells[key], key=key)
        self._shown = keys
        if not keys:
            return
        target = keys.index(selected) if selected in keys else min(row, len(keys) - 1)
        self.move_cursor(row=target, animate=False, scroll=False)
        self.scroll_to(y=scroll_y, animate=False, immediate=True)
        if not (scroll_y <= target < scroll_y + self.scrollable_content_region.height):
            self.move_cursor(row=target, animate=False, scroll=True)
