"""What keeping five busy repositories on screen costs of GitHub's GraphQL budget (issue 17).

Five repositories x 1,000 open pull requests in the GitHub sandbox (fewer than 100 with CI running). Between
refreshes three pull requests change: one is retitled, one's CI finishes, one is closed (in turn across the
repositories). Prints:
- the points and requests of the first full load, and of a full reload (what every refresh cost before);
- per incremental refresh: GraphQL points (the sandbox charges them by GitHub's documented formula) and
  requests, and whether the rows equal those of a full reload made right after by another user (whose points
  do not count);
- a simulated 8-hour day at a 30 s interval: the measured refresh cost, a full reload every 30 minutes, the
  points spent in each hour against 5,000, and whether the budget pacing ever had to stretch the interval.

Run: .venv/bin/python benchmarks/refresh_budget.py [--repos 5] [--pulls 1000] [--rounds 20] [--running 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from prdeck.services.deck import Deck
from prdeck.services.github.budget import Budget, Pacer
from prdeck.services.github.changes import FULL_RELOAD_SECONDS
from prdeck.services.github.service import GitHubService
from prdeck.services.models import PullRequest, RepoRef
from prdeck.services.sandbox.github.sandbox import GitHubSandbox

CHECKER_TOKEN = "prdeck_sandbox_checker_token"
INTERVAL = 30.0
DAY_HOURS = 8
HOURLY_POINTS = 5000


def admin(box: GitHubSandbox, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{box.admin_url}/{path}", data=json.dumps(body).encode() if body is not None else None,
        method="POST" if body is not None else "GET", headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def full_reload(box: GitHubSandbox, repos: list[RepoRef]) -> list[PullRequest]:
    """What a fresh `prdeck ls` would list, fetched as another user (its points are not the deck's)."""
    with GitHubService(box.api_url, CHECKER_TOKEN) as github:
        return [pull for repo in repos for pull in github.open_pulls(repo)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=5)
    parser.add_argument("--pulls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--running", type=int, default=10, help="pull requests with CI running per repository")
    args = parser.parse_args()
    # by default 1 PR in 100 has CI running: 10 per repository, 50 in all (the target holds below 100)
    every = max(args.pulls // max(args.running, 1), 2)
    failing = max(every // 12, 0)
    cycle = ["PENDING"] + ["SUCCESS"] * (every - 2 - failing) + ["FAILURE"] * failing + [None]
    names = [f"bench/repo{i}" for i in range(args.repos)]
    seed = {
        "users": [{"login": "bench"}, {"login": "checker", "token": CHECKER_TOKEN}],
        "generate": [{"repo": name, "pulls": args.pulls, "ci_cycle": cycle} for name in names],
    }
    repos = [RepoRef.parse(name) for name in names]
    with GitHubSandbox(seed) as box, GitHubService(box.api_url, box.token) as github:
        deck = Deck(github, repos)

        def measure(full: bool) -> tuple[list[PullRequest], int, int]:
            """One fetch by the deck: its rows, the points it cost (from the answers' headers), its requests."""
            admin(box, "rate-limit", {"login": "bench", "resource": "graphql", "remaining": HOURLY_POINTS})
            sent = admin(box, "stats")["graphql"]
            *_, snapshot = deck.snapshots(full=full)
            requests = admin(box, "stats")["graphql"] - sent
            assert deck.budget is not None
            return snapshot.pulls, HOURLY_POINTS - deck.budget.remaining, requests

        _, load_points, load_requests = measure(full=True)
        _, reload_points, reload_requests = measure(full=True)
        print(f"{args.repos} repositories x {args.pulls} open pull requests, "
              f"{sum(1 for p in full_reload(box, repos) if p.ci == 'PENDING')} with CI running")
        print(f"first full load: {load_points} points, {load_requests} requests; "
              f"a full reload: {reload_points} points, {reload_requests} requests (every refresh before issue 17)")

        pending = {repo: [p.number for p in deck.snapshot().pulls if p.repo == repo and p.ci == "PENDING"]
                   for repo in repos}
        points, requests, exact = [], [], 0
        for round_ in range(args.rounds):
            retitled, ci, closed = (repos[(round_ + k) % len(repos)] for k in range(3))
            title_number = 500 + round_
            admin(box, "pulls", {"action": "retitle", "repo": str(retitled), "number": title_number,
                                 "title": f"Retitled in round {round_}"})
            admin(box, "pulls", {"action": "ci", "repo": str(ci), "number": pending[ci].pop(), "state": "SUCCESS"})
            admin(box, "pulls", {"action": "close", "repo": str(closed), "number": 700 + round_})
            pulls, cost, sent = measure(full=False)
            same = pulls == full_reload(box, repos)
            exact += same
            points.append(cost)
            requests.append(sent)
            print(f"refresh {round_ + 1:2}: {cost} points, {sent} requests, rows equal a full reload: {same}")
        per_refresh = statistics.mean(points)
        print(f"incremental refresh: {per_refresh:.2f} points (max {max(points)}), "
              f"{statistics.mean(requests):.2f} requests (max {max(requests)}) for all {args.repos} repositories; "
              f"target <= 5 points; rows exact after {exact} of {args.rounds} refreshes")
        simulate_day(per_refresh, reload_points, others_per_hour=0)
        simulate_day(per_refresh, reload_points, others_per_hour=4700)


def simulate_day(refresh_points: float, reload_points: int, others_per_hour: int) -> None:
    """Eight hours at one refresh per 30 s, a full reload every FULL_RELOAD_SECONDS, the pacing consulted each
    time with the budget as GitHub would report it; ``others_per_hour``: points the token's other users spend
    (evenly) in each hour."""
    start = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    pacer, hourly = Pacer(), [0.0] * DAY_HOURS
    remaining, reset = float(HOURLY_POINTS), start + timedelta(hours=1)
    now, last_full, stretched, refreshes, fulls, lowest = start, start, 0, 0, 0, float(HOURLY_POINTS)
    while now < start + timedelta(hours=DAY_HOURS):
        if now >= reset:
            remaining, reset = float(HOURLY_POINTS), reset + timedelta(hours=1)
        full = refreshes == 0 or (now - last_full).total_seconds() >= FULL_RELOAD_SECONDS
        cost = reload_points if full else refresh_points
        fulls += full
        last_full = now if full else last_full
        remaining -= cost
        lowest = min(lowest, remaining)
        hourly[int((now - start).total_seconds() // 3600)] += cost
        pacer.record(Budget(HOURLY_POINTS, round(remaining), HOURLY_POINTS - round(remaining), reset))
        pace = pacer.next_wait(INTERVAL, now)
        stretched += pace.stretched
        wait = min(pace.seconds, (reset - now).total_seconds() + 1)
        remaining -= others_per_hour * wait / 3600  # the other tools keep spending meanwhile
        now += timedelta(seconds=wait)
        refreshes += 1
    print(f"simulated {DAY_HOURS}-hour day at {INTERVAL:.0f} s, other tools spending {others_per_hour} points/hour: "
          f"{refreshes} refreshes ({fulls} full reloads); prdeck's points per hour: "
          f"{', '.join(f'{h:.0f}' for h in hourly)} (max {max(hourly):.0f}; limit {HOURLY_POINTS}); "
          f"lowest budget left {lowest:.0f}; interval stretched on {stretched} refreshes")


if __name__ == "__main__":
    main()
