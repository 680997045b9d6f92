"""The launch pipeline: fetch -> build -> push -> apply -> rollout -> report, one PR at a time.

Every step reports through one callback (:class:`LaunchEvent`), so the TUI's progress panel and ``prdeck launch``
show the same thing. A fork's PR head is built only with an approval for exactly that SHA, and its spec is read
from the base branch. GitHub reporting never fails a launch: it warns.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prdeck.services import naming
from prdeck.services.background import in_background
from prdeck.services.errors import UsageError
from prdeck.services.github.report import GitHubReporter
from prdeck.services.github.service import GitHubService
from prdeck.services.kube.service import ClusterService
from prdeck.services.kube.version import server_version
from prdeck.services.launch import compose_pod
from prdeck.services.launch.approval import approved_head
from prdeck.services.launch.builder import image_ref
from prdeck.services.launch.caps import refuse_past_cap
from prdeck.services.launch.deploy import Deployer, DeployError, RolloutStatus
from prdeck.services.launch.git_mirror import GitTree
from prdeck.services.launch.guards import is_guard
from prdeck.services.launch.image_steps import build_and_push
from prdeck.services.launch.interrupt import until_stopped
from prdeck.services.launch.journal import JournalEntry, LaunchJournal
from prdeck.services.launch.kept_pods import already_rolled, deployed_expiry
from prdeck.services.launch.placement import public_url
from prdeck.services.launch.pull_fetch import fetch_pull
from prdeck.services.launch.record import ClusterRecord, now_text
from prdeck.services.launch.render import Placement, render
from prdeck.services.launch.reporting import (
    already_reported,
    claim_report,
    record_deployment,
    record_shown,
    report_interrupted,
)
from prdeck.services.launch.results import (
    ImageBuilder,
    LaunchCancelled,
    LaunchDestroyed,
    LaunchFailed,
    LaunchResult,
    Plan,
    Rendered,
    is_build_time_file,
)
from prdeck.services.launch.run import LaunchRun
from prdeck.services.launch.settings import LaunchSettings
from prdeck.services.launch.spec import load_spec
from prdeck.services.models import LaunchCheck, LaunchEvent, RepoRef

REPORT_WAIT_SECONDS = 60.0
"""How long a launch that ended waits for its GitHub reports still on their way."""


class Launcher:
    """Runs launches against one GitHub, one cluster and one image builder (blocking: use a worker thread)."""

    def __init__(
        self,
        github: GitHubService,
        cluster: ClusterService,
        settings: LaunchSettings,
        builder: Callable[[], ImageBuilder],
        journal: LaunchJournal | None = None,
        mirror_root: Path | None = None,
    ) -> None:
        self.github = github
        self.cluster = cluster
        self.settings = settings
        self._builder_factory = builder
        self._builder: ImageBuilder | None = None
        self._builder_lock = threading.Lock()
        self.journal = journal or LaunchJournal()
        self.mirror_root = mirror_root

    def builder(self) -> ImageBuilder:
        with self._builder_lock:  # launches side by side share one engine client
            if self._builder is None:
                self._builder = self._builder_factory()
            return self._builder

    # checks -------------------------------------------------------------------------------------------
    def check(self, repo: RepoRef, number: int) -> LaunchCheck:
        pull = self.github.pull_detail(repo, number)
        files: tuple[str, ...] = ()
        if pull.fork:
            files = tuple(path for path in self.github.changed_files(repo, number) if is_build_time_file(path))
        return LaunchCheck(repo, number, pull.head_sha, pull.fork, pull.head_repo, files)

    # plan ---------------------------------------------------------------------------------------------
    def plan(self, repo: RepoRef, number: int, expected_sha: str | None = None, approved_sha: str | None = None,
             spec_tree: Any = None, on_line: Callable[[str], None] = lambda _line: None,
             check_approval: bool = True, spec_path: str | None = None,
             on_warning: Callable[[str], None] | None = None) -> Plan:
        """Fetch the PR head (and the base branch, whose spec a fork uses) and read the spec; the spec's warnings
        go to ``on_warning`` (a launch's result lists them), else to ``on_line``."""
        pull = self.github.pull_detail(repo, number)
        if pull.state != "OPEN":
            raise UsageError(f"{repo}#{number} is {pull.state.lower()}", "Only open pull requests get previews.")
        if expected_sha and expected_sha != pull.head_sha:
            raise UsageError(
                f"The head of {repo}#{number} moved to {pull.head_sha[:12]}",
                f"You saw {expected_sha[:12]}. Refresh the list (r) and launch again to build the new head.",
            )
        if check_approval:
            approved_sha = approved_head(pull, approved_sha)
        fetched = fetch_pull(repo, pull, lambda: self.github.clone_url(repo), self.github.token, self.mirror_root,
                             on_line, self.github.api_url)
        mirror = fetched.mirror
        tree = spec_tree or GitTree(mirror, fetched.spec_sha)
        configured = self.settings.spec_path if spec_path is None else spec_path
        variables = self.settings.spec_variables(pull.fork, credentials=(self.github.token,))
        spec = load_spec(tree, configured=configured, variables=variables, images=self.settings.images,
                         policy=self.settings.policy, compose=self.settings.compose)
        for warning in spec.warnings:
            if on_warning is not None:
                on_warning(warning)
            else:
                on_line(f"warning: {warning}")
        namespace = naming.namespace_for(repo, number, self.cluster.prefix)
        placement = Placement(
            repo=repo, number=number, namespace=namespace, head_sha=pull.head_sha, branch=pull.branch,
            # x-uffizzi.delete_preview_after may shorten the preview's life, never extend it past the config's
            expires_at=datetime.now(UTC).replace(microsecond=0) + min(spec.ttl or self.settings.ttl, self.settings.ttl),
            launched_by=self.settings.who(), approved_sha=approved_sha if pull.fork else None,
            launch_id=secrets.token_hex(6),
        )
        slug = naming.repo_key(repo)
        images = {name: image_ref(self.settings.registry, slug, name, number, pull.head_sha) for name, _ in spec.builds}
        return Plan(repo, pull, mirror, spec, placement, images)

    def render(self, repo: RepoRef, number: int, spec_file: Path | None = None) -> Rendered:
        """The objects a launch would apply, without side effects; ``spec_file`` replaces the repository's spec."""
        from prdeck.services.launch.git_mirror import LocalTree

        tree = LocalTree(spec_file.parent) if spec_file is not None else None
        plan = self.plan(repo, number, spec_tree=tree, check_approval=False,
                         spec_path=spec_file.name if spec_file is not None else None)
        return Rendered(tuple(self.objects(plan)), tuple(plan.spec.warnings))

    def objects(self, plan: Plan) -> list[dict[str, Any]]:
        options = replace(self.settings.cluster_options(fork=plan.pull.fork), server_version=plan.server_version)
        return render(plan.spec, plan.placement, options, plan.images, plan.in_use)

    # launch -------------------------------------------------------------------------------------------
    def launch(
        self,
        repo: RepoRef,
        number: int,
        emit: Callable[[LaunchEvent], None],
        *,
        expected_sha: str | None = None,
        approved_sha: str | None = None,
        stop: threading.Event | None = None,
        wait: bool = True,
        rollout_timeout: float | None = None,
    ) -> LaunchResult:
        """Run the pipeline. Without ``wait`` it ends after the apply (rollout and report skipped).

        ``rollout_timeout`` overrides the configured ``preview.rollout_timeout`` for this launch.
        """
        stop = stop or threading.Event()
        run = LaunchRun(repo, number, emit, stop)
        timeout = self.settings.rollout_timeout if rollout_timeout is None else rollout_timeout
        namespace = naming.namespace_for(repo, number, self.cluster.prefix)
        with self.journal.hold(repo, number, namespace, expected_sha or "") as entry:
            try:
                return self._pipeline(run, entry, repo, number, expected_sha, approved_sha, wait, timeout)
            except LaunchCancelled as cancel:
                entry.keep = not (cancel.destroyed or getattr(stop, "destroyed", False))
                raise

    def _pipeline(self, run: LaunchRun, entry: JournalEntry, repo: RepoRef, number: int,
                  expected_sha: str | None, approved_sha: str | None, wait: bool, timeout: float) -> LaunchResult:
        started = time.monotonic()
        record = ClusterRecord(self.cluster)
        run_id = secrets.token_hex(6)
        # the engine's client (docker's import, a ping) is made while GitHub, git and the cluster answer; its
        # failure (no engine) matters only to a spec that builds, when the build step asks for it
        engine = in_background(self.builder, "prdeck-docker")
        with run.step("fetch", entry):
            plan = until_stopped(lambda: self.plan(repo, number, expected_sha, approved_sha, on_line=run.line,
                                                   on_warning=run.warn),
                                 run.stop, "fetching the pull request")
            self._claim(run, plan, run_id)
        namespace = plan.placement.namespace
        reporter = GitHubReporter(self.github, repo, number, plan.sha, self.settings.sticky_comment, run.warn,
                                  background=True,
                                  on_deployment=lambda deployment: record_deployment(record, namespace, deployment))
        if not wait:  # its end is reported by whoever sees it: on a deployment of its own
            plan.reported_deployment = None
        if plan.reported_deployment is not None:
            reporter.adopt(plan.reported_deployment)
        else:
            reporter.started()
        try:
            result = self._deploy(run, entry, plan, reporter, record, run_id, wait, timeout, started, engine)
        finally:
            if not reporter.flush(REPORT_WAIT_SECONDS):
                run.warn(f"GitHub did not answer within {REPORT_WAIT_SECONDS:.0f} s: its deployment and commit "
                         "status may not show how this launch ended.")
        return replace(result, warnings=tuple(run.warnings))  # with what the reports had to say

    def _deploy(self, run: LaunchRun, entry: JournalEntry, plan: Plan, reporter: GitHubReporter,
                record: ClusterRecord, run_id: str, wait: bool, timeout: float, started: float,
                engine: Future[ImageBuilder]) -> LaunchResult:
        """Build, push, apply, roll out and report; GitHub hears of each step from ``reporter``'s queue."""
        repo, number, namespace = plan.repo, plan.placement.number, plan.placement.namespace
        try:
            built = build_and_push(run, entry, plan, reporter, engine.result, self.settings,
                                   lambda: record.require_ours(namespace, run_id))
            with run.step("apply", entry):
                record.require_ours(namespace, run_id)
                # pods kept: nothing to wait for after the apply, so the PR's head is asked again while it runs
                head = self._head_check(repo, number) if wait and plan.kept_pods else None
                workload = [obj for obj in self.objects(plan) if not is_guard(obj)]  # the guards: applied by _claim
                Deployer(self.cluster).apply(workload, run.line, on_warning=run.warn)
                record.mark(namespace, {naming.ANNOTATION_PHASE: "deploying", naming.ANNOTATION_PHASE_AT: now_text(),
                                        naming.ANNOTATION_ASLEEP: None})  # the apply scaled an asleep one back
            with run.step("rollout", entry) as step:
                if not wait:
                    step.skip("not waited for: the next prdeck that sees it ready reports it to GitHub")
                    reporter.progress("Deploying")
                    return self._result(run, plan, built, time.monotonic() - started, stale=False)
                # a declared start_period is time the spec says it needs before it can be healthy
                kept = self._rollout(run, plan, timeout + compose_pod.largest_start_period(plan.spec), record, run_id)
        except LaunchFailed as failure:
            if claim_report(record, namespace, run_id, "failed", f"{failure.step}: {failure.cause.title}"):
                reporter.failed(failure.step, failure.cause.title)
            raise
        except LaunchCancelled as cancel:
            if getattr(run.stop, "destroyed", False) and not cancel.destroyed:  # a destroy in this process
                cancel = LaunchDestroyed("The preview was destroyed during the launch", cancel.detail)
            report_interrupted(record, reporter, namespace, run_id, run.current, cancel)
            raise cancel from None
        with run.step("report", entry):
            if head is None or not kept:  # a rollout ran after the apply: ask now, while the report goes out
                head = self._head_check(repo, number)
            if kept and plan.reported_deployment is not None:  # GitHub already shows exactly this
                claim_report(record, namespace, run_id, "ready",
                             also={naming.ANNOTATION_SHOWN: f"{run_id} {plan.reported_deployment}"})
            elif claim_report(record, namespace, run_id, "ready"):
                reporter.succeeded(self._url(plan))
                reporter.then(lambda: record_shown(record, namespace, run_id, reporter))
            newest = head.result()
        stale = newest != plan.sha
        if stale:
            run.warn(f"The PR got a new commit ({newest[:12]}) during the launch: the preview shows "
                     f"{plan.sha[:12]} and is marked stale. Press l again to update it.")
        return self._result(run, plan, built, time.monotonic() - started, stale)

    def _head_check(self, repo: RepoRef, number: int) -> Future[str]:
        """The PR's head now, asked in the background: whether it moved during the launch (the preview is stale)."""
        return in_background(lambda: self.github.pull_detail(repo, number).head_sha, "prdeck-head-check")

    def _claim(self, run: LaunchRun, plan: Plan, run_id: str) -> None:
        """Create (or take over) the preview's namespace with its guards before anything is built, recording this
        launch on it; a relaunch of the commit that already runs keeps its pods (same template, no restart)."""
        deployer = Deployer(self.cluster)
        kept = deployed_expiry(self.cluster, plan.placement.namespace, plan.sha)
        if kept:  # the pod template keeps its old expires-at; the namespace's (the one that counts) is reset
            expires = datetime.fromisoformat(kept[0].replace("Z", "+00:00"))
            plan.placement = replace(plan.placement, pod_expires_at=expires, launch_id=kept[1])
            plan.kept_pods = True
            run.line(f"{plan.sha[:12]} already runs: pods kept")
        previous = ClusterRecord(self.cluster).read(plan.placement.namespace)
        if kept:
            plan.reported_deployment = already_reported(previous, plan.sha, self._url(plan))
        plan.in_use = ClusterRecord(self.cluster).quota_used(plan.placement.namespace)
        plan.server_version = server_version(self.cluster)
        warning = compose_pod.sidecar_warning(plan.spec, plan.server_version)
        if warning:
            run.warn(warning)
        guards = [obj for obj in self.objects(plan) if is_guard(obj)]  # sized from the spec: refused before a build
        launch = {naming.ANNOTATION_LAUNCH: run_id, naming.ANNOTATION_PHASE: "building",
                  naming.ANNOTATION_PHASE_AT: now_text()}
        guards[0]["metadata"]["annotations"].update(launch)
        cap = self.settings.max_previews
        fresh = cap > 0 and previous is None
        deployer.apply(guards, run.line, on_warning=run.warn)
        if fresh:  # a new preview: counted against preview.max_previews, with every other prdeck's
            refuse_past_cap(self.cluster, plan.placement.namespace, cap)

    def _rollout(self, run: LaunchRun, plan: Plan, timeout: float, record: ClusterRecord, run_id: str) -> bool:
        """Wait for the pods; True when the apply changed nothing they run (no rollout)."""
        if plan.spec.form == "compose" and already_rolled(self.cluster, plan.placement.namespace,
                                                          plan.placement.launch_id):
            run.line("pods: ready (kept: the apply changed nothing they run)")
            return True
        try:
            Deployer(self.cluster).wait_rollout(
                plan.placement.namespace, plan.placement.launch_id, timeout,
                lambda status: _rollout_line(run, status), stop=run.stop,
            )
        except DeployError:
            record.require_ours(plan.placement.namespace, run_id)  # destroyed meanwhile: that, not a timeout
            raise
        return False

    def _url(self, plan: Plan) -> str | None:
        return public_url(plan.placement, self.settings.cluster_options(plan.pull.fork))

    def _result(self, run: LaunchRun, plan: Plan, built: bool, seconds: float, stale: bool) -> LaunchResult:
        return LaunchResult(
            repo=plan.repo, number=plan.placement.number, namespace=plan.placement.namespace,
            sha=plan.sha, url=self._url(plan), images=tuple(plan.images.values()), steps=tuple(run.records),
            seconds=seconds,
            built=built, simulated=built and getattr(self._builder, "simulated", False), stale=stale,
            warnings=tuple(run.warnings),
        )


def _rollout_line(run: LaunchRun, status: RolloutStatus) -> None:
    run.line(f"pods: {status.state}{f' ({status.reason})' if status.reason else ''}")
