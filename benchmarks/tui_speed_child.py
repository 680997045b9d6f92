"""Child process for benchmarks/tui_speed.py: run one app headless and print when it painted (not run directly)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

STARTED = float(os.environ["BENCH_SPAWNED_AT"])


def elapsed() -> float:
    return time.time() - STARTED


def baseline() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

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
            self.call_after_refresh(self.painted)

        def painted(self) -> None:
            moment = elapsed()
            print(json.dumps({"first": moment, "full": moment}), flush=True)
            self.exit()

    Minimal().run(headless=True, size=(160, 45))


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
