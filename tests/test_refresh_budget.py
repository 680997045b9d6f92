"""GitHub's budget: kept from every answer, shown when low, and the refresh interval stretched to make it last."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from prdeck.services.github.budget import Budget, Pacer, budget_from_headers, paced_interval
from tests.conftest import admin, run_prdeck
from tests.tui_support import app_for, loaded, status, titles, wait_for

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def _budget(remaining: int, minutes_to_reset: float = 60) -> Budget:
    return Budget(5000, remaining, 5000 - remaining, NOW + timedelta(minutes=minutes_to_reset))


def test_plenty_of_points_keep_the_configured_interval():
    assert paced_interval(30, _budget(4000), 1.0, NOW).seconds == 30
    assert not paced_interval(30, _budget(4000), 1.0, NOW).stretched


def test_few_points_stretch_the_interval_until_the_reset():
    # 500 left, 250 kept for other tools: 250 refreshes of 2 points would go in 125 min at 30 s; 60 are left
    pace = paced_interval(30, _budget(500), 4.0, NOW)
    assert pace.stretched and pace.seconds == 60 * 60 / (250 / 4.0)


def test_no_points_left_waits_for_the_reset():
    pace = paced_interval(30, _budget(100, minutes_to_reset=10), 1.0, NOW)
    assert pace.stretched and pace.seconds == 601


def test_the_pacer_measures_what_a_cycle_drains():
    pacer = Pacer()
    for remaining in (4000, 3990, 3980):
        pacer.record(_budget(remaining))
    assert pacer.points_per_refresh == 10
    pacer.record(Budget(5000, 5000, 0, NOW + timedelta(hours=2)))  # a new window: not a cost
    assert pacer.points_per_refresh == 10


def test_headers_of_another_resource_are_not_the_graphql_budget():
    headers = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "1900000000"}
    assert budget_from_headers({**headers, "X-RateLimit-Resource": "core"}) is None
    assert budget_from_headers({**headers, "X-RateLimit-Resource": "graphql"}).remaining == 12  # type: ignore[union-attr]


def test_ls_json_includes_the_budget_left(sandbox):
    env = {"PRDECK_GITHUB_URL": sandbox.api_url, "GITHUB_TOKEN": sandbox.token}
    listing = json.loads(run_prdeck("ls", "--json", "--repo", "acme/storefront", env=env).stdout)
    budget = listing["github_budget"]
    assert budget["limit"] == 5000 and budget["remaining"] == 4998 and budget["used"] == 2  # one page: 2 points
    assert budget["reset_at"].endswith("Z")


async def test_a_low_budget_shows_in_the_header_and_slows_the_refresh(sandbox):
    admin(sandbox, "rate-limit", {"login": "demo-maintainer", "resource": "graphql", "remaining": 600,
                                  "reset_in": 3600})
    async with app_for(sandbox, refresh_seconds=0.2).run_test(size=(160, 36)) as pilot:
        await loaded(pilot)
        assert "GitHub ▾ 59" in status(pilot) and "/5000 pts until" in status(pilot)
        await wait_for(pilot, lambda: "· refresh" in status(pilot))
        # the notice and the header come from the same refresh; on a loaded machine the notice may paint later
        await wait_for(pilot, lambda: any("so they last" in n.message for n in pilot.app._notifications))


async def test_the_timer_refresh_shows_changes_without_a_full_reload(sandbox):
    admin(sandbox, "reset-stats", {})
    async with app_for(sandbox, refresh_seconds=0.2).run_test(size=(160, 36)) as pilot:
        await loaded(pilot)
        admin(sandbox, "pulls", {"action": "retitle", "repo": "acme/docs", "number": 7, "title": "Retitled"})
        admin(sandbox, "pulls", {"action": "close", "repo": "acme/storefront", "number": 110})
        await wait_for(pilot, lambda: "Retitled" in titles(pilot) and "Crash on empty cart" not in titles(pilot))
        assert "GitHub ▾" not in status(pilot), "a budget above a quarter stays out of the header"
        budget = pilot.app.screen.deck.budget  # type: ignore[attr-defined]
        requests = admin(sandbox, "stats", method="GET")["graphql"]
    # the first load: 2 requests of 2 points; each refresh since: 1 request of 1 point (a full reload: 2 of 2)
    assert budget is not None and budget.used <= 4 + (requests - 2)
