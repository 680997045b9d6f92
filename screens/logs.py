"""The logs screen: every container of a preview, interleaved and followed, searchable, never freezing the UI.

A thread worker reads the streams (through the deck) into a pending list; a timer moves what arrived into the
view every 80 ms, so a chatty pod costs one repaint per tick however many lines it wrote.
"""

from __future__ import annotations

import threading

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.worker import Worker, WorkerState

from prdeck.services.deck import Deck
from prdeck.services.errors import PrdeckError, Unavailable
from prdeck.services.models import LogLine, LogRequest, Preview
from prdeck.tui.view.header_fit import Piece
from prdeck.tui.view.log_buffer import match_position, step_match
from prdeck.tui.view.safe_text import printable
from prdeck.tui.widgets.field_focus import open_field
from prdeck.tui.widgets.footer_fit import fit_footer
from prdeck.tui.widgets.log_view import LogView
from prdeck.tui.widgets.status_bar import StatusBar

FLUSH_SECONDS = 0.08
ALL = None


class LogsScreen(Screen[None]):
    AUTO_FOCUS = "#log"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f", "toggle_follow", "Follow"),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("T", "toggle_timestamps", "Timestamps"),
        Binding("slash", "search", "Search", priority=True),  # see prdeck.tui.widgets.field_focus
        Binding("n", "next_match", "Next", show=False),
        Binding("N", "previous_match", "Previous", show=False),
        Binding("c", "cycle_container", "Container"),
        Binding("p", "toggle_previous", "Previous run"),
        Binding("G", "end", "End", show=False),
        Binding("g", "home", "Top", show=False),
    ]

    def __init__(self, deck: Deck, preview: Preview, max_lines: int) -> None:
        super().__init__()
        self.deck = deck
        self.preview = preview
        self.max_lines = max_lines
        self.containers = sorted({name for pod in preview.pods for name in pod.containers})
        self.container: str | None = ALL
        self.previous = False
        self._pending: list[LogLine] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._problem: str | None = None
        self._ended = False

    def compose(self) -> ComposeResult:
        yield StatusBar(id="log-header")
        yield Input(
            placeholder="search the log — Enter keeps it, n/N jump, Esc clears", id="log-search", classes="hidden"
        )
        yield LogView(self.max_lines, id="log")
        yield Footer()

    def on_resize(self) -> None:
        fit_footer(self.query_one(Footer), self.size.width)

    def on_mount(self) -> None:
        self.set_interval(FLUSH_SECONDS, self.flush)
        self.start_stream()

    # streaming ----------------------------------------------------------------------------------------
    def start_stream(self) -> None:
        self._stop.set()
        self._stop = threading.Event()
        with self._lock:
            self._pending.clear()
        self._problem, self._ended = None, False
        view = self.query_one(LogView)
        view.reset()
        view.show_prefix = self.container is ALL and len(self.containers) * len(self.preview.pods) > 1
        self.stream(self._stop)
        self._paint_header()

    @work(thread=True, exclusive=True, exit_on_error=False, group="logs")
    def stream(self, stop: threading.Event) -> None:
        request = LogRequest(
            follow=not self.previous, tail=self.max_lines, container=self.container, previous=self.previous
        )
        for batch in self.deck.log_batches(self.preview, request, stop):
            with self._lock:
                if stop is not self._stop:  # a newer stream took over (start_stream): not into its view
                    return
                self._pending.extend(batch)
        if not stop.is_set():
            self._ended = True

    def flush(self) -> None:
        with self._lock:
            lines, self._pending = self._pending, []
        view = self.query_one(LogView)
        if lines:
            view.add(lines)
        self._paint_header()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or event.worker.group != "logs":
            return
        error = event.worker.error
        failure = error if isinstance(error, PrdeckError) else Unavailable("Log stream failed", repr(error))
        self._problem = f"{failure.title}: {failure.detail}"
        self.notify(printable(failure.detail), title=printable(failure.title), severity="error", markup=False)
        self._paint_header()

    def on_unmount(self) -> None:
        self._stop.set()

    # header -------------------------------------------------------------------------------------------
    def _paint_header(self) -> None:
        """The header's phrases; on a narrow terminal the flags and counts go first, the search count last."""
        view = self.query_one(LogView)
        pieces = [Piece(Text.assemble(("logs ", "bold"),
                                      (printable(f"{self.preview.repo}#{self.preview.number}"), "magenta"))),
                  Piece(Text(self.preview.namespace, style="dim"), "  ", drop=2)]
        pieces.append(Piece(Text(f"container: {self.container or 'all'}"), drop=4))
        if self.previous:
            pieces.append(Piece(Text("previous run", style="yellow")))
        flags = [("follow", view.follow), ("wrap", view.wrap), ("timestamps", view.timestamps)]
        on_only = " ".join(name for name, on in flags if on) or "no follow"
        pieces.append(Piece(Text("  ".join(f"{name} {'on' if on else 'off'}" for name, on in flags), style="dim"),
                            drop=1, short=Text(on_only, style="dim")))
        lines = Text(f"{len(view.buffer)} lines")
        if view.buffer.dropped:
            lines.append(f" ({view.buffer.dropped} older dropped)", style="dim")
        pieces.append(Piece(lines, drop=3))
        if view.query_text:
            matches = view.matches
            position = match_position(matches, view.current_match)
            count = f"{position}/{len(matches)}" if position is not None else f"{len(matches)} matches"
            pieces.append(Piece(Text(f"/{printable(view.query_text)}: {count}", style="yellow")))
        if self._problem:
            pieces.append(Piece(Text(f"✖ {printable(self._problem)}", style="bold red")))
        elif self._ended:
            pieces.append(Piece(Text("(stream ended)", style="dim"), drop=5))
        self.query_one("#log-header", StatusBar).show(pieces)

    # actions ------------------------------------------------------------------------------------------
    def action_back(self) -> None:
        search = self.query_one("#log-search", Input)
        if search.has_focus or not search.has_class("hidden"):
            search.value = ""
            search.add_class("hidden")
            self.query_one(LogView).focus()
            return
        self._stop.set()
        self.dismiss()

    def action_toggle_follow(self) -> None:
        view = self.query_one(LogView)
        view.follow = not view.follow
        if view.follow:
            view.scroll_end(animate=False, immediate=True, x_axis=False)
        self._paint_header()

    def action_toggle_wrap(self) -> None:
        view = self.query_one(LogView)
        view.wrap = not view.wrap
        view.settings_changed()
        self._paint_header()

    def action_toggle_timestamps(self) -> None:
        view = self.query_one(LogView)
        view.timestamps = not view.timestamps
        view.settings_changed()
        self._paint_header()

    def action_search(self) -> None:
        open_field(self, self.query_one("#log-search", Input))

    @on(Input.Changed, "#log-search")
    def search_changed(self, event: Input.Changed) -> None:
        view = self.query_one(LogView)
        view.query_text = event.value
        view.current_match = None
        view.settings_changed()
        self._paint_header()

    @on(Input.Submitted, "#log-search")
    def search_submitted(self) -> None:
        self.query_one(LogView).focus()
        self.action_previous_match()

    def _jump(self, forward: bool) -> None:
        view = self.query_one(LogView)
        top, bottom = view.visible_lines()
        found = step_match(view.matches, view.current_match, top, bottom, forward)
        if found is None:
            if view.query_text:
                self.notify(f"No line matches {printable(view.query_text)!r}", timeout=3, markup=False)
            return
        view.follow = False
        view.current_match = found
        view.settings_changed()
        view.scroll_to_line(found)
        self._paint_header()

    def action_next_match(self) -> None:
        self._jump(forward=True)

    def action_previous_match(self) -> None:
        self._jump(forward=False)

    def action_cycle_container(self) -> None:
        choices: list[str | None] = [ALL, *self.containers]
        self.container = choices[(choices.index(self.container) + 1) % len(choices)]
        self.start_stream()

    def action_toggle_previous(self) -> None:
        self.previous = not self.previous
        self.start_stream()

    def action_end(self) -> None:
        view = self.query_one(LogView)
        view.follow = True
        view.scroll_end(animate=False, immediate=True, x_axis=False)
        self._paint_header()

    def action_home(self) -> None:
        view = self.query_one(LogView)
        view.follow = False
        view.scroll_home(animate=False, immediate=True)
        self._paint_header()
