"""What O, o, l, d, t, e, p and z do in the list: open the PR or its preview, launch (forks after approval; an
asleep preview wakes instead), logs, destroy; e, p and z run :mod:`prdeck.screens.lifecycle_actions`.

:class:`PullActions` runs the flows for one list screen: it asks the questions (a modal screen) and starts the
thread workers below. The workers are ``@work`` functions whose first argument is the screen they run on; they
hand results back as messages or notifications (both thread-safe, no ``call_from_thread``), and an error they
raise goes to the screen's one router, by its :class:`~prdeck.screens.pull_feeds.Work` group.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.screen import Screen

from prdeck.screens.approve import ApproveScreen
from prdeck.screens.confirm import ConfirmScreen
from prdeck.screens.launch import LaunchScreen
from prdeck.screens.lifecycle_actions import run_extend, run_pin_toggle, run_sleep_toggle, run_wake
from prdeck.screens.logs import LogsScreen
from prdeck.screens.pull_feeds import Work
from prdeck.services.deck import Deck, Row
from prdeck.services.models import LaunchCheck, Preview
from prdeck.tui.messages import ForkChecked, OpenUrl
from prdeck.tui.view.failure import as_failure
from prdeck.tui.view.launch_progress import LaunchProgress
from prdeck.tui.view.list_model import ListModel
from prdeck.tui.view.safe_text import printable


class PullActions:
    """The action flows of one list screen; keeps the launches it started (``l`` on their row shows the panel)."""

    def __init__(self, screen: Screen[None], deck: Deck, model: ListModel, log_lines: int) -> None:
        self.screen = screen
        self.deck = deck
        self.model = model
        self.log_lines = log_lines
        self.launches: dict[str, LaunchProgress] = {}

    def _preview(self, row: Row | None, doing: str) -> Preview | None:
        """The row's preview, or None after saying why there is none."""
        if row is None:
            return None
        if row.preview is None:
            why = "" if self.deck.has_cluster else f" ({self.model.cluster.why('no cluster')})"
            self.screen.notify(f"{row.key} has no preview to {doing}{why}.", timeout=4, markup=False)
            return None
        return row.preview

    # O, t, o ------------------------------------------------------------------------------------------
    def open_pull(self, row: Row | None) -> None:
        if row is not None and row.pull.url:
            self.screen.app.post_message(OpenUrl(row.pull.url))

    def logs(self, row: Row | None) -> None:
        preview = self._preview(row, "show logs of")
        if preview is not None:
            self.screen.app.push_screen(LogsScreen(self.deck, preview, self.log_lines))

    def open_preview(self, row: Row | None) -> None:
        preview = self._preview(row, "open")
        if preview is not None and preview.state == "asleep":
            run_wake(self.screen, self.deck, preview, then_open=True)
        elif preview is not None:
            run_open_preview(self.screen, self.deck, preview)

    # e, p, z ------------------------------------------------------------------------------------------
    def lifecycle(self, row: Row | None, action: str) -> None:
        """Extend by the TTL, toggle the pin, or put to sleep (wake, when asleep) the row's preview."""
        preview = self._preview(row, {"extend": "extend", "pin": "pin", "sleep": "put to sleep"}[action])
        if preview is None:
            return
        worker = {"extend": run_extend, "pin": run_pin_toggle, "sleep": run_sleep_toggle}[action]
        worker(self.screen, self.deck, preview)

    # d ------------------------------------------------------------------------------------------------
    def destroy(self, row: Row | None) -> None:
        """Destroy the row's preview once the user said ``y`` to a question naming the namespace."""
        preview = self._preview(row, "destroy")
        if preview is None:
            return
        question = Text.assemble(
            ("Destroy the preview of ", ""),
            (printable(preview.key), "bold magenta"),
            ("?\n\nNamespace ", ""),
            (preview.namespace, "bold"),
            (" and everything in it will be deleted.", ""),
        )

        def decided(confirmed: bool | None) -> None:
            if confirmed:
                run_destroy(self.screen, self.deck, preview)
            else:
                self.screen.notify("Nothing destroyed.", timeout=3)

        self.screen.app.push_screen(ConfirmScreen(question), decided)

    # l ------------------------------------------------------------------------------------------------
    def launch(self, row: Row | None) -> None:
        """Launch (or redeploy) the row's preview; a launch in flight shows its panel again; a fork asks first."""
        if row is None or row.orphan:
            return
        if row.preview is not None and row.preview.state == "asleep":
            run_wake(self.screen, self.deck, row.preview)  # the same images, scaled back: no build
            return
        running = self.launches.get(row.key)
        if running is not None and running.running:
            self.screen.app.push_screen(LaunchScreen(running))
            return
        if not self.deck.has_cluster:
            reason = self.model.cluster.why("set KUBECONFIG")
            self.screen.notify(f"No cluster: {reason}.", title="Cannot launch", markup=False)
            return
        if row.pull.fork:
            run_fork_check(self.screen, self.deck, row)
        else:
            self._start_launch(row, None)

    def approve(self, row: Row, check: LaunchCheck) -> None:
        """Ask about a fork's launch (see :class:`ApproveScreen`); ``y`` launches exactly the SHA shown."""

        def decided(approved: bool | None) -> None:
            if approved:
                self._start_launch(row, check.head_sha)
            else:
                self.screen.notify(f"{row.key} was not launched.", timeout=3, markup=False)

        self.screen.app.push_screen(ApproveScreen(check), decided)

    def _start_launch(self, row: Row, approved_sha: str | None) -> None:
        progress = LaunchProgress(row.key, row.pull.head_sha)
        self.launches[row.key] = progress
        self.screen.app.push_screen(LaunchScreen(progress))
        run_launch(self.screen, self.deck, row, progress, approved_sha)


