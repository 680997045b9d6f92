"""What e, p, z and R do in the list: extend a preview's life by the TTL, pin or unpin it, put it to sleep or wake
it, reap (the plan, one question, then the reap); and the wake that ``l`` and ``o`` do on an asleep preview
instead of a launch.

Each runs in a thread worker and says what it did in a notification; the row changes by itself when the cluster
watch sees the namespace (or its pods) change.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.message import Message
from textual.screen import Screen

from prdeck.screens.confirm import ConfirmScreen
from prdeck.screens.pull_feeds import Work
from prdeck.services.deck import Deck
from prdeck.services.deck.reap import ReapPlan
from prdeck.services.models import Preview
from prdeck.tui.messages import OpenUrl
from prdeck.tui.view.formatting import expiry_text
from prdeck.tui.view.safe_text import printable


@work(thread=True, exit_on_error=False, group=Work.LIFECYCLE)
def run_extend(screen: Screen[None], deck: Deck, preview: Preview) -> None:
    expires = deck.extend(preview)
    note = " (it is pinned: it never expires while pinned)" if preview.pinned else ""
    screen.notify(f"Expires {expiry_text(expires)}{note}.", title=f"Extended {preview.key}", markup=False)


@work(thread=True, exit_on_error=False, group=Work.LIFECYCLE)
def run_pin_toggle(screen: Screen[None], deck: Deck, preview: Preview) -> None:
    if preview.pinned:
        expires = deck.unpin(preview)
        screen.notify(f"Expires {expiry_text(expires)}.", title=f"Unpinned {preview.key}", markup=False)
    else:
        deck.pin(preview)
        screen.notify("It never expires; reap leaves it alone. p again unpins it.", title=f"Pinned {preview.key}",
                      markup=False)


@work(thread=True, exit_on_error=False, group=Work.LIFECYCLE)
def run_sleep_toggle(screen: Screen[None], deck: Deck, preview: Preview) -> None:
    if preview.state == "asleep":
        _wake(screen, deck, preview, then_open=False)
        return
    count = deck.sleep(preview)
    screen.notify(f"{count} workload{'s' if count != 1 else ''} scaled to zero; its URL and objects stay. "
                  "l, o or z wakes it.", title=f"{preview.key} is asleep", markup=False)


@work(thread=True, exit_on_error=False, group=Work.LIFECYCLE)
def run_wake(screen: Screen[None], deck: Deck, preview: Preview, then_open: bool = False) -> None:
    _wake(screen, deck, preview, then_open)


def _wake(screen: Screen[None], deck: Deck, preview: Preview, then_open: bool) -> None:
    count = deck.wake(preview)
    screen.notify(f"{count} workload{'s' if count != 1 else ''} scaled back (no rebuild).",
                  title=f"Waking {preview.key}", markup=False)
    if then_open:
        screen.app.post_message(OpenUrl(deck.open_url(preview)))


# reap (R) -------------------------------------------------------------------------------------------------
class ReapPlanned(Message):
    """The plan of a reap, for the question the list screen asks once."""

    def __init__(self, plan: ReapPlan) -> None:
        super().__init__()
        self.plan = plan


@work(thread=True, exclusive=True, exit_on_error=False, group=Work.LIFECYCLE)
def run_reap_plan(screen: Screen[None], deck: Deck) -> None:
    plan = deck.reap_plan()
    if plan.empty:
        screen.notify(f"Nothing to reap ({plan.kept} kept).", title="Reap", markup=False)
        return
    screen.post_message(ReapPlanned(plan))


def reap_question(plan: ReapPlan, shown: int = 12) -> Text:
    """The plan as the one question: every preview that goes and why (untrusted names as plain text)."""
    text = Text.assemble((f"Reap {len(plan.remove)} preview{'s' if len(plan.remove) != 1 else ''}?", "bold"),
                         f"  ({plan.kept} kept)\n\n")
    for item in plan.remove[:shown]:
        text.append(f"{printable(item.preview.key)}", style="bold magenta")
        text.append(f"  {item.preview.namespace}  ", style="dim")
        text.append(f"{printable(item.reason)}\n")
    if len(plan.remove) > shown:
        text.append(f"… and {len(plan.remove) - shown} more\n", style="dim")
    if plan.sleep:
        text.append(f"\nTo put to sleep ({len(plan.sleep)}, idle):\n", style="bold")
        for item in plan.sleep[:shown]:
            text.append(f"{printable(item.preview.key)}", style="bold magenta")
            text.append(f"  {item.preview.namespace}  {printable(item.reason)}\n", style="dim")
    text.append("\nTheir namespaces are deleted, GitHub deployments marked inactive, registry tags deleted.")
    return text


def ask_reap(screen: Screen[None], deck: Deck, plan: ReapPlan) -> None:
    def decided(confirmed: bool | None) -> None:
        if confirmed:
            run_reap(screen, deck, plan)
        else:
            screen.notify("Nothing reaped.", timeout=3)

    screen.app.push_screen(ConfirmScreen(reap_question(plan)), decided)


@work(thread=True, exclusive=True, exit_on_error=False, group=Work.LIFECYCLE)
def run_reap(screen: Screen[None], deck: Deck, plan: ReapPlan) -> None:
    result = deck.reap(plan)
    for warning in result.warnings:
        screen.notify(printable(warning), title="Reap", severity="warning", timeout=8, markup=False)
    slept = f"{len(result.slept)} put to sleep; " if plan.sleep else ""
    summary = (f"{len(result.removed)} of {len(plan.remove)} removed; {slept}{result.deployments} GitHub deployment(s) "
               f"inactive; {len(result.tags)} registry tag(s) deleted.")
    errors = "\n".join(printable(error) for error in result.errors)
    screen.notify(f"{summary}\n{errors}".strip(), title="Reaped", severity="error" if errors else "information",
                  markup=False)
