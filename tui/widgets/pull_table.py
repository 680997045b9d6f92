"""The main table: one row per pull request, keyed by ``owner/name#number``, updated in place on refresh."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from services.previews import Row
from tui.formatting import compact_age
from tui.safe_text import printable

CI_STYLES = {"SUCCESS": "green", "FAILURE": "bold red", "ERROR": "bold red", "PENDING": "yellow", "EXPECTED": "yellow"}
REVIEW_TEXT = {
    "APPROVED": ("approved", "green"),
    "CHANGES_REQUESTED": ("changes", "red"),
    "REVIEW_REQUIRED": ("required", ""),
}
BRANCH_WIDTH = 20
AUTHOR_WIDTH = 12
MIN_TITLE_WIDTH = 16
COLUMNS = (
    ("number", "#"),
    ("title", "Title"),
    ("author", "Author"),
    ("branch", "Branch"),
    ("ci", "CI"),
    ("review", "Review"),
    ("draft", "Draft"),
    ("updated", "Updated"),
    ("preview", "Preview"),
)


def row_cells(row: Row, now: datetime, *, with_repo: bool, short_repo: bool = False) -> tuple[Text, ...]:
    """The cells of one row; remote text is wrapped in ``Text`` and never parsed as markup."""
    pull = row.pull
    title_style = "dim italic" if pull.draft else ("red" if pull.ci in ("FAILURE", "ERROR") else "")
    review, review_style = REVIEW_TEXT.get(pull.review or "", ("—", "dim"))
    branch = Text(printable(pull.branch, max_length=BRANCH_WIDTH), style="cyan")
    if pull.fork:
        branch = Text.assemble(("fork ", "yellow"), branch)
    cells = (
        Text(str(pull.number), style="bold"),
        Text(printable(pull.title, max_length=300), style=title_style),
        Text(printable(pull.author, max_length=AUTHOR_WIDTH)),
        branch,
        Text((pull.ci or "—").lower(), style=CI_STYLES.get(pull.ci or "", "dim")),
        Text(review, style=review_style),
        Text("draft" if pull.draft else "", style="dim"),
        Text(compact_age(pull.updated_at, now), style="dim"),
        Text("—", style="dim"),
    )
    if not with_repo:
        return cells
    repo = pull.repo.partition("/")[2] if short_repo else pull.repo
    return (Text(printable(repo), style="magenta"), *cells)


class PullTable(DataTable[Text]):
    """A DataTable that shows rows by key and keeps the cursor on the same pull request across refreshes."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "first", "Top", show=False),
        Binding("G", "last", "Bottom", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self._with_repo: bool | None = None
        self._shown: list[str] = []
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._last: tuple[list[Row], datetime, bool] | None = None

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
        """Show ``rows`` in order. Same rows in the same order: only changed cells are repainted."""
        self._last = (rows, now, with_repo)
        if with_repo != self._with_repo:
            self.clear(columns=True)
            columns = (("repo", "Repository"), *COLUMNS) if with_repo else COLUMNS
            for key, label in columns:
                self.add_column(label, key=key)
            self._with_repo = with_repo
            self._shown = []
        keys = [row.key for row in rows]
        short = len({row.pull.repo.partition("/")[0] for row in rows}) == 1
        cells = {row.key: row_cells(row, now, with_repo=with_repo, short_repo=short) for row in rows}
        self._fit_titles(cells, title_index=1 + int(with_repo))
        if keys == self._shown:
            column_keys = [column.key for column in self.ordered_columns]
            for key in keys:
                old, new = self._cells[key], cells[key]
                for column_key, before, after in zip(column_keys, old, new, strict=True):
                    if before != after:
                        self.update_cell(key, column_key, after, update_width=True)
        else:
            self._replace(keys, cells)
        self._cells = cells

    def _fit_titles(self, cells: dict[str, tuple[Text, ...]], title_index: int) -> None:
        """Give the title whatever width the other columns leave, so every column fits the terminal."""
        if not cells or not self.size.width:
            return
        widths = [0] * len(next(iter(cells.values())))
        for row in cells.values():
            for index, cell in enumerate(row):
                widths[index] = max(widths[index], cell.cell_len)
        for index, column in enumerate(self.ordered_columns):
            widths[index] = max(widths[index], column.label.cell_len)
        others = sum(width + 2 * self.cell_padding for i, width in enumerate(widths) if i != title_index)
        room = max(MIN_TITLE_WIDTH, self.scrollable_content_region.width - others - 2 * self.cell_padding)
        for row in cells.values():
            if row[title_index].cell_len > room:
                row[title_index].truncate(room, overflow="ellipsis")

    def _replace(self, keys: list[str], cells: dict[str, tuple[Text, ...]]) -> None:
        selected, row, scroll_y = self.selected_key, self.cursor_row, self.scroll_y
        self.clear()
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
