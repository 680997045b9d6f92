"""The footer on a narrow terminal: keys packed tighter, so the ones that matter stay in sight."""

from __future__ import annotations

from textual.widgets import Footer

COMPACT_FOOTER_BELOW = 120


def fit_footer(footer: Footer, width: int) -> None:
    """Below :data:`COMPACT_FOOTER_BELOW` columns the keys go compact and the palette key goes (Ctrl+P still opens
    the palette): docked on the right, it covered the keys beneath it."""
    footer.compact = width < COMPACT_FOOTER_BELOW
    footer.show_command_palette = not footer.compact
