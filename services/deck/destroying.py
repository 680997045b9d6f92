"""Destroying a preview (also one without pods: a launch still building) while a launch of it may be running,
in this process or on another machine.

The launch in this process is stopped at once; one elsewhere is asked to stop through the namespace's record
(``prdeck.dev/cancel``) and, in any case, finds its namespace gone at its next step and never brings it back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prdeck.services import naming
from prdeck.services.errors import PrdeckError
from prdeck.services.github.report import mark_inactive
from prdeck.services.github.service import GitHubService
from prdeck.services.kube.service import ClusterService
from prdeck.services.launch.record import ACTIVE_PHASES, ClusterRecord
from prdeck.services.models import Preview

if TYPE_CHECKING:
    from prdeck.services.launch.launches import Launches


def destroy_preview(github: GitHubService, cluster: ClusterService, launches: Launches | None,
                    preview: Preview) -> Iterator[str]:
    if launches is not None and launches.cancel(preview.namespace):
        yield f"stopping the launch of {preview.repo}#{preview.number} in this prdeck"
    with contextlib.suppress(PrdeckError):  # no record, no launch to ask: the deletion goes on
        record = ClusterRecord(cluster)
        current = record.read(preview.namespace)
        if current is not None and current.phase in ACTIVE_PHASES and current.launch_id:
            record.mark(preview.namespace, {naming.ANNOTATION_CANCEL: current.launch_id})
            yield f"asked the running launch {current.launch_id} to stop"
    yield from cluster.destroy(preview.namespace)
    if launches is not None:
        launches.forget(preview.namespace)
    warnings: list[str] = []
    count = mark_inactive(github, preview.repo, preview.number, warnings.append)
    yield from warnings
    if count:
        yield f"GitHub: {count} deployment{'s' if count > 1 else ''} of preview/pr-{preview.number} marked inactive"

