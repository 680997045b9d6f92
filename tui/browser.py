"""Open URLs with Python's ``webbrowser`` (so ``$BROWSER`` is honoured), without wrecking the TUI.

A text-mode browser (lynx, w3m, ...) needs the terminal, so the app is suspended while it runs; a graphical
one is started in the background. With no browser at all the caller shows the URL instead.
"""

from __future__ import annotations

import os
import webbrowser
from dataclasses import dataclass

TEXT_BROWSERS = frozenset({"www-browser", "links", "links2", "elinks", "lynx", "w3m", "browsh", "carbonyl"})


@dataclass(frozen=True)
class BrowserChoice:
    controller: webbrowser.BaseBrowser | None
    needs_terminal: bool


def choose_browser() -> BrowserChoice:
    try:
        controller = webbrowser.get()
    except webbrowser.Error:
        return BrowserChoice(None, False)
    name = os.path.basename(getattr(controller, "name", "") or "").split()[0] if getattr(controller, "name", "") else ""
    needs_terminal = isinstance(controller, webbrowser.GenericBrowser) and name in TEXT_BROWSERS
    return BrowserChoice(controller, needs_terminal)


def open_with(choice: BrowserChoice, url: str) -> bool:
    """True when the browser accepted the URL."""
    if choice.controller is None:
        return False
    try:
        return bool(choice.controller.open(url, new=2))
    except (OSError, webbrowser.Error):
        return False
