"""Config ``preview.max_previews`` and ``preview.max_parallel_launches``: how many previews a cluster holds, and
how many launches one prdeck runs at once (README, "Caps")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caps:
    max_previews: int = 0
    """Live previews per cluster, counted from the cluster (its namespaces by prdeck's labels); 0: no cap."""
    max_parallel_launches: int = 2
    """Launches running at once in this prdeck; more wait in a queue (``queued #2``). Bulk actions use it too."""
