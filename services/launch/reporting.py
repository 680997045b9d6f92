"""How a launch's end reaches GitHub and the namespace's record: the deployment's id recorded for whoever finishes
the report, and the final report claimed exactly once (README, "Launching")."""

from __future__ import annotations

import contextlib

from prdeck.services import naming
from prdeck.services.errors import PrdeckError
from prdeck.services.github.report import GitHubReporter
from prdeck.services.launch.record import ClusterRecord, NamespaceRecord, now_text
from prdeck.services.launch.results import LaunchCancelled


def record_deployment(record: ClusterRecord, namespace: str, deployment_id: int | None) -> None:
    """The GitHub deployment's id on the namespace: whoever sees the launch end can finish its report. None (it
    could not be created) removes an older launch's, which nobody must report on for this one."""
    with contextlib.suppress(PrdeckError):  # then nobody else can finish its report: the launch still can
        record.mark(namespace, {naming.ANNOTATION_DEPLOYMENT: str(deployment_id) if deployment_id else None})


def record_shown(record: ClusterRecord, namespace: str, run_id: str, reporter: GitHubReporter) -> None:
    """After the ready reports: when GitHub took every one, the namespace says so (:func:`already_reported`)."""
    if reporter.all_sent and reporter.deployment_id is not None:
        with contextlib.suppress(PrdeckError):  # then the next relaunch reports again: no harm
            record.mark(namespace, {naming.ANNOTATION_SHOWN: f"{run_id} {reporter.deployment_id}"})


def claim_report(record: ClusterRecord, namespace: str, run_id: str, phase: str, reason: str = "",
                 also: dict[str, str] | None = None) -> bool:
    """Take the final GitHub report of ``run_id`` (exactly once, whoever comes first); records the phase (and
    ``also``). A launch another one took over reports nothing: the namespace, and GitHub, are the other's."""
    try:
        current = record.read(namespace)
        if current is None:
            return True  # no record to claim (destroyed): tell GitHub anyway
        if current.annotations.get(naming.ANNOTATION_REPORTED) == run_id or current.launch_id != run_id:
            return False
        return record.mark(namespace, {naming.ANNOTATION_REPORTED: run_id, naming.ANNOTATION_PHASE: phase,
                                       naming.ANNOTATION_PHASE_AT: now_text(), naming.ANNOTATION_PHASE_REASON: reason,
                                       **(also or {})},
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
    """The GitHub deployment that already shows this namespace running ``sha`` ready at ``url``: its newest launch
    ended ready, GitHub acknowledged that launch's reports (:func:`record_shown`), and it is awake. A relaunch that
    keeps those pods has nothing new to tell GitHub (no new deployment, no new statuses): at 100 ms a request that
    was half a second of every such relaunch."""
    if previous is None or previous.terminating:
        return None
    annotations = previous.annotations
    shown_launch, _, deployment = annotations.get(naming.ANNOTATION_SHOWN, "").partition(" ")
    same = annotations.get(naming.ANNOTATION_SHA) == sha and (annotations.get(naming.ANNOTATION_URL) or None) == url
    settled = previous.phase == "ready" and not annotations.get(naming.ANNOTATION_ASLEEP)
    fits = shown_launch == previous.launch_id and deployment.isdigit()
    return int(deployment) if previous.launch_id and fits and same and settled else None
