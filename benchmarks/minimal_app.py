"""The yardstick of the TUI benchmark: a bare Textual app showing a 1,000-row DataTable of constant data."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable


class MinimalApp(App[None]):
    """The yardstick: a bare Textual app showing a 1,000-row DataTable of constant data."""

    BINDINGS = [Binding("j", "down"), Binding("k", "up"), Binding("g", "top"), Binding("G", "bottom")]

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "Title", "Author", "Branch", "CI", "Review", "Draft", "Updated", "Preview")
        for number in range(1000):
            table.add_row(
                str(number),
                f"Synthetic change {number}",
                "someone",
                f"feature/{number}",
                "success",
                "approved",
                "",
                "1h",
                "—",
            )

    def action_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def action_top(self) -> None:
        self.query_one(DataTable).move_cursor(row=0)

    def action_bottom(self) -> None:
        self.query_one(DataTable).move_cursor(row=999)
