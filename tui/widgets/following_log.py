"""A ``Log`` that keeps following its end while the user has not scrolled away from it.

Textual's ``Log`` scrolls to new lines only when it is already at the end. When the widget shrinks (the launch
panel's push bar appears above it) the end moves below the fold, the log stops being "at the end" and new lines
are written out of sight. This one remembers whether the user scrolled up, and follows otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self

from textual.widgets import Log


class FollowingLog(Log):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.following = True
        """False once the user scrolled up; True again when they scroll back to the end."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value != old_value:
            self.following = new_value >= self.max_scroll_y

    def write_lines(self, lines: Iterable[str], scroll_end: bool | None = None) -> Self:
        follow = self.following if scroll_end is None else scroll_end
        super().write_lines(lines, scroll_end=False)
        if follow:
            self._to_end()
        return self

    def on_resize(self) -> None:
        if self.following:
            self.call_after_refresh(self._to_end)

    def _to_end(self) -> None:
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.following = True
