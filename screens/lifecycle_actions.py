"""What e, p and z do in the list: extend a preview's life by the TTL, pin or unpin it, put it to sleep or wake
it; and the wake that ``l`` and ``o`` do on an asleep preview instead of a launch.

Each runs in a thread worker and says what it did in a notification; the row changes by itself when the cluster
watch sees the namespace (or its pods) change.
"""

from __future__ import annotations

from textual import work
from textual.screen import Screen

from prdeck.screens.pull_feeds import Work
from prdeck.services.deck import Deck
from prdeck.services.models import Preview
from prdeck.tui.messages import OpenUrl
from prdeck.tui.view.formatting import expiry_text


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
