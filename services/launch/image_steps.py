"""The build and push steps of a launch: every image the spec builds, from the PR head to the registry.

Both run in a thread the launch can walk away from (:mod:`prdeck.services.launch.interrupt`), and each starts
only while the preview's namespace is still this launch's (a destroy that came meanwhile stops it).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from prdeck.services import naming
from prdeck.services.github.report import GitHubReporter
from prdeck.services.launch.builder import PushProgress
from prdeck.services.launch.context import build_context
from prdeck.services.launch.interrupt import quiet_after, until_stopped
from prdeck.services.launch.journal import JournalEntry
from prdeck.services.launch.results import ImageBuilder, Plan
from prdeck.services.launch.run import LaunchRun
from prdeck.services.launch.spec import BuildSpec

if TYPE_CHECKING:
    from prdeck.services.launch.settings import LaunchSettings


def build_and_push(run: LaunchRun, entry: JournalEntry, plan: Plan, reporter: GitHubReporter,
                   builder: Callable[[], ImageBuilder], settings: LaunchSettings,
                   still_ours: Callable[[], object], warm_up: Callable[[], None]) -> bool:
    """Build and push every image the spec builds; returns whether anything was built."""
    to_push: list[str] = []
    line = quiet_after(run.stop, run.line)
    with run.step("build", entry) as step:
        if not plan.images:
            step.skip("the spec builds no image")
        else:
            still_ours()
            reporter.progress("Building images")
            engine = builder()
            if engine.simulated:
                run.note("No Docker engine: the sandbox simulates the build and push steps.")
            else:
                registry = next(iter(plan.images.values())).split("/", 1)[0]
                run.note(f"Real builds: the Docker engine builds the images and pushes them to {registry}.")
            for name, build in plan.spec.builds:
                ref = plan.images[name]
                if engine.exists(ref):
                    line(f"{ref} is already in the registry: not built again")
                    continue
                line(f"building {name} from {build.context} ({build.dockerfile}) as {ref}")
                warm_up()  # the apply step's kubernetes client loads while Docker builds
                labels = {**naming.preview_labels(plan.repo, plan.placement.number), naming.ANNOTATION_SHA: plan.sha}
                network = not plan.pull.fork or settings.fork_build_network
                if not network:
                    line("a fork's build: RUN steps get no network (preview.fork_build_network)")

                until_stopped(partial(_build, engine, plan, build, name, ref, labels, line, network,
                                      settings.max_context_bytes), run.stop, f"building {name}")
                to_push.append(ref)
            if not to_push:
                step.skip("every image is already in the registry")
    with run.step("push", entry) as step:
        if not to_push:
            step.skip("nothing new to push")
        else:
            still_ours()
        for ref in to_push:
            reporter.progress(f"Pushing {ref}")
            engine = builder()
            until_stopped(partial(engine.push, ref, partial(_push_progress, run), line), run.stop, f"pushing {ref}")
            line(f"pushed {ref}")
    return bool(to_push)


def _build(engine: ImageBuilder, plan: Plan, build: BuildSpec, name: str, ref: str, labels: dict[str, str],
           line: Callable[[str], None], network: bool, max_bytes: int) -> None:
    with build_context(plan.mirror, plan.sha, build, name, max_bytes) as context:
        engine.build(context, build, ref, labels, line, network=network)


def _push_progress(run: LaunchRun, progress: PushProgress) -> None:
    run.progress("push", min(progress.fraction, 1.0))
