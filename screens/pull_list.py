"""The main screen: open pull requests at a glance, driven from the keyboard, never frozen by the network.

The screen lays out the widgets, binds the keys and turns messages into paint; what it shows lives in a
:class:`ListModel` (plain Python), and what l, d, o and t do lives in :mod:`prdeck.screens.pull_actions`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import assert_never

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input
from textual.worker import Worker, WorkerState

from prdeck.screens.lifecycle_actions import ReapPlanned, ask_reap, run_reap_plan
from prdeck.screens.marks import MarkActions
from prdeck.screens.pull_actions import PullActions
from prdeck.screens.pull_feeds import Work, follow_previews, load_detail, load_list, load_preview_detail
from prdeck.services.deck import Deck, Row
from prdeck.tui.messages import (
    ClusterTrouble,
    DetailLoaded,
    ForkChecked,
    NoCluster,
    PreviewDetailLoaded,
    PreviewsChanged,
    SnapshotLoaded,
)
from prdeck.tui.view.cluster_link import ClusterLink
from prdeck.tui.view.failure import as_failure
from prdeck.tui.view.list_model import GITHUB_BACK, Arrival, ListModel, Notice
from prdeck.tui.view.safe_text import printable
from prdeck.tui.widgets.detail_pane import DetailPane
from prdeck.tui.widgets.field_focus import open_field
from prdeck.tui.widgets.footer_fit import fit_footer
from prdeck.tui.widgets.pull_table import PullTable
from prdeck.tui.widgets.status_bar import StatusBar, budget_text, status_text

DETAIL_DELAY = 0.15
"""Seconds the cursor rests on a row before an open detail pane asks GitHub and the cluster about it."""
FILTER_HINT = "filter: words in title, author, branch, label or repo — Enter keeps, Esc clears"


def empty_text(complete: bool, query: str, repos: list[str]) -> str:
    """What the table says when it has no row: the filter's doing, or no open pull request at all."""
    if not complete:
        return "loading…"
    if query:
        return "No pull request matches the filter (Esc clears it)."
    return f"No open pull request in {', '.join(repos)}."


