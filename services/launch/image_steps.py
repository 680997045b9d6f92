"""The build and push steps of a launch: every image the spec builds, from the PR head to the registry.

Both run in a thread the launch can walk away from (:mod:`prdeck.services.launch.interrupt`), and each starts
only while the preview's namespace is still this launch's (a destroy that came meanwhile stops it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from prdeck.services.github.report import GitHubReporter
from prdeck.services.launch.builder import PushProgress
from prdeck.services.launch.context import build_context
from prdeck.services.launch.interrupt import each_until_stopped, quiet_after
from prdeck.services.launch.journal import JournalEntry
from prdeck.services.launch.results import ImageBuilder, Plan
from prdeck.services.launch.run import LaunchRun
from prdeck.services.launch.spec import BuildSpec

if TYPE_CHECKING:
    from prdeck.services.launch.settings import LaunchSettings


PARALLEL_PUSHES = 4


MAX_PARALLEL_BUILDS = 8
"""However many cores: a spec (a PR's, hostile) may list a hundred services, each with a context of up to
``build.max_context_mb`` spooled to disk."""


def parallel_builds() -> int:
    """How many images build at once: twice the cores, at most :data:`MAX_PARALLEL_BUILDS`. A build mostly waits on
    the engine (sending the context, creating and committing each step's container), so a client with N cores
    keeps more than N builds busy; ``docker compose build`` runs every service's build at once."""
    return min(2 * (os.cpu_count() or 1), MAX_PARALLEL_BUILDS)


def build_and_push(run: LaunchRun, entry: JournalEntry, plan: Plan, reporter: GitHubReporter,
                   builder: Callable[[], ImageBuilder], settings: LaunchSettings,
                   still_ours: Callable[[], object]) -> bool:
    """Build and push every image the spec builds; returns whether anything was built.

    Several images build side by side (:func:`parallel_builds` at a time) and push side by side; their output
    lines carry the service's name.
    """
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
            network = not plan.pull.fork or settings.fork_build_network
            if not network:
                line("a fork's build: RUN steps get no network (preview.fork_build_network)")
            several = len(plan.spec.builds) > 1
            built: set[str] = set()
            actions = [
                (f"building {name}", partial(_build_unless_there, engine, plan, build, name, plan.images[name],
                                             _prefixed(line, name) if several else line, network,
                                             settings.max_context_bytes, built))
                for name, build in plan.spec.builds
            ]  # each asks the registry first, side by side with the others
            each_until_stopped(actions, run.stop, min(len(actions), parallel_builds()))
            to_push = [plan.images[name] for name, _ in plan.spec.builds if plan.images[name] in built]
            if not to_push:
                step.skip("every image is already in the registry")
    with run.step("push", entry) as step:
        if not to_push:
            step.skip("nothing new to push")
        else:
            still_ours()
            reporter.progress(f"Pushing {', '.join(to_push)}"[:140])
            progress = _PushProgress(run, to_push)
            pushes = [(f"pushing {ref}", partial(_push, builder(), ref, progress, line)) for ref in to_push]
            each_until_stopped(pushes, run.stop, PARALLEL_PUSHES)
    return bool(to_push)


def _build_unless_there(engine: ImageBuilder, plan: Plan, build: BuildSpec, name: str, ref: str,
                        line: Callable[[str], None], network: bool, max_bytes: int, built: set[str]) -> None:
    if engine.exists(ref):
        line(f"{ref} is already in the registry: not built again")
        return
    line(f"building {name} from {build.context} ({build.dockerfile}) as {ref}")
    _build(engine, plan, build, name, ref, line, network, max_bytes)
    built.add(ref)


def _build(engine: ImageBuilder, plan: Plan, build: BuildSpec, name: str, ref: str, line: Callable[[str], None],
           network: bool, max_bytes: int) -> None:
    with build_context(plan.mirror, plan.sha, build, name, max_bytes) as context:
        engine.build(context, build, ref, line, network=network)


def _push(engine: ImageBuilder, ref: str, progress: _PushProgress, line: Callable[[str], None]) -> None:
    engine.push(ref, partial(progress.update, ref), line)
    line(f"pushed {ref}")


def _prefixed(line: Callable[[str], None], name: str) -> Callable[[str], None]:
    return lambda text: line(f"[{name}] {text}")


class _PushProgress:
    """One push bar for several images: the mean of their fractions."""

    def __init__(self, run: LaunchRun, refs: list[str]) -> None:
        self.run = run
        self.fractions = dict.fromkeys(refs, 0.0)

    def update(self, ref: str, progress: PushProgress) -> None:
        self.fractions[ref] = min(progress.fraction, 1.0)
        self.run.progress("push", sum(self.fractions.values()) / len(self.fractions))
