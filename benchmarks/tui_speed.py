"""TUI speed with 1,000 open pull requests, against a minimal Textual app showing a 1,000-row DataTable.

Prints, each measured in this run:
- time from process start to the first painted frame, and to the full table, for prdeck and for the
  minimal app, and their ratios (target <= 1.5);
- key press to repaint latency on the 1,000-row table, measured with Pilot (p50, p95; target p95 < 50 ms);
- peak RSS of the prdeck process (target <= 150 MB).

Run: .venv/bin/python benchmarks/tui_speed.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.ls_requests import start_sandbox  # noqa: E402
from benchmarks.tui_speed_child import MinimalApp  # noqa: E402

SEED = {"users": [{"login": "bench"}], "generate": [{"repo": "bench/big", "pulls": 1000}]}


def run_child(*args: str) -> tuple[dict[str, float], int]:
    env = {**os.environ, "BENCH_SPAWNED_AT": repr(time.time()), "PYTHONPATH": str(HERE.parent)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run(
        [sys.executable, str(HERE / "tui_speed_child.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    marks = json.loads(result.stdout.strip().splitlines()[-1])
    return marks, max(peak, before)


KEYS = ["j"] * 60 + ["k"] * 20 + ["pagedown"] * 10 + ["G", "g"] * 5


async def press_all(app, ready) -> list[float]:  # type: ignore[no-untyped-def]
    """Time each press until the app is idle again; Pilot's own press+pause overhead is included."""
    samples = []
    async with app.run_test(size=(160, 45)) as pilot:
        while not ready(app):
            await pilot.pause(0.05)
        for key in KEYS:
            started = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            samples.append((time.perf_counter() - started) * 1000)
    return samples


async def baseline_latency() -> list[float]:
    from textual.widgets import DataTable

    return await press_all(MinimalApp(), lambda app: app.query_one(DataTable).row_count == 1000)


async def key_latency(info: dict) -> list[float]:
    from services.github import GitHubService
    from services.previews import Deck
    from services.repos import parse_repo
    from tui.app import build_app
    from tui.widgets.pull_table import PullTable

    deck = Deck(GitHubService(info["github_url"], info["token"]), [parse_repo(info["repos"][0])])
    app = build_app(deck, 600)

    def ready(app) -> bool:  # type: ignore[no-untyped-def]
        table = app.screen.query(PullTable).first(None)
        return table is not None and table.row_count == 1000

    samples = await press_all(app, ready)
    deck.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, info = start_sandbox(SEED, Path(tmp))
        info_path = Path(tmp) / "info.json"
        try:
            ours, base, peak = [], [], 0
            for _ in range(args.rounds):
                marks, rss = run_child("prdeck", str(info_path))
                ours.append(marks)
                peak = max(peak, rss)
                base.append(run_child("baseline")[0])
            latencies = asyncio.run(key_latency(info))
            base_latencies = sorted(asyncio.run(baseline_latency()))
        finally:
            process.terminate()
            process.wait(timeout=15)
    first = statistics.median(m["first"] for m in ours)
    full = statistics.median(m["full"] for m in ours)
    base_full = statistics.median(m["full"] for m in base)
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"minimal Textual app, 1,000-row DataTable painted: {base_full * 1000:.0f} ms (median of {args.rounds})")
    print(f"prdeck first frame: {first * 1000:.0f} ms, ratio {first / base_full:.2f} (target <= 1.5)")
    print(f"prdeck full table of 1,000 PRs: {full * 1000:.0f} ms, ratio {full / base_full:.2f} (target <= 1.5)")
    base_p95 = base_latencies[int(len(base_latencies) * 0.95) - 1]
    print(
        f"key press to repaint, {len(latencies)} presses: p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {p95:.1f} ms (target p95 < 50 ms)"
    )
    print(
        f"  the same presses on the minimal app: p50 {statistics.median(base_latencies):.1f} ms, "
        f"p95 {base_p95:.1f} ms (Pilot's press+pause alone costs this much)"
    )
    print(f"peak RSS of a prdeck process (children, max so far): {peak / 1024:.0f} MB (target <= 150 MB)")


if __name__ == "__main__":
    main()
