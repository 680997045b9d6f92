"""The cluster side at scale: 1,000 open PRs, 200 live previews, a chatty pod.

Prints, each measured in this run (sandboxes in-process, the TUI headless through Pilot):
- Kubernetes requests the TUI made to show the preview state of all 1,000 PRs (target: 2, one list + one watch);
- delay from a pod becoming ready in the sandbox to its row changing in the TUI (target < 1 s);
- log throughput into the logs screen while it follows a pod writing 100,000 lines as fast as it can
  (target >= 20,000 lines/s) and the process's memory before and after that burst (bounded by
  ``ui.log_lines``); then key press to repaint latency while the pod writes 20,000 lines/s (target < 100 ms).
  Keys are posted as the terminal driver posts them (Pilot's press waits for an idle app, which a streaming
  screen never is) and timed to the first compositor update after them.

The first two numbers come from sandboxes in this process (so the moment a pod turns ready is exact); the
logs part talks to ``prdeck sandbox`` in its own process, as a real cluster is another machine.

Run: .venv/bin/python benchmarks/cluster_speed.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.tui_speed import RepaintClock, percentile  # noqa: E402
from prdeck.services.config import Config  # noqa: E402
from prdeck.services.deck import Deck, open_deck  # noqa: E402
from prdeck.services.models import RepoRef  # noqa: E402
from prdeck.services.sandbox.kube.resources import BY_KIND  # noqa: E402
from prdeck.services.sandbox.stack import SandboxStack  # noqa: E402
from tests.kube_support import kube_admin  # noqa: E402

PULLS, PREVIEWS, BURST = 1000, 200, 100_000
STEADY_RATE = 20_000
WATCHED = 7  # the PR whose preview becomes ready while we watch


def seed() -> dict:
    previews = [{"repo": "bench/big", "number": n, "state": "ready"} for n in range(1, PREVIEWS + 1) if n != WATCHED]
    previews.append({"repo": "bench/big", "number": WATCHED, "state": "deploying", "ready_after": 6})
    return {
        "users": [{"login": "bench"}],
        "generate": [{"repo": "bench/big", "pulls": PULLS}],
        "previews": previews,
        "kube": {"timing": {"log_every": 3600, "schedule": 0.05, "create": 0.1}},
    }


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ready_moment(stack: SandboxStack, namespace: str) -> list[float]:
    """Timestamps (perf_counter) of the sandbox writing a Ready pod in ``namespace`` (the sandbox runs in this
    process for this measurement, so the moment is exact)."""
    moments: list[float] = []
    store = stack.kube.store
    original = store.update

    def update(resource, obj, **kwargs):  # type: ignore[no-untyped-def]
        result = original(resource, obj, **kwargs)
        conditions = (obj.get("status") or {}).get("conditions") or []
        if resource is BY_KIND["Pod"] and obj["metadata"].get("namespace") == namespace and any(
            c["type"] == "Ready" and c["status"] == "True" for c in conditions
        ) and not moments:
            moments.append(time.perf_counter())
        return result

    store.update = update  # type: ignore[method-assign]
    return moments


def bench_deck(api_url: str, token: str, kubeconfig: str) -> Deck:
    """The deck `prdeck` would open on the benchmark's stack (the one wiring point, open_deck)."""
    config = Config.defaults().with_values({"github.api_url": api_url, "cluster.kubeconfig": kubeconfig}, "benchmark")
    return open_deck(config, [RepoRef.parse("bench/big")], token=token)


async def run(stack: SandboxStack) -> None:
    from prdeck.tui.app import build_app
    from prdeck.tui.widgets.pull_table import PullTable

    deck = bench_deck(stack.github.api_url, stack.github.token, str(stack.kube.kubeconfig))
    app = build_app(deck, 600, on_exit=deck.close, log_lines=10_000)
    became_ready = ready_moment(stack, f"prdeck-bench-big-pr-{WATCHED}")
    kube_admin(stack.kube, "reset-stats")
    async with app.run_test(size=(160, 45)) as pilot:
        def table() -> PullTable:
            return app.screen.query_one(PullTable)

        def preview(number: int) -> str:
            return table().get_cell(f"bench/big#{number}", "preview").plain

        while not (app.screen.model.snapshot and app.screen.model.snapshot.complete and preview(1).startswith("●")):
            await pilot.pause(0.02)
        requests = kube_admin(stack.kube, "stats", method="GET")
        shown_ready = None
        while shown_ready is None:
            if preview(WATCHED).startswith("● ready"):
                shown_ready = time.perf_counter()
            await asyncio.sleep(0.002)
        delay = (shown_ready - became_ready[0]) * 1000

    print(f"Kubernetes requests to show {PULLS} PRs with {PREVIEWS} previews: "
          f"{sum(requests.values())} ({', '.join(f'{k}: {v}' for k, v in sorted(requests.items()))}; target 2)")
    print(f"pod ready in the sandbox -> row shows it: {delay:.0f} ms (target < 1000 ms)")