# workers ------------------------------------------------------------------------------------------------
@work(thread=True, exclusive=True, exit_on_error=False, group=Work.DESTROY)
def run_destroy(screen: Screen[None], deck: Deck, preview: Preview) -> None:
    for line in deck.destroy(preview):
        screen.notify(line, title=f"Destroying {preview.key}", timeout=4, markup=False)
    screen.notify(f"{preview.namespace} is gone.", title=f"Destroyed {preview.key}", markup=False)


@work(thread=True, exclusive=True, exit_on_error=False, group=Work.LAUNCH_CHECK)
def run_fork_check(screen: Screen[None], deck: Deck, row: Row) -> None:
    screen.post_message(ForkChecked(row, deck.launch_check(row.pull.repo, row.pull.number)))


@work(thread=True, exclusive=True, exit_on_error=False, group=Work.OPEN_PREVIEW)
def run_open_preview(screen: Screen[None], deck: Deck, preview: Preview) -> None:
    screen.app.post_message(OpenUrl(deck.open_url(preview)))


@work(thread=True, exit_on_error=False, group=Work.LAUNCH)
def run_launch(screen: Screen[None], deck: Deck, row: Row, progress: LaunchProgress, approved_sha: str | None) -> None:
    """One launch, several at a time. Whatever it raises ends it as failed with the error shown: a launch left
    "running" would keep its panel open forever, and ``l`` would show that panel instead of launching again."""
    try:
        result = deck.launch(row.pull.repo, row.pull.number, progress.apply, expected_sha=row.pull.head_sha,
                             approved_sha=approved_sha)
    except Exception as error:
        failure = as_failure(error)
        progress.finish("failed", f"{failure.title}. {failure.detail}".strip(), tuple(getattr(error, "output", ())))
        screen.notify(printable(failure.detail) or " ", title=printable(failure.title), severity="error",
                      timeout=10, markup=False)
        return
    where = result.url or "no public URL: o opens it through a relay"
    summary = f"{where} ({result.seconds:.1f}s{', simulated build' if result.simulated else ''})"
    progress.finish("ready", summary)
    screen.notify(summary, title=f"Preview of {row.key} is ready", markup=False)
