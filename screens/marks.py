"""The list screen's marks: ``space`` marks the row under the cursor (and moves on), ``*`` every row shown (again:
none of them), Esc unmarks all; with rows marked, ``l``, ``d``, ``e``, ``p`` and ``z`` act on all of them after one
question (:mod:`prdeck.screens.bulk_actions`). The marks are drawn by :class:`PullTable` (``✓``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Input

from prdeck.screens.bulk_actions import ask_bulk
from prdeck.tui.widgets.pull_table import PullTable

if TYPE_CHECKING:
    from prdeck.screens.pull_actions import PullActions
    from prdeck.services.deck import Deck
    from prdeck.tui.view.list_model import ListModel


class MarkActions:
    """Mixed into :class:`prdeck.screens.pull_list.PullListScreen` (which provides the attributes declared here)."""

    deck: Deck
    model: ListModel
    actions: PullActions
    query_one: Any
    notify: Any
    refresh_bindings: Any

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "unmark":
            return True
        return bool(self.query_one(PullTable).marked) and not self.query_one("#filter", Input).has_focus

    def _set_marks(self, keys: frozenset[str]) -> None:
        self.query_one(PullTable).mark(keys)
        self.refresh_bindings()

    def action_mark(self) -> None:
        table = self.query_one(PullTable)
        key = table.selected_key
        if key is not None:
            self._set_marks(table.marked ^ {key})
            table.action_cursor_down()

    def action_mark_all(self) -> None:
        table = self.query_one(PullTable)
        shown = frozenset(table.keys)
        self._set_marks(table.marked - shown if shown <= table.marked else table.marked | shown)

    def action_unmark(self) -> None:
        self._set_marks(frozenset())

    def _bulk(self, action: str) -> bool:
        """Act on the marked rows (after one question); False when none is marked (the row under the cursor)."""
        marked = self.query_one(PullTable).marked
        snapshot = self.model.snapshot
        rows = [row for row in snapshot.rows if row.key in marked] if snapshot is not None else []
        if not rows:
            return False
        if not self.deck.has_cluster:
            self.notify(f"No cluster: {self.model.cluster.why('set KUBECONFIG')}.", title="Cannot act", markup=False)
            return True
        ask_bulk(self, self.deck, action, rows, self.actions.launches, self.action_unmark)  # type: ignore[arg-type]
        return True
