"""Small display helpers shared by the CLI and the TUI."""

from __future__ import annotations

from datetime import datetime


def relative_age(moment: datetime, now: datetime) -> str:
    """``now``, ``5m``, ``3h``, ``2d``, ``7w``, ``1y``: how long ago ``moment`` was."""
    seconds = max(int((now - moment).total_seconds()), 0)
    for unit, size in (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"


def compact_age(moment: datetime, now: datetime) -> str:
    """``now``, ``5m``, ``3h``: :func:`relative_age` for narrow table cells."""
    age = relative_age(moment, now)
    return "now" if age == "just now" else age.removesuffix(" ago")
