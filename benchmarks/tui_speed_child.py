"""Child process for benchmarks/tui_speed.py: run one app headless and print when it painted (not run directly)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def elapsed() -> float:
    """Seconds since the parent spawned this process (it passes the moment in BENCH_SPAWNED_AT)."""
    return time.time() - float(os.environ["BENCH_SPAWNED_AT"])


def baseline() -> None:
    from benchmarks.minimal_app import MinimalApp

    app = MinimalApp()

    def painted() -> None:
        moment = elapsed()
        print(json.dumps({"first": moment, "full": moment}), flush=True)
        app.exit()

    app.call_after_refresh(painted)
    app.run(headless=True, size=(160, 45))


def prdeck(info_path: str, with_cluster: bool) -> None:
    from prdeck.services.config import Config
    from prdeck.services.deck import open_deck
    from prdeck.services.models import RepoRef

    info = json.loads(Path(info_path).read_text())
    values = {"github.api_url": info["github_url"]}
    if with_cluster:
        values["cluster.kubeconfig"] = info["kubeconfig"]
    # as `prdeck` does: the screen connects the cluster once its first frame is up, and follows previews
    deck = open_deck(Config.defaults().with_values(values, "benchmark"), [RepoRef.parse(info["repos"][0])],
                     token=info["token"], cluster="later" if with_cluster else "off")
    deck.prefetch()  # as the CLI does before it loads Textual
    from prdeck.tui.app import build_app

    app = build_app(deck, 600)
    marks: dict[str, float] = {}

    from prdeck.tui.widgets.pull_table import PullTable

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
    baseline() if sys.argv[1] == "baseline" else prdeck(sys.argv[2], with_cluster=sys.argv[1] == "prdeck-cluster")
