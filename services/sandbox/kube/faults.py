"""Faults the tests switch on through ``/_sandbox/faults``: a dead cluster, log streams that break."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Faults:
    unreachable: bool = False
    """Every API request is answered by dropping the connection, as a dead cluster would."""
    cut_logs_after: int | None = None
    """The next ``cut_logs_times`` log streams break after this many lines, as when a kubelet connection drops."""
    cut_logs_times: int = 0
