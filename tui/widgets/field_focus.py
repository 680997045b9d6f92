"""Open a hidden input field on a key and focus it at once, so the keys typed right after go into it."""

from __future__ import annotations

from typing import Any

from textual.actions import SkipAction
from textual.screen import Screen
from textual.widgets import Input


def open_field(screen: Screen[Any], field: Input) -> None:
    """Show ``field`` and focus it now. Call it from a *priority* binding's action.

    A priority binding runs when the App reads the key, before the keys read in the same burst (``/docs`` from
    a fast typist, a paste, tmux) are handed on; focusing at once sends them to the field instead of running
    the screen's bindings. When the field already has focus the key is text for it (``SkipAction``).
    """
    if field.has_focus:
        raise SkipAction()
    field.remove_class("hidden")
    screen.set_focus(field, scroll_visible=False)
