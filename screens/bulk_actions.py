"""Marked rows: ``space`` marks the row under the cursor, ``*`` every row shown (again: none), Esc unmarks; then
``l``, ``d``, ``e``, ``p`` and ``z`` act on all of them after one question listing them.

The actions run side by side in one thread worker, ``preview.max_parallel_launches`` at a time
(:func:`prdeck.services.deck.bulk.run_each`); a notification says how many were done and which failed.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.screen import Screen

from prdeck.screens.confirm import ConfirmScreen
from prdeck.screens.pull_feeds import Work
from prdeck.services.deck import Deck, Row
from prdeck.services.deck.bulk import BulkResult, launch_parallel, run_each
from prdeck.services.models import RepoRef
from prdeck.tui.view.launch_progress import LaunchProgress
from prdeck.tui.view.safe_text import printable

SHOWN = 12
"""Rows the question lists by name; more are counted."""

VERBS = {"launch": "Launch", "destroy": "Destroy", "extend": "Extend", "pin": "Pin", "unpin": "Unpin",
         "sleep": "Put to sleep", "wake": "Wake"}
OUTCOMES = {"launch": "Their images are built and pushed and the previews deployed (asleep ones wake, no build).",
            "destroy": "Their namespaces and everything in them will be deleted.",
            "extend": "Each expires later by the TTL (preview.ttl_hours).",
            "pin": "They never expire; reap leaves them alone.", "unpin": "They expire again (a TTL from now).",
            "sleep": "Their workloads are scaled to zero; namespaces, objects and URLs stay.",
            "wake": "Their workloads are scaled back (no rebuild)."}


def bulk_verb(action: str, rows: list[Row]) -> str:
    """``pin`` and ``z`` toggle as they do on one row: unpin when every marked preview is pinned, wake when every
    one is asleep."""
    previews = [row.preview for row in rows if row.preview is not None]
    if action == "pin" and previews and all(preview.pinned for preview in previews):
        return "unpin"
    if action == "sleep" and previews and all(preview.state == "asleep" for preview in previews):
        return "wake"
    return action


def eligible(verb: str, rows: list[Row]) -> tuple[list[Row], str]:
    """The rows ``verb`` can act on, and why the others are left out (empty when none is)."""
    if verb == "launch":
        fit = [row for row in rows if not row.orphan and not row.pull.fork]
        why = "forks are launched one at a time, after their approval" if len(fit) < len(rows) else ""
        return fit, why
    fit = [row for row in rows if row.preview is not None]
    return fit, "without a preview" if len(fit) < len(rows) else ""


def bulk_question(verb: str, rows: list[Row], left_out: int, why: str) -> Text:
    """The one question: every row it acts on (untrusted names as plain text), then what happens."""
    count = f"{len(rows)} preview{'s' if len(rows) != 1 else ''}"
    text = Text.assemble((f"{VERBS[verb]} {count}?", "bold"), "\n\n")
    for row in rows[:SHOWN]:
        text.append(printable(row.key), style="bold magenta")
        if row.preview is not None:
            text.append(f"  {row.preview.namespace}  {row.preview.state}", style="dim")
        text.append("\n")
    if len(rows) > SHOWN:
        text.append(f"… and {len(rows) - SHOWN} more\n", style="dim")
    if left_out:
        text.append(f"\n{left_out} marked row{'s' if left_out != 1 else ''} left out: {why}.\n", style="yellow")
    text.append(f"\n{OUTCOMES[verb]}")
    return text


def ask_bulk(screen: Screen[None], deck: Deck, action: str, rows: list[Row],
             launches: dict[str, LaunchProgress], done: Callable[[], None]) -> None:
    """One question for ``action`` on the marked ``rows``; ``y`` runs it and calls ``done`` (the marks go)."""
    verb = bulk_verb(action, rows)
    fit, why = eligible(verb, rows)
    if not fit:
        screen.notify(f"None of the {len(rows)} marked rows can be acted on: {why}.", timeout=4, markup=False)
        return

    def decided(confirmed: bool | None) -> None:
        if not confirmed:
            screen.notify("Nothing done.", timeout=3)
            return
        done()
        if verb == "launch":
            for row in fit:
                launches[row.key] = LaunchProgress(row.key, row.pull.head_sha)
        run_bulk(screen, deck, verb, fit, dict(launches))

    screen.app.push_screen(ConfirmScreen(bulk_question(verb, fit, len(rows) - len(fit), why)), decided)


def _step(deck: Deck, verb: str, rows: dict[tuple[RepoRef, int], Row],
          launches: dict[str, LaunchProgress]) -> Callable[[RepoRef, int], tuple[str, str | None]]:
    def step(repo: RepoRef, number: int) -> tuple[str, str | None]:
        row = rows[(repo, number)]
        preview = row.preview
        if verb == "launch" and preview is not None and preview.state == "asleep":
            return f"waking: {deck.wake(preview)} scaled back", preview.namespace
        if verb == "launch":
            progress = launches[row.key]
            try:
                result = deck.launch(repo, number, progress.apply, expected_sha=row.pull.head_sha)
            except Exception as error:
                progress.finish("failed", str(error))
                raise
            progress.finish("ready", result.url or "no public URL: o opens it through a relay")
            return "launched", result.namespace
        assert preview is not None  # eligible() kept rows with a preview only
        if verb == "destroy":
            for _line in deck.destroy(preview):
                pass
            return "destroyed", preview.namespace
        actions: dict[str, Callable[[], object]] = {
            "extend": lambda: deck.extend(preview), "pin": lambda: deck.pin(preview),
            "unpin": lambda: deck.unpin(preview), "sleep": lambda: deck.sleep(preview),
            "wake": lambda: deck.wake(preview)}
        actions[verb]()
        return verb, preview.namespace

    return step


@work(thread=True, exit_on_error=False, group=Work.LIFECYCLE)
def run_bulk(screen: Screen[None], deck: Deck, verb: str, rows: list[Row],
             launches: dict[str, LaunchProgress]) -> list[BulkResult]:
    by_pull = {(row.pull.repo, row.pull.number): row for row in rows}
    parallel = launch_parallel(len(by_pull)) if verb == "launch" else deck.caps.max_parallel_launches
    results = run_each(verb, list(by_pull), _step(deck, verb, by_pull, launches), parallel)
    failed = [result for result in results if not result.ok]
    summary = f"{len(results) - len(failed)} of {len(results)} done."
    errors = "\n".join(f"{printable(result.key)}: {printable(result.text)}" for result in failed[:SHOWN])
    screen.notify(f"{summary}\n{errors}".strip(), title=f"{VERBS[verb]}: {len(results)} previews",
                  severity="error" if failed else "information", timeout=8 if failed else 5, markup=False)
    return results