class PullListScreen(MarkActions, Screen[None]):
    AUTO_FOCUS = "#pulls"
    BINDINGS = [
        Binding("slash", "filter", "Filter", priority=True),  # see prdeck.tui.widgets.field_focus
        Binding("s", "sort", "Sort"),
        Binding("r", "refresh", "Reload"),  # "Refresh" cut the footer's last key (q Quit) at 80 columns
        Binding("O", "open_pull", "GitHub"),
        Binding("l", "launch", "Launch"),
        Binding("o", "open_preview", "Open"),
        Binding("t", "logs", "Logs"),
        Binding("d", "destroy", "Destroy"),
        Binding("e", "extend", "Extend", show=False),
        Binding("p", "pin", "Pin", show=False),
        Binding("z", "sleep", "Sleep", show=False),
        Binding("R", "reap", "Reap", show=False),
        Binding("space", "mark", "Mark", show=False),
        Binding("asterisk", "mark_all", "Mark all", show=False),
        Binding("question_mark", "app.help", "Help"),
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "unmark", "Unmark"),  # shown (and bound) only while rows are marked; else Back
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, deck: Deck, refresh_seconds: float, log_lines: int = 10_000) -> None:
        super().__init__()
        self.deck = deck
        self.refresh_seconds = refresh_seconds
        self._watch_cluster = deck.has_cluster or deck.cluster_pending
        self.model = ListModel(ClusterLink.at_start(self._watch_cluster, deck.cluster_problem))
        self.actions = PullActions(self, deck, self.model, log_lines)
        self._timer: Timer | None = None
        self._detail_timer: Timer | None = None
        self._stop_cluster = threading.Event()
        self._stretched = False
        self._stretch: float | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Input(placeholder=FILTER_HINT, id="filter", classes="hidden")
        yield PullTable(id="pulls")
        yield DetailPane(id="detail", classes="hidden")
        yield Footer()

    def on_resize(self) -> None:
        fit_footer(self.query_one(Footer), self.size.width)

    def on_mount(self) -> None:
        self.query_one(PullTable).loading = True
        self._paint_status()
        self.load()
        if self._watch_cluster:
            follow_previews(self, self.deck, self._stop_cluster)

    def on_unmount(self) -> None:
        self._stop_cluster.set()

    def load(self, full: bool = True) -> None:
        load_list(self, self.deck, first_load=self.model.snapshot is None, full=full)

    def _refresh_changes(self) -> None:
        self.load(full=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker errors become UI; a group without a branch here is a bug (ValueError)."""
        if event.state != WorkerState.ERROR:
            return
        failure = as_failure(event.worker.error)
        match Work(event.worker.group):
            case Work.GITHUB:
                self._say(self.model.github_failed(failure, self.refresh_seconds))
                self.query_one(PullTable).loading = False
                self._schedule(self.model.retry_in, self._refresh_changes)  # a full load if none succeeded yet
                self._paint_status()
            case Work.DETAIL:
                self.query_one(DetailPane).failed("pull", failure.title)
            case Work.PREVIEW_DETAIL:
                self.query_one(DetailPane).failed("preview", failure.title)
            case Work.CLUSTER:  # the watch retries cluster failures itself: this one stopped it for good
                self.model.no_cluster(failure)
                self._paint_status()
                self.notify(printable(failure.detail), title=printable(failure.title), severity="error",
                            timeout=10, markup=False)
            case Work.DESTROY | Work.LAUNCH_CHECK | Work.LAUNCH | Work.OPEN_PREVIEW | Work.LIFECYCLE:
                self.notify(printable(failure.detail), title=printable(failure.title), severity="error",
                            timeout=10, markup=False)
            case unknown:
                assert_never(unknown)

    # results ------------------------------------------------------------------------------------------
    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        arrival = self.model.arrive(message.snapshot)
        if arrival is Arrival.IGNORED:
            return
        self.query_one(PullTable).loading = False
        if arrival is Arrival.RECONNECTED:
            self._say(GITHUB_BACK)
        if arrival is not Arrival.PAGE:
            self._schedule_refresh()
        self._render_rows()

    def _schedule_refresh(self) -> None:
        """The next refresh of changes, later than configured when GitHub's budget would not last otherwise."""
        pace = self.deck.next_refresh(self.refresh_seconds)
        if pace.stretched != self._stretched:
            self._stretched = pace.stretched
            self._say(self.model.pace_changed(pace.seconds, self.refresh_seconds, self.deck.budget))
        self._schedule(pace.seconds, self._refresh_changes)
        self._stretch = pace.seconds if pace.stretched else None

    def _schedule(self, delay: float | None, then: Callable[[], None] | None = None) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.model.retry_in = delay
        self._timer = self.set_timer(delay, then or self.load) if delay is not None else None

    def on_previews_changed(self, message: PreviewsChanged) -> None:
        self._say(self.model.previews_changed(message.previews))
        self._render_rows()
        row = self.model.detail_row()
        if row is not None:
            self.query_one(DetailPane).show_row(row)

    def on_cluster_trouble(self, message: ClusterTrouble) -> None:
        self._say(self.model.cluster_failed(message.error))
        self._paint_status()

    def on_no_cluster(self, message: NoCluster) -> None:
        self.model.no_cluster(message.problem)
        self._paint_status()

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        if self.model.is_detail(message.key):
            self.query_one(DetailPane).pull_loaded(message.detail)

    def on_preview_detail_loaded(self, message: PreviewDetailLoaded) -> None:
        if self.model.is_detail(message.key):
            self.query_one(DetailPane).preview_loaded(message.detail)

    def on_fork_checked(self, message: ForkChecked) -> None:
        self.actions.approve(message.row, message.check)

    # painting -----------------------------------------------------------------------------------------
    def _say(self, notice: Notice | None) -> None:
        if notice is not None:
            self.notify(notice.message, title=notice.title, severity=notice.severity, timeout=notice.timeout,
                        markup=False)

    def _render_rows(self) -> None:
        snapshot = self.model.snapshot
        if snapshot is not None:
            rows = self.model.rows_to_show()
            grid = self.query_one(PullTable)
            grid.empty_text = empty_text(snapshot.complete, self.model.query_text,
                                         [str(repo) for repo in self.deck.repos])
            grid.show(rows, datetime.now(UTC), with_repo=self.model.with_repo)
        self._paint_status()

    def _paint_status(self) -> None:
        model = self.model
        repos = [str(repo) for repo in self.deck.repos]
        self.query_one(StatusBar).show(status_text(repos, model.counts, model.shown, model.ordering.name,
                                                   model.query_text, model.connection, model.retry_in, model.cluster,
                                                   budget_text(self.deck.budget, self._stretch)))

    # keys ---------------------------------------------------------------------------------------------
    def selected_row(self) -> Row | None:
        return self.model.row(self.query_one(PullTable).selected_key)

    def action_refresh(self) -> None:
        self.notify("Refreshing the pull requests…", timeout=2)
        self.load()

    def action_sort(self) -> None:
        ordering = self.model.sort_next()
        self._render_rows()
        self.notify(f"Sorted by {ordering.name}", timeout=2)

    def action_filter(self) -> None:
        open_field(self, self.query_one("#filter", Input))

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.model.query_text = event.value
        self._render_rows()

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        self.query_one(PullTable).focus()

    def action_back(self) -> None:
        field = self.query_one("#filter", Input)
        if field.has_focus or self.model.query_text:
            field.value = ""
            field.add_class("hidden")
            self.query_one(PullTable).focus()
        elif self.model.detail_key is not None:
            self.model.close_detail()
            self.query_one(DetailPane).add_class("hidden")

    @on(PullTable.RowSelected, "#pulls")
    def toggle_detail(self, event: PullTable.RowSelected) -> None:
        row = self.model.toggle_detail(event.row_key)
        pane = self.query_one(DetailPane)
        pane.set_class(self.model.detail_key is None, "hidden")
        if row is None:
            return
        pane.show_row(row)
        self._load_detail(row)

    @on(PullTable.CursorMoved, "#pulls")
    def detail_follows(self, event: PullTable.CursorMoved) -> None:
        """An open detail pane shows the row under the cursor; its details load once the cursor rests."""
        row = self.model.follow(event.row_key)
        if row is None:
            return
        self.query_one(DetailPane).show_row(row)
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY, lambda: self._load_detail(row))

    def _load_detail(self, row: Row) -> None:
        if not self.model.is_detail(row.key):
            return
        if not row.orphan:
            load_detail(self, self.deck, row)
        if row.preview is not None:
            load_preview_detail(self, self.deck, row)

    def action_open_pull(self) -> None:
        self.actions.open_pull(self.selected_row())

    def action_launch(self) -> None:
        if not self._bulk("launch"):
            self.actions.launch(self.selected_row())

    def action_open_preview(self) -> None:
        self.actions.open_preview(self.selected_row())

    def action_logs(self) -> None:
        self.actions.logs(self.selected_row())

    def action_destroy(self) -> None:
        if not self._bulk("destroy"):
            self.actions.destroy(self.selected_row())

    def action_extend(self) -> None:
        if not self._bulk("extend"):
            self.actions.lifecycle(self.selected_row(), "extend")

    def action_pin(self) -> None:
        if not self._bulk("pin"):
            self.actions.lifecycle(self.selected_row(), "pin")

    def action_sleep(self) -> None:
        if not self._bulk("sleep"):
            self.actions.lifecycle(self.selected_row(), "sleep")

    def action_reap(self) -> None:
        if self.deck.has_cluster:
            run_reap_plan(self, self.deck)
        else:
            self.notify(f"No cluster: {self.model.cluster.why('set KUBECONFIG')}.", title="Cannot reap", markup=False)

    def on_reap_planned(self, message: ReapPlanned) -> None:
        ask_reap(self, self.deck, message.plan)
