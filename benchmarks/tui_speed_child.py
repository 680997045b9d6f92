"""Child process for benchmarks/tui_speed.py: run one app headless and print when it painted (not run directly)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable


def elapsed() -> float:
    """Seconds since the parent spawned this process (it passes the moment in BENCH_SPAWNED_AT)."""
    return time.time() - float(os.environ["BENCH_SPAWNED_AT"])


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


def baseline() -> None:
    app = MinimalApp()

    def painted() -> None:
        moment = elapsed()
        print(json.dumps({"first": moment, "full": moment}), flush=True)
        app.exit()

    app.call_after_refresh(painted)
    app.run(headless=True, size=(160, 45))


def prdeck(info_path: str) -> None:
    from services.github import GitHubService
    from services.previews import Deck
    from services.repos import parse_repo
    from tui.app import build_app
    from tui.widgets.pull_table import PullTable

    info = json.loads(Path(info_path).read_text())
    deck = Deck(GitHubService(info["github_url"], info["token"]), [parse_repo(info["repos"][0])])
    app = build_app(deck, 600)
    marks: dict[str, float] = {}

    def check() -> None:
        if "first" not in marks:
            marks["first"] = elapsed()
        table = app.screen.query(PullTable).first(None)
        if table is not None and table.row_count == 1000:
            app.call_after_refresh(done)
        else:
            app.set_timer(0.005, check)

    def done() -> None:
        marks["full"] = elapsed()
        print(json.dumps(marks), flush=True)
        app.exit()

    app.call_after_refresh(check)
    app.run(headless=True, size=(160, 45))


if __name__ == "__main__":
    prdeck(sys.argv[2]) if sys.argv[1] == "prdeck" else baseline()
