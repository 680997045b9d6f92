"""How a launch's end reaches GitHub and the namespace's record: the deployment's id recorded for whoever finishes
the report, and the final report claimed exactly once (README, "Launching")."""

from __future__ import annotations

import contextlib

from prdeck.services import naming
from prdeck.services.errors import PrdeckError
from prdeck.services.github.report import GitHubReporter
from prdeck.services.launch.record import ClusterRecord, NamespaceRecord, now_text
from prdeck.services.launch.results import LaunchCancelled


def record_deployment(record: ClusterRecord, namespace: str, reporter: GitHubReporter) -> None:
    """The GitHub deployment's id on the namespace: whoever sees the launch end can finish its report."""
    if reporter.deployment_id is not None:
        with contextlib.suppress(PrdeckError):  # then nobody else can finish its report: the launch still can
            record.mark(namespace, {naming.ANNOTATION_DEPLOYMENT: str(reporter.deployment_id)})


def claim_report(record: ClusterRecord, namespace: str, run_id: str, phase: str, reason: str = "") -> bool:
    """Take the final GitHub report of ``run_id`` (exactly once, whoever comes first); records the phase."""
    try:
        current = record.read(namespace)
        if current is None:
            return True  # no record to claim (destroyed): tell GitHub anyway
        if current.annotations.get(naming.ANNOTATION_REPORTED) == run_id:
            return False
        return record.mark(namespace, {naming.ANNOTATION_REPORTED: run_id, naming.ANNOTATION_PHASE: phase,
                                       naming.ANNOTATION_PHASE_AT: now_text(), naming.ANNOTATION_PHASE_REASON: reason},
                           current.resource_version)
    except PrdeckError:
        return True


def report_interrupted(record: ClusterRecord, reporter: GitHubReporter, namespace: str, run_id: str, step: str,
                 cancel: LaunchCancelled) -> None:
    """A stopped launch: GitHub gets ``error`` and the namespace (if it is still there) ``interrupted``."""
    if cancel.destroyed:
        reporter.interrupted(f"{step} (the preview was destroyed)")
        return
    if claim_report(record, namespace, run_id, "interrupted"):
        reporter.interrupted(step)


def already_reported(previous: NamespaceRecord | None, sha: str, url: str | None) -> int | None:
    """The GitHub deployment whose final status already says this namespace runs ``sha`` ready at ``url``: the
    newest launch ended ``ready`` and reported it. A relaunch that keeps those pods has nothing new to tell GitHub
    (no new deployment, no new statuses): at 100 ms a request that was half a second of every such relaunch."""
    if previous is None or previous.terminating:
        return None
    annotations = previous.annotations
    deployment = annotations.get(naming.ANNOTATION_DEPLOYMENT, "")
    reported = previous.launch_id and annotations.get(naming.ANNOTATION_REPORTED) == previous.launch_id
    same = annotations.get(naming.ANNOTATION_SHA) == sha and (annotations.get(naming.ANNOTATION_URL) or None) == url
    return int(deployment) if reported and same and previous.phase == "ready" and deployment.isdigit() else None
