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
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prdeck.services import naming
from prdeck.services.errors import UsageError
from prdeck.services.github.report import GitHubReporter
from prdeck.services.github.service import GitHubService
from prdeck.services.kube.service import ClusterService
from prdeck.services.launch.builder import image_ref
from prdeck.services.launch.context import build_context
from prdeck.services.launch.deploy import Deployer, RolloutStatus
from prdeck.services.launch.git_mirror import GitMirror, GitTree
from prdeck.services.launch.journal import JournalEntry, LaunchJournal
from prdeck.services.launch.render import Placement, render, spec_url
from prdeck.services.launch.results import (
    ApprovalNeeded,
    ImageBuilder,
    LaunchCancelled,
    LaunchFailed,
    LaunchResult,
    Plan,
    Rendered,
    is_build_time_file,
)
from prdeck.services.launch.run import LaunchRun
from prdeck.services.launch.settings import LaunchSettings
from prdeck.services.launch.spec import load_spec
from prdeck.services.models import LaunchCheck, LaunchEvent, PullDetail, RepoRef


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
        self.journal = journal or LaunchJournal()
        self.mirror_root = mirror_root

    def builder(self) -> ImageBuilder:
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

    def _approved(self, pull: PullDetail, approved_sha: str | None) -> None:
        if not pull.fork:
            return
        if approved_sha is None:
            raise ApprovalNeeded(
                f"{pull.repo}#{pull.number} comes from the fork {pull.head_repo}: approve it first",
                f"It builds untrusted code at {pull.head_sha}. Review it, then launch with --approve-sha "
                f"{pull.head_sha}.",
            )
        if approved_sha != pull.head_sha:
            raise ApprovalNeeded(
                f"The head of {pull.repo}#{pull.number} moved since it was approved",
                f"Approved {approved_sha[:12]}, the head is now {pull.head_sha[:12]} ({pull.head_repo}). Review the "
                f"new commits and approve {pull.head_sha} again.",
            )

    # plan ---------------------------------------------------------------------------------------------
    def plan(self, repo: RepoRef, number: int, expected_sha: str | None = None, approved_sha: str | None = None,
             spec_tree: Any = None, on_line: Callable[[str], None] = lambda _line: None,
             check_approval: bool = True, spec_path: str | None = None) -> Plan:
        """Fetch the PR head (and the base branch, whose spec a fork uses) and read the spec."""
        pull = self.github.pull_detail(repo, number)
        if pull.state != "OPEN":
            raise UsageError(f"{repo}#{number} is {pull.state.lower()}", "Only open pull requests get previews.")
        if expected_sha and expected_sha != pull.head_sha:
            raise UsageError(
                f"The head of {repo}#{number} moved to {pull.head_sha[:12]}",
                f"You saw {expected_sha[:12]}. Refresh the list (r) and launch again to build the new head.",
            )
        if check_approval:
            self._approved(pull, approved_sha)
        mirror = GitMirror(repo, self.github.clone_url(repo), self.github.token, self.mirror_root)
        head_ref, base_ref = f"refs/prdeck/pr-{number}", f"refs/prdeck/base/{pull.base_branch}"
        on_line(f"git fetch refs/pull/{number}/head and {pull.base_branch} into {mirror.path}")
        fetched = mirror.fetch({f"refs/pull/{number}/head": head_ref, f"refs/heads/{pull.base_branch}": base_ref})
        if fetched[head_ref] != pull.head_sha:
            raise UsageError(
                f"The head of {repo}#{number} moved during the fetch",
                f"GitHub said {pull.head_sha[:12]}, git fetched {fetched[head_ref][:12]}. Launch again.",
            )
        on_line(f"head {pull.head_sha[:12]}, base {pull.base_branch} at {fetched[base_ref][:12]}")
        tree = spec_tree or GitTree(mirror, fetched[base_ref] if pull.fork else pull.head_sha)
        configured = self.settings.spec_path if spec_path is None else spec_path
        variables = self.settings.spec_variables(pull.fork, credentials=(self.github.token,))
        spec = load_spec(tree, configured=configured, variables=variables, images=self.settings.images,
                         policy=self.settings.policy)
        for warning in spec.warnings:
            on_line(f"warning: {warning}")
        namespace = naming.namespace_for(repo, number, self.cluster.prefix)
        placement = Placement(
            repo=repo, number=number, namespace=namespace, head_sha=pull.head_sha, branch=pull.branch,
            expires_at=datetime.now(UTC).replace(microsecond=0) + self.settings.ttl,
            launched_by=self.settings.launched_by, approved_sha=approved_sha if pull.fork else None,
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
        options = self.settings.cluster_options(fork=plan.pull.fork)
        return render(plan.spec, plan.placement, options, plan.images)

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
            except LaunchCancelled:
                entry.keep = True
                raise

    def _pipeline(self, run: LaunchRun, entry: JournalEntry, repo: RepoRef, number: int,
                  expected_sha: str | None, approved_sha: str | None, wait: bool, timeout: float) -> LaunchResult:
        started = time.monotonic()
        with run.step("fetch", entry):
            plan = self.plan(repo, number, expected_sha, approved_sha, on_line=run.line)
        reporter = GitHubReporter(self.github, repo, number, plan.sha, self.settings.sticky_comment, run.warn)
        reporter.started()
        try:
            built = self._images(run, entry, plan, reporter)
            with run.step("apply", entry):
                deployer = Deployer(self.cluster)
                kept = deployer.deployed_expiry(plan.placement.namespace, plan.sha)
                if kept:
                    expires = datetime.fromisoformat(kept[0].replace("Z", "+00:00"))
                    plan.placement = replace(plan.placement, expires_at=expires, launch_id=kept[1])
                    run.line(f"{plan.sha[:12]} already runs: pods kept (expires {kept[0]})")
                deployer.apply(self.objects(plan), run.line, on_warning=run.warn)
            with run.step("rollout", entry) as step:
                if not wait:
                    step.skip("not waited for")
                    reporter.progress("Deploying")
                    return self._result(run, plan, built, time.monotonic() - started, stale=False)
                Deployer(self.cluster).wait_rollout(
                    plan.placement.namespace, plan.placement.launch_id, timeout,
                    lambda status: _rollout_line(run, status), stop=run.stop,
                )
        except LaunchFailed as failure:
            reporter.failed(failure.step, failure.cause.title)
            raise
        with run.step("report", entry):
            reporter.succeeded(self._url(plan))
            head = self.github.pull_detail(repo, number).head_sha
        stale = head != plan.sha
        if stale:
            run.warn(f"The PR got a new commit ({head[:12]}) during the launch: the preview shows "
                     f"{plan.sha[:12]} and is marked stale. Press l again to update it.")
        return self._result(run, plan, built, time.monotonic() - started, stale)

    def _url(self, plan: Plan) -> str:
        return spec_url(plan.spec, plan.placement, self.settings.cluster_options(plan.pull.fork))

    def _result(self, run: LaunchRun, plan: Plan, built: bool, seconds: float, stale: bool) -> LaunchResult:
        return LaunchResult(
            repo=plan.repo, number=plan.placement.number, namespace=plan.placement.namespace,
            sha=plan.sha, url=self._url(plan), images=tuple(plan.images.values()), steps=tuple(run.records),
            seconds=seconds,
            built=built, simulated=getattr(self._builder, "simulated", False), stale=stale,
            warnings=tuple(run.warnings),
        )

    def _images(self, run: LaunchRun, entry: JournalEntry, plan: Plan, reporter: GitHubReporter) -> bool:
        """Build and push every image the spec builds; returns whether anything was built."""
        to_push: list[str] = []
        with run.step("build", entry) as step:
            if not plan.images:
                step.skip("the spec builds no image")
            else:
                reporter.progress("Building images")
                builder = self.builder()
                if builder.simulated:
                    run.note("No Docker engine: the sandbox simulates the build and push steps.")
                for name, build in plan.spec.builds:
                    ref = plan.images[name]
                    if builder.exists(ref):
                        run.line(f"{ref} is already in the registry: not built again")
                        continue
                    run.line(f"building {name} from {build.context} ({build.dockerfile}) as {ref}")
                    self.cluster.warm_up()  # the apply step's kubernetes client loads while Docker builds
                    labels = {**naming.preview_labels(plan.repo, plan.placement.number),
                              naming.ANNOTATION_SHA: plan.sha}
                    network = not plan.pull.fork or self.settings.fork_build_network
                    if not network:
                        run.line("a fork's build: RUN steps get no network (preview.fork_build_network)")
                    with build_context(plan.mirror, plan.sha, build, name, self.settings.max_context_bytes) as context:
                        builder.build(context, build, ref, labels, run.line, network=network)
                    to_push.append(ref)
                if not to_push:
                    step.skip("every image is already in the registry")
        with run.step("push", entry) as step:
            if not to_push:
                step.skip("nothing new to push")
            for ref in to_push:
                reporter.progress(f"Pushing {ref}")
                builder = self.builder()
                builder.push(ref, lambda progress: run.progress("push", progress.fraction), run.line)
                run.line(f"pushed {ref}")
        return bool(to_push)


def _rollout_line(run: LaunchRun, status: RolloutStatus) -> None:
    run.line(f"pods: {status.state}{f' ({status.reason})' if status.reason else ''}")


