"""The Textual app, built by :func:`build_app` for the CLI and the tests alike."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from prdeck.screens.help import HelpScreen
from prdeck.screens.pull_list import PullListScreen
from prdeck.services.deck import Deck
from prdeck.tui.browser import choose_browser, open_with
from prdeck.tui.messages import OpenUrl


class PrdeckApp(App[None]):
    CSS_PATH = "prdeck.tcss"
    TITLE = "prdeck"
    BINDINGS = [Binding("question_mark", "help", "Help", show=False)]

    def __init__(
        self,
        deck: Deck,
        refresh_seconds: float,
        on_exit: Callable[[], None] | None = None,
        log_lines: int = 10_000,
    ) -> None:
        super().__init__()
        self.deck = deck
        self.refresh_seconds = refresh_seconds
        self.log_lines = log_lines
        self._on_exit = on_exit

    def on_mount(self) -> None:
        self.push_screen(PullListScreen(self.deck, self.refresh_seconds, self.log_lines))
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on the main thread (tests), or Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._terminate)

    def _terminate(self) -> None:
        self.deck.interrupt()
        self.exit(return_code=143)

    async def action_quit(self) -> None:
        """Quit at once: a launch in flight stops at the step it is on and is recorded as interrupted."""
        self.deck.interrupt()
        self.exit()

    def on_unmount(self) -> None:
        if self._on_exit is not None:
            self._on_exit()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, PullListScreen):
            yield SystemCommand("Refresh", "Fetch the pull requests now (r)", screen.action_refresh)
            yield SystemCommand(
                "Filter", "Filter by title, author, branch, label or repository (/)", screen.action_filter
            )
            yield SystemCommand("Cycle sort", "Sort by updated, number, author or CI (s)", screen.action_sort)
            yield SystemCommand("Open pull request on GitHub", "In your browser (O)", screen.action_open_pull)
            yield SystemCommand("Launch preview", "Build, push and deploy the selected PR (l)", screen.action_launch)
            yield SystemCommand("Open preview", "Open the selected PR's preview in the browser (o)",
                                screen.action_open_preview)
            yield SystemCommand("Preview logs", "Follow the logs of the selected PR's preview (t)", screen.action_logs)
            yield SystemCommand(
                "Destroy preview", "Delete the selected PR's preview namespace (d)", screen.action_destroy
            )
            yield SystemCommand("Extend preview", "Push the selected preview's expiry back by the TTL (e)",
                                screen.action_extend)
            yield SystemCommand("Pin or unpin preview", "A pinned preview never expires (p)", screen.action_pin)
            yield SystemCommand("Sleep or wake preview", "Scale the selected preview to zero, or back (z)",
                                screen.action_sleep)
            yield SystemCommand("Mark row", "Mark the selected row for a bulk action: l, d, e, p, z (space)",
                                screen.action_mark)
            yield SystemCommand("Mark all rows", "Mark every row shown, or unmark them (*)", screen.action_mark_all)
            yield SystemCommand("Unmark all rows", "Clear the marks (Esc)", screen.action_unmark)
            yield SystemCommand("Reap previews", "Remove closed PRs' previews, expired ones, orphans; asks once (R)",
                                screen.action_reap)
            yield SystemCommand("Help", "prdeck's keys, what each does (?)", self.action_help)

    def on_open_url(self, message: OpenUrl) -> None:
        self.open_in_browser(message.url)

    def open_in_browser(self, url: str) -> None:
        """Open ``url``; a text browser gets the terminal, no browser means the URL is shown and copied."""
        choice = choose_browser()
        if choice.controller is None:
            self._show_url(url)
        elif choice.needs_terminal:
            with self.suspend():
                opened = open_with(choice, url)
            if not opened:
                self._show_url(url)
        else:
            self._open_in_background(choice, url)

    @work(thread=True, exit_on_error=False, group="browser")
    def _open_in_background(self, choice: object, url: str) -> None:
        if not open_with(choice, url):  # type: ignore[arg-type]
            self.call_from_thread(self._show_url, url)

    def _show_url(self, url: str) -> None:
        self.copy_to_clipboard(url)
        self.notify(url, title="No browser found; URL copied to the clipboard", timeout=15, markup=False)


def build_app(
    deck: Deck, refresh_seconds: float = 60, on_exit: Callable[[], None] | None = None, log_lines: int = 10_000
) -> PrdeckApp:
    """The one app factory: the CLI (``prdeck``, ``prdeck demo``) and the tests all come through here."""
    return PrdeckApp(deck, refresh_seconds, on_exit, log_lines)
