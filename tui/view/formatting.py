"""Small display helpers shared by the CLI and the TUI."""

from __future__ import annotations

from datetime import UTC, datetime


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


def countdown(moment: datetime, now: datetime) -> str:
    """``2d``, ``5h``, ``40m``, ``expired``: how long until ``moment``, in its largest unit (a table cell)."""
    seconds = int((moment - now).total_seconds())
    if seconds <= 0:
        return "expired"
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return "<1m"


def expiry_text(moment: datetime, now: datetime | None = None, *, with_date: bool = True) -> str:
    """``in 2d 3h (2026-12-02 10:00 UTC)``, or ``2h ago (...)`` once past: for the detail pane and notices."""
    now = now or datetime.now(UTC)
    seconds = int((moment - now).total_seconds())
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    span = " ".join(part for part in (f"{days}d" if days else "", f"{hours}h" if hours else "",
                                      f"{rest // 60}m" if not days and rest >= 60 else "") if part) or "<1m"
    when = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"in {span}" if seconds > 0 else f"{span} ago"
    return f"{text} ({when})" if with_date else text
