"""The state of the connection to GitHub, and when to try again (pure logic, no widgets)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from prdeck.services.errors import AuthError, NotFound, PrdeckError, RateLimited

FIRST_RETRY = 5.0


@dataclass(frozen=True)
class Connection:
    """``loading`` until the first answer, then ``live`` or ``failing`` (with the error and the retry delay)."""

    state: str = "loading"
    failures: int = 0
    error: PrdeckError | None = None

    def succeeded(self) -> Connection:
        return Connection("live", 0, None)

    def failed(self, error: PrdeckError) -> Connection:
        return replace(self, state="failing", failures=self.failures + 1, error=error)

    @property
    def newly_failing(self) -> bool:
        """True on the first failure of a run: that one gets a notification, the retries do not."""
        return self.state == "failing" and self.failures == 1

    def retry_in(self, refresh_seconds: float, now: datetime | None = None) -> float | None:
        """Seconds until the next automatic try; None when only the user can fix it (bad token, no repo)."""
        if self.state != "failing":
            return refresh_seconds
        if isinstance(self.error, AuthError | NotFound):
            return None
        if isinstance(self.error, RateLimited) and self.error.reset_at is not None:
            wait = (self.error.reset_at - (now or datetime.now(UTC))).total_seconds()
            return max(wait + 1, FIRST_RETRY)
        return min(FIRST_RETRY * 2 ** (self.failures - 1), max(refresh_seconds, FIRST_RETRY))
