"""The cluster side at scale: 1,000 open PRs, 200 live previews, a chatty pod.

Prints, each measured in this run (sandboxes in-process, the TUI headless through Pilot):
- Kubernetes requests the TUI made to show the preview state of all 1,000 PRs (target: 2, one list + one watch);
- delay from a pod becoming ready in the sandbox to its row changing in the TUI (target < 1 s);
- log throughput into the logs screen while it follows a pod writing 100,000 lines as fast as it can
  (target >= 20,000 lines/s), key press to repaint latency during that burst (target < 100 ms), and the
  process's memory before and after the burst (bounded by ``ui.log_lines``).

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
from services.cluster import ClusterService, load_api_client  # noqa: E402
from services.github import GitHubService  # noqa: E402
from services.previews import Deck  # noqa: E402
from services.repos import parse_repo  # noqa: E402
from services.sandbox.kube_resources import BY_KIND  # noqa: E402
from services.sandbox.stack import SandboxStack  # noqa: E402
from tests.kube_support import kube_admin  # noqa: E402

PULLS, PREVIEWS, BURST = 1000, 200, 100_000
WATCHED = 7  # the PR whose preview becomes ready while we watch


def seed() -> dict:
    previews = [{"repo": "bench/big", "number": n, "state": "ready"} for n in range(1, PREVIEWS + 1) if n != WATCHED]
    previews.append({"repo": "bench/big", "number": WATCHED, "state": "deploying", "ready_after": 3})
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
    """Timestamps (perf_counter) of the sandbox writing a Ready pod in ``namespace``."""
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


async def run(stack: SandboxStack) -> None:
    from screens.logs import LogsScreen
    from tui.app import build_app
    from tui.widgets.log_view import LogView
    from tui.widgets.pull_table import PullTable

    github = GitHubService(stack.github.api_url, stack.github.token)
    cluster = ClusterService(load_api_client(str(stack.kube.kubeconfig), None))
    deck = Deck(github, [parse_repo("bench/big")], cluster)
    app = build_app(deck, 600, on_exit=deck.close, log_lines=10_000)
    key = f"bench/big#{WATCHED}"
    became_ready = ready_moment(stack, f"prdeck-bench-big-pr-{WATCHED}")
    kube_admin(stack.kube, "reset-stats")
    clock = RepaintClock(app)
    async with app.run_test(size=(160, 45)) as pilot:
        def table() -> PullTable:
            return app.screen.query_one(PullTable)

        def preview(number: int) -> str:
            return table().get_cell(f"bench/big#{number}", "preview").plain

        while not (app.screen.snapshot and app.screen.snapshot.complete and preview(1).startswith("●")):
            await pilot.pause(0.02)
        requests = kube_admin(stack.kube, "stats", method="GET")
        shown_ready = None
        while shown_ready is None:
            if preview(WATCHED).startswith("● ready"):
                shown_ready = time.perf_counter()
            await asyncio.sleep(0.002)
        delay = (shown_ready - became_ready[0]) * 1000

        table().move_cursor(row=table().get_row_index(key))
        await pilot.press("t")
        while not isinstance(app.screen, LogsScreen):
            await pilot.pause(0.02)
        view = app.screen.query_one(LogView)
        await pilot.pause(0.3)
        before_mb = rss_mb()
        namespace = f"prdeck-bench-big-pr-{WATCHED}"
        pod_name = next(p for (ns, p) in stack.kube.logs.pods if ns == namespace)
        logs = stack.kube.logs.pod(namespace, pod_name)
        start_lines = view.buffer.first + len(view.buffer)

        async def write_chunk(lines: list[str]) -> None:
            await logs.write_many("web", lines)

        async def burst() -> None:
            """The pod writes 1,000 lines at a time, as fast as the sandbox's loop takes them."""
            for chunk in range(BURST // 1000):
                lines = [f"GET /items/{chunk * 1000 + i} 200 3ms" for i in range(1000)]
                await asyncio.wrap_future(stack.kube.submit(write_chunk(lines)))

        started = time.perf_counter()
        writer = asyncio.create_task(burst())
        latencies = []
        keys = ["k", "j"] * 10
        for press in keys:
            pressed = time.perf_counter()
            await pilot.press(press)
            latency = clock.latency_after(pressed)
            if latency is not None:
                latencies.append(latency)
            await asyncio.sleep(0.05)
        await writer
        while view.buffer.first + len(view.buffer) - start_lines < BURST:
            await pilot.pause(0.01)
            if time.perf_counter() - started > 120:
                break
        elapsed = time.perf_counter() - started
        received = view.buffer.first + len(view.buffer) - start_lines
        after_mb = rss_mb()

    print(f"Kubernetes requests to show {PULLS} PRs with {PREVIEWS} previews: "
          f"{sum(requests.values())} ({', '.join(f'{k}: {v}' for k, v in sorted(requests.items()))}; target 2)")
    print(f"pod ready in the sandbox -> row shows it: {delay:.0f} ms (target < 1000 ms)")
    print(f"logs screen: {received:,} lines in {elapsed:.2f} s = {received / elapsed:,.0f} lines/s "
          f"(target >= 20,000); buffer holds {len(view.buffer):,}, dropped {view.buffer.dropped:,}")
    if latencies:
        print(f"  key press to repaint during the burst: p50 {statistics.median(latencies):.0f} ms, "
              f"p95 {percentile(latencies, 0.95):.0f} ms, max {max(latencies):.0f} ms (target < 100 ms)")
    print(f"  memory: {before_mb:.0f} MB before the {BURST:,}-line burst, {after_mb:.0f} MB after")


def main() -> None:
    with SandboxStack(seed()) as stack:
        asyncio.run(run(stack))


if __name__ == "__main__":
    main()
