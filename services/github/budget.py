"""GitHub's GraphQL points budget, as every response reports it, and how often a refresh can afford to run.

GitHub gives a user 5,000 GraphQL points an hour, shared with every other tool using the token. Each answer
carries ``X-RateLimit-Remaining``, ``-Limit``, ``-Used`` and ``-Reset`` (``X-RateLimit-Resource: graphql``);
:class:`Budget` keeps the newest of them. :func:`paced_interval` stretches the refresh interval when the points
left would not last at the configured pace until the reset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LOW_FRACTION = 0.25
"""Below this share of the limit the header shows the budget."""
RESERVE_FRACTION = 0.05
"""Points left alone for everything else the token does (gh, CI bots, prdeck's own launch reports)."""


@dataclass(frozen=True)
class Budget:
    """The GraphQL rate limit as of the newest answer."""

    limit: int
    remaining: int
    used: int
    reset_at: datetime

    @property
    def low(self) -> bool:
        return self.remaining < self.limit * LOW_FRACTION

    def to_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "used": self.used,
            "reset_at": self.reset_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def budget_from_headers(headers: Mapping[str, Any] | None) -> Budget | None:
    """The GraphQL budget in an answer's headers (None: no figures, or another resource's)."""
    lowered = {str(key).lower(): str(value) for key, value in (headers or {}).items()}
    if lowered.get("x-ratelimit-resource", "graphql") != "graphql":
        return None
    try:
        return Budget(
            limit=int(lowered["x-ratelimit-limit"]),
            remaining=int(lowered["x-ratelimit-remaining"]),
            used=int(lowered.get("x-ratelimit-used", "0")),
            reset_at=datetime.fromtimestamp(int(lowered["x-ratelimit-reset"]), UTC),
        )
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class Pace:
    """How long to wait before the next refresh, and whether that is longer than configured."""

    seconds: float
    stretched: bool


def paced_interval(base: float, budget: Budget | None, points_per_refresh: float, now: datetime) -> Pace:
    """``base`` seconds, or longer when refreshing every ``base`` s would spend the points left before the reset.

    ``points_per_refresh`` is what a refresh has cost on average (full reloads included). A reserve of
    :data:`RESERVE_FRACTION` of the limit stays for the token's other users.
    """
    if budget is None or points_per_refresh <= 0:
        return Pace(base, False)
    seconds_left = (budget.reset_at - now).total_seconds()
    if seconds_left <= 0:
        return Pace(base, False)
    spendable = budget.remaining - budget.limit * RESERVE_FRACTION
    if spendable < points_per_refresh:
        return Pace(max(base, seconds_left + 1), True)  # nothing to spend: wait for the reset
    refreshes_affordable = spendable / points_per_refresh
    needed = seconds_left / refreshes_affordable
    return Pace(needed, True) if needed > base else Pace(base, False)


class Pacer:
    """Measures what each refresh cycle drains from the budget (the token's other users included) and turns
    the newest figures into the wait before the next refresh."""

    WINDOW = 60
    """Cycles averaged: half an hour at 30 s, so a periodic full reload is spread over the cycles around it."""

    def __init__(self) -> None:
        self._spent: list[int] = []
        self._last: Budget | None = None

    def record(self, budget: Budget | None) -> None:
        """Call after each refresh with the budget as it stands."""
        if budget is None:
            return
        last, self._last = self._last, budget
        if last is not None and last.reset_at == budget.reset_at and last.remaining >= budget.remaining:
            self._spent = [*self._spent[-(self.WINDOW - 1):], last.remaining - budget.remaining]

    @property
    def points_per_refresh(self) -> float:
        return sum(self._spent) / len(self._spent) if self._spent else 0.0

    def next_wait(self, base: float, now: datetime | None = None) -> Pace:
        return paced_interval(base, self._last, self.points_per_refresh, now or datetime.now(UTC))
