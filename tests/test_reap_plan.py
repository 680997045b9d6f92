"""The reap plan, a pure function of the previews and the open pull requests: every rule and its exceptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prdeck.services.deck.reap import ReapPolicy, plan_reap
from prdeck.services.models import PodStatus, Preview, RepoRef

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
APP, OTHER = RepoRef("octo", "app"), RepoRef("octo", "other")
POD = PodStatus("web-1", "Running", True, None, 0, ("web",))


def preview(number: int, state: str = "ready", *, repo: RepoRef = APP, expires: float | None = 48, age: float = 72,
            pinned: bool = False, known: bool = True, pods: bool = True) -> Preview:
    return Preview(repo, number, f"prdeck-octo-app-pr-{number}", state, None, None, None,
                   NOW + timedelta(hours=expires) if expires is not None else None, (POD,) if pods else (),
                   pinned=pinned, known=known, created_at=NOW - timedelta(hours=age))


def reasons(previews, open_numbers, older_than=None, grace=1.0):
    plan = plan_reap(previews, [APP], {(APP, n) for n in open_numbers}, NOW, ReapPolicy(timedelta(hours=grace)),
                     older_than)
    return {item.preview.number: item.reason for item in plan.remove}, plan.kept


def test_each_rule_picks_its_previews_and_nothing_else():
    found, kept = reasons([
        preview(1),                                          # open, fresh: kept
        preview(2),                                          # PR not open: goes
        preview(3, pinned=True),                             # PR not open: goes even pinned
        preview(4, expires=-1),                              # expired: goes
        preview(5, expires=-1, pinned=True),                 # expired but pinned: kept
        preview(6, "empty", pods=False, age=2),              # empty past the grace: goes
        preview(7, "empty", pods=False, age=0.5),            # empty within the grace: kept
        preview(8, "building", pods=False, age=5),           # a launch under way: kept
        preview(9, "asleep", pods=False, age=500),           # asleep on purpose: kept
        preview(10, "terminating", expires=-5),              # already going: not counted
        preview(11, repo=OTHER, expires=-5),                 # another repository: not ours to judge
        preview(0, "empty", known=False, pods=False, age=2),  # unknown PR past the grace: goes
    ], open_numbers={1, 4, 5, 6, 7, 8, 9, 10})
    assert found == {2: "pull request not open (closed, merged or gone)",
                     3: "pull request not open (closed, merged or gone)", 4: "expired",
                     6: "empty (no pods) for more than 1h", 0: "unknown pull request (no readable repository)"}
    assert kept == 5


def test_older_than_takes_unpinned_previews_older_than_it():
    found, kept = reasons([preview(1, age=24 * 8), preview(2, age=24 * 8, pinned=True), preview(3, age=24)],
                          open_numbers={1, 2, 3}, older_than=timedelta(days=7))
    assert found == {1: "older than 7d"} and kept == 2
