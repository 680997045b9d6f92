"""GitHub reports that nobody sent: a launch that ended after its apply without reporting (``prdeck launch``
without ``--wait``, a launch cut off during its rollout) is reported by the next prdeck that sees the preview
ready or failed — the TUI, ``ls``, ``status``, another maintainer's — exactly once (the namespace's record is
claimed with its resourceVersion: a second claimant gets 409 and stays quiet).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable

from prdeck.services import naming
from prdeck.services.errors import PrdeckError
from prdeck.services.github.report import GitHubReporter
from prdeck.services.github.service import GitHubService
from prdeck.services.kube.service import ClusterService
from prdeck.services.launch.record import ClusterRecord, NamespaceRecord, now_text
from prdeck.services.launch.reporting import record_shown
from prdeck.services.models import Preview, RepoRef

FINAL_STATES = frozenset({"ready", "stale", "expiring", "failed"})


class PendingReports:
    """Finishes reports for previews that reached a final state; asks the cluster only when one newly did."""

    def __init__(self, github: GitHubService, cluster: ClusterService) -> None:
        self._github = github
        self._record = ClusterRecord(cluster)
        self._seen: set[tuple[str, str | None, str]] = set()
        self._lock = threading.Lock()

    def finish(self, previews: Iterable[Preview], busy: Collection[str] = (),
               on_line: Callable[[str], None] = lambda _line: None) -> int:
        """Report what is pending among ``previews`` (``busy``: namespaces whose launch runs in this process and
        reports itself). Returns how many reports were sent; never raises (the list must not break)."""
        final = {p.namespace: p for p in previews if p.state in FINAL_STATES and p.namespace not in busy}
        with self._lock:
            new = {(p.namespace, p.deployed_sha, p.state) for p in final.values()} - self._seen
            if not new:
                return 0
            self._seen |= new
            try:
                records = self._record.list()
            except PrdeckError:
                self._seen -= new  # try again next time
                return 0
            return sum(self._finish_one(record, final[record.namespace], on_line) for record in records
                       if record.namespace in final and _pending(record, final[record.namespace]))

    def _finish_one(self, record: NamespaceRecord, preview: Preview, on_line: Callable[[str], None]) -> bool:
        ready = preview.state != "failed"
        claim = {naming.ANNOTATION_REPORTED: record.launch_id, naming.ANNOTATION_PHASE: "ready" if ready else "failed",
                 naming.ANNOTATION_PHASE_AT: now_text()}
        try:
            if not self._record.mark(record.namespace, claim, record.resource_version):
                return False  # someone else reported it, or the namespace went away
            repo = RepoRef.parse(record.annotations[naming.ANNOTATION_REPO])
        except (PrdeckError, KeyError, ValueError):
            return False
        reporter = GitHubReporter(self._github, repo, preview.number, preview.deployed_sha or "", warn=on_line)
        reporter.resume(int(record.annotations[naming.ANNOTATION_DEPLOYMENT]))
        if ready:
            reporter.succeeded(record.annotations.get(naming.ANNOTATION_URL) or None)
            record_shown(self._record, record.namespace, record.launch_id, reporter)  # a relaunch may stand on it
        else:
            reporter.failed("rollout", preview.reason or "failed")
        on_line(f"GitHub: the preview of {repo}#{preview.number} reported {'ready' if ready else 'failed'}")
        return True


def _pending(record: NamespaceRecord, preview: Preview) -> bool:
    """Launched, applied, never reported, and the pods run the launched commit."""
    annotations = record.annotations
    return (record.unreported and record.phase == "deploying" and annotations[naming.ANNOTATION_DEPLOYMENT].isdigit()
            and annotations.get(naming.ANNOTATION_SHA) == preview.deployed_sha)