async def run_logs(info: dict) -> None:
    """The logs screen following a pod of a sandbox in its own process while the pod writes a burst."""
    from textual import events

    from prdeck.screens.logs import LogsScreen
    from prdeck.tui.app import build_app
    from prdeck.tui.widgets.log_view import LogView
    from prdeck.tui.widgets.pull_table import PullTable

    deck = bench_deck(info["github_url"], info["token"], info["kubeconfig"])
    app = build_app(deck, 600, on_exit=deck.close, log_lines=10_000)
    clock = RepaintClock(app)
    namespace = f"prdeck-bench-big-pr-{WATCHED}"
    async with app.run_test(size=(160, 45)) as pilot:
        def table() -> PullTable:
            return app.screen.query_one(PullTable)

        while not (app.screen.model.snapshot and app.screen.model.snapshot.complete
                   and table().get_cell(f"bench/big#{WATCHED}", "preview").plain.startswith("● ready")):
            await pilot.pause(0.05)
        table().move_cursor(row=table().get_row_index(f"bench/big#{WATCHED}"))
        await pilot.press("t")
        while not isinstance(app.screen, LogsScreen):
            await pilot.pause(0.02)
        view = app.screen.query_one(LogView)
        await pilot.pause(0.5)
        before_mb, base = rss_mb(), view.buffer.first + len(view.buffer)

        def received() -> int:
            return view.buffer.first + len(view.buffer) - base

        burst = asyncio.create_task(asyncio.to_thread(post, info, "log-burst",
                                                      {"namespace": namespace, "lines": BURST}))
        while received() == 0:
            await asyncio.sleep(0.001)
        first = time.perf_counter()
        while received() < BURST and time.perf_counter() - first < 120:
            await asyncio.sleep(0.002)
        elapsed = time.perf_counter() - first
        await burst
        count, after_mb = received(), rss_mb()
        # then a pod steadily writing 20,000 lines/s for 4 s while keys are pressed
        steady = asyncio.create_task(asyncio.to_thread(post, info, "log-burst", {
            "namespace": namespace, "lines": 4 * STEADY_RATE, "per_second": STEADY_RATE}))
        await asyncio.sleep(0.3)
        latencies = []
        while not steady.done():
            pressed = time.perf_counter()
            app.post_message(events.Key("k", "k"))  # as the terminal driver delivers a key press
            while (latency := clock.latency_after(pressed)) is None and time.perf_counter() - pressed < 2:
                await asyncio.sleep(0.001)
            if latency is not None:
                latencies.append(latency)
            await asyncio.sleep(0.05)
        await steady
    print(f"logs screen: {count:,} lines in {elapsed:.2f} s = {count / elapsed:,.0f} lines/s (target >= 20,000); "
          f"buffer holds {len(view.buffer):,}, dropped {view.buffer.dropped:,}")
    if latencies:
        print(f"  key press to repaint while the pod writes {STEADY_RATE:,} lines/s ({len(latencies)} presses): p50 "
              f"{statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
              f"max {max(latencies):.0f} ms (target < 100 ms)")
    print(f"  memory: {before_mb:.0f} MB before the {BURST:,}-line burst, {after_mb:.0f} MB after")


def post(info: dict, path: str, body: dict) -> dict:
    import json
    import ssl
    import urllib.request

    request = urllib.request.Request(f"{info['kube_admin_url']}/{path}", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    context = ssl.create_default_context(cafile=info["kube_ca"]) if "kube_ca" in info else None
    with urllib.request.urlopen(request, timeout=120, context=context) as response:
        return json.load(response)


def main() -> None:
    import tempfile

    from benchmarks.ls_requests import start_sandbox

    with SandboxStack(seed()) as stack:
        asyncio.run(run(stack))
    logs_seed = seed()
    logs_seed["previews"][-1] = {"repo": "bench/big", "number": WATCHED, "state": "ready"}
    with tempfile.TemporaryDirectory() as tmp:
        process, info = start_sandbox(logs_seed, Path(tmp))  # a cluster is another machine: its own process
        try:
            asyncio.run(run_logs(info))
        finally:
            process.terminate()
            process.wait(timeout=15)


if __name__ == "__main__":
    main()
