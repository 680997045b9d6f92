"""TUI speed with 1,000 open pull requests, against a minimal Textual app showing a 1,000-row DataTable.

Prints, each measured in this run:
- time from process start to the first painted frame, and to the full table, for prdeck and for the
  minimal app, and their ratios (target <= 1.5); prdeck also with a cluster configured (previews follow);
- key press to repaint latency on the 1,000-row table: keys sent with Pilot, timed from the press to the first
  compositor update handed to the driver (p50, p95; target p95 < 50 ms), and the same for the minimal app;
- peak RSS of the prdeck process (target <= 150 MB).

Run: .venv/bin/python benchmarks/tui_speed.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
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
from benchmarks.minimal_app import MinimalApp  # noqa: E402

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


class RepaintClock:
    """Wraps ``App._display``, the hand-off of a finished compositor update to the terminal driver.

    Headless apps skip writing the update; the clock renders it to escape sequences anyway so the cost a real
    terminal would pay is counted. ``latency_after(t0)`` is the time from ``t0`` to the first repaint after it.
    """

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.painted: list[float] = []
        original = app._display

        def display(screen, renderable) -> None:  # type: ignore[no-untyped-def]
            if renderable is not None:
                if hasattr(renderable, "render_segments"):
                    renderable.render_segments(app.console)
                self.painted.append(time.perf_counter())
            original(screen, renderable)

        app._display = display

    def latency_after(self, started: float) -> float | None:
        return next(((moment - started) * 1000 for moment in self.painted if moment >= started), None)


async def press_all(app, ready) -> list[float]:  # type: ignore[no-untyped-def]
    """Press each key with Pilot and time it from the key press to the first repaint that follows."""
    samples = []
    clock = RepaintClock(app)
    async with app.run_test(size=(160, 45)) as pilot:
        while not ready(app):
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        for key in KEYS:
            started = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            latency = clock.latency_after(started)
            assert latency is not None, f"no repaint after {key!r}"
            samples.append(latency)
    return samples


async def baseline_latency() -> list[float]:
    from textual.widgets import DataTable

    return await press_all(MinimalApp(), lambda app: app.query_one(DataTable).row_count == 1000)


async def key_latency(info: dict) -> list[float]:
    from prdeck.services.config import Config
    from prdeck.services.deck import open_deck
    from prdeck.services.models import RepoRef
    from prdeck.tui.app import build_app
    from prdeck.tui.widgets.pull_table import PullTable

    config = Config.defaults().with_values({"github.api_url": info["github_url"]}, "benchmark")
    deck = open_deck(config, [RepoRef.parse(info["repos"][0])], token=info["token"], cluster="off")
    app = build_app(deck, 600)

    def ready(app) -> bool:  # type: ignore[no-untyped-def]
        table = app.screen.query(PullTable).first(None)
        return table is not None and table.row_count == 1000

    samples = await press_all(app, ready)
    deck.close()
    return samples


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(int(len(ordered) * share) - 1, 0)]


def latency_summary(samples: list[float]) -> str:
    """p50/p95 of all presses, then p95 per key (a page of new rows costs more than a cursor step)."""
    by_key: dict[str, list[float]] = {}
    for key, sample in zip(KEYS, samples, strict=True):
        by_key.setdefault(key, []).append(sample)
    per_key = ", ".join(f"{key} {percentile(values, 0.95):.0f}" for key, values in by_key.items())
    return f"p50 {statistics.median(samples):.1f} ms, p95 {percentile(samples, 0.95):.1f} ms (p95 by key: {per_key})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    # An installed prdeck has byte-compiled modules (pip compiles on install); an editable checkout under
    # PYTHONDONTWRITEBYTECODE would recompile every module at each start, which no user pays.
    for package in ("services", "tui", "screens", "benchmarks"):
        compileall.compile_dir(HERE.parent / package, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        process, info = start_sandbox(SEED, Path(tmp))
        info_path = Path(tmp) / "info.json"
        try:
            ours, clustered, base, peak = [], [], [], 0
            for _ in range(args.rounds):
                marks, rss = run_child("prdeck", str(info_path))
                ours.append(marks)
                peak = max(peak, rss)
                marks, rss = run_child("prdeck-cluster", str(info_path))
                clustered.append(marks)
                peak = max(peak, rss)
                base.append(run_child("baseline")[0])
            latencies = asyncio.run(key_latency(info))
            base_latencies = asyncio.run(baseline_latency())
        finally:
            process.terminate()
            process.wait(timeout=15)
    first = statistics.median(m["first"] for m in ours)
    full = statistics.median(m["full"] for m in ours)
    base_full = statistics.median(m["full"] for m in base)
    print(f"minimal Textual app, 1,000-row DataTable painted: {base_full * 1000:.0f} ms (median of {args.rounds})")
    print(f"prdeck first frame: {first * 1000:.0f} ms, ratio {first / base_full:.2f} (target <= 1.5)")
    print(f"prdeck full table of 1,000 PRs: {full * 1000:.0f} ms, ratio {full / base_full:.2f} (target <= 1.5)")
    first_c = statistics.median(m["first"] for m in clustered)
    full_c = statistics.median(m["full"] for m in clustered)
    print(f"  the same with a cluster configured (kubeconfig of the sandbox): first frame {first_c * 1000:.0f} ms, "
          f"ratio {first_c / base_full:.2f}; full table {full_c * 1000:.0f} ms, ratio {full_c / base_full:.2f}")
    print(f"key press to repaint, {len(latencies)} presses (target p95 < 50 ms):")
    print(f"  prdeck:      {latency_summary(latencies)}")
    print(f"  minimal app: {latency_summary(base_latencies)}")
    print(f"peak RSS of a prdeck process (children, max so far): {peak / 1024:.0f} MB (target <= 150 MB)")


if __name__ == "__main__":
    main()
