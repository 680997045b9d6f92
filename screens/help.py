"""The help screen: every key binding of the list screen, its table and the app."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("j / ↓, k / ↑", "move down / up"),
    ("g / G", "first / last pull request (also Home / End)"),
    ("PgUp / PgDn", "page up / down"),
    ("← / →", "scroll sideways when the columns do not fit"),
    ("/", "filter by words in title, author, branch, label or repository"),
    ("Esc", "clear the filter, close the detail pane or this help"),
    ("s", "cycle the sort order: updated, number, author, CI"),
    ("r", "refresh now"),
    ("Enter", "show or hide the detail pane (description, labels, head, fork, pods, events); or click the row"),
    ("O", "open the pull request on GitHub in your browser"),
    ("l", "launch or redeploy the preview (progress panel; Esc hides it, l shows it again; forks ask first)"),
    ("o", "open the preview in your browser (its Ingress, or a port-forward relay on 127.0.0.1)"),
    ("t", "logs of the preview (f follow, w wrap, T timestamps, / search, n/N, c container, p previous run)"),
    ("d", "destroy the preview (asks first: y confirms, any other key cancels)"),
    ("e", "extend the preview's life by the TTL (preview.ttl_hours); the row shows the time left"),
    ("p", "pin the preview (⚑: never expires, reap leaves it) or unpin it"),
    ("z", "put the preview to sleep (workloads scaled to zero, URL kept); z, l or o wakes it, no rebuild"),
    ("space", "mark the row (✓) for a bulk action; * marks every row shown (again: none); Esc unmarks all"),
    ("l d e p z", "with rows marked: act on all of them, after one question listing them"),
    ("R", "reap: shows what would go (closed PRs, expired, orphans, empty) and asks once"),
    ("?", "this help"),
    ("Ctrl+P", "command palette: every action by name"),
    ("q", "quit"),
)


def help_text() -> Group:
    """The keys in a two-column grid: a long description wraps in its own column, never under the keys."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", no_wrap=True, style="bold cyan")
    grid.add_column(ratio=1)
    for keys, meaning in KEYS:
        grid.add_row(Text(keys), Text(meaning))
    return Group(
        Text("Keys\n", style="bold"),
        grid,
        Text("\nThe list refreshes by itself; when GitHub fails prdeck keeps the last list and retries.", style="dim"),
    )


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_text(), id="help-text")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)
