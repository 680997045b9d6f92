"""The state of the link to the cluster, as the header and the keys see it (pure logic, no widgets)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from prdeck.services.errors import PrdeckError


class ClusterState(StrEnum):
    CONNECTING = "connecting"
    """Set up, not answered yet (the connection is made after the first frame)."""
    LIVE = "live"
    """The preview watch delivers."""
    FAILING = "failing"
    """The watch failed; it retries by itself."""
    NONE = "none"
    """No cluster (none configured, or connecting failed): the list works without previews."""


@dataclass(frozen=True)
class ClusterLink:
    """Where the cluster stands; each transition returns a new link."""

    state: ClusterState = ClusterState.NONE
    reason: str | None = None
    """Why there is no cluster, or what fails (an error's title); None when live or connecting."""
    failures: int = 0
    """Failures in a row since the watch last delivered."""

    @classmethod
    def at_start(cls, connecting: bool, problem: PrdeckError | None) -> ClusterLink:
        """``connecting`` when a cluster is connected or set up to connect later, else none and why."""
        return cls().connecting() if connecting else cls().none(problem)

    def connecting(self) -> ClusterLink:
        return ClusterLink(ClusterState.CONNECTING)

    def live(self) -> ClusterLink:
        return ClusterLink(ClusterState.LIVE)

    def failing(self, error: PrdeckError) -> ClusterLink:
        return ClusterLink(ClusterState.FAILING, error.title, self.failures + 1)

    def none(self, problem: PrdeckError | None) -> ClusterLink:
        return ClusterLink(ClusterState.NONE, problem.title if problem is not None else None)

    @property
    def newly_failing(self) -> bool:
        """True on the first failure since the watch delivered: that one gets a notification, the retries do not."""
        return self.state is ClusterState.FAILING and self.failures == 1

    def why(self, default: str) -> str:
        """The reason, or ``default`` when there is none to name."""
        return self.reason or default
