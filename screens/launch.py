"""The progress panel of one launch: each step with its duration, live build output, a push progress bar.

Esc hides the panel while the launch goes on (the row keeps showing its state); `l` on the row shows it again.
The panel reads a :class:`LaunchProgress` on a timer, so a chatty build never floods the message queue.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, ProgressBar, Static

from prdeck.tui.view.launch_progress import LaunchProgress, StepView
from prdeck.tui.view.safe_text import printable
from prdeck.tui.widgets.following_log import FollowingLog

REPAINT_SECONDS = 0.1
STEP_STYLES = {"pending": ("·", "dim"), "running": ("▶", "bold cyan"), "done": ("✓", "green"),
               "skipped": ("–", "dim"), "failed": ("✗", "bold red")}


def steps_text(steps: list[StepView]) -> Text:
    text = Text()
    for index, step in enumerate(steps):
        if index:
            text.append("\n")
        mark, style = STEP_STYLES.get(step.state, ("?", ""))
        seconds = f"{step.seconds:6.1f}s" if step.seconds is not None else "       "
        text.append(f" {mark} ", style=style)
        text.append(f"{step.name:<8}", style=style)
        text.append(f" {seconds}  ", style="dim")
        detail_style = "red" if step.state == "failed" else "dim"
        text.append(printable(step.detail) if step.detail else step.state, style=detail_style)
    return text


class LaunchScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "hide", "Hide (the launch goes on)"), Binding("escape", "close", "Close")]

    def __init__(self, progress: LaunchProgress) -> None:
        super().__init__()
        self.progress = progress
        self._seen_version = -1
        self._lines = 0
        self._ended = False

    def compose(self) -> ComposeResult:
        with Vertical(id="launch-box"):
            yield Static(id="launch-title")
            yield Static(id="launch-steps")
            yield ProgressBar(total=1.0, show_eta=False, id="launch-push")
            yield Static(id="launch-notes")
            yield FollowingLog(id="launch-output", max_lines=2000)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#launch-push", ProgressBar).display = False
        self._repaint()
        self.set_interval(REPAINT_SECONDS, self._repaint)

    def _repaint(self) -> None:
        progress = self.progress
        title = Text.assemble(("Launch ", "bold"), (printable(progress.key), "bold magenta"),
                              (f" at {progress.sha[:12]}" if progress.sha else "", "dim"))
        if progress.outcome is not None:
            style = {"ready": "bold green", "failed": "bold red"}.get(progress.outcome, "bold yellow")
            title.append(f"  {progress.outcome}: ", style=style)
            title.append(printable(progress.summary))
        else:
            title.append("  running — Esc hides this panel, the launch goes on", style="dim")
        self.query_one("#launch-title", Static).update(title)
        self.query_one("#launch-steps", Static).update(steps_text(progress.steps()))
        bar = self.query_one("#launch-push", ProgressBar)
        if progress.push_fraction is not None:
            bar.display = True
            bar.update(progress=progress.push_fraction)
        if progress.version == self._seen_version:
            return
        if progress.outcome is not None and not self._ended:
            self._ended = True
            self.refresh_bindings()
        self._seen_version = progress.version
        notes = "\n".join(printable(note) for note in progress.notes[-4:])
        self.query_one("#launch-notes", Static).update(Text(notes, style="yellow"))
        lines, self._lines = progress.output(self._lines)
        if lines:
            self.query_one("#launch-output", FollowingLog).write_lines([printable(line) for line in lines])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc "hides" a running launch and "closes" a finished one: the footer says which."""
        if action in ("hide", "close"):
            return (action == "close") == (self.progress.outcome is not None)
        return True

    def action_hide(self) -> None:
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()
