"""The cells of one pull request row, the widths of the columns and the lines they make (pure, no widgets)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from rich.cells import cell_len
from rich.text import Text

from prdeck.services.deck import Row
from prdeck.services.models import PodStatus, Preview, RepoRef
from prdeck.tui.view.column_budget import Layout, Want, choose
from prdeck.tui.view.formatting import compact_age, countdown
from prdeck.tui.view.safe_text import printable

CI_STYLES = {"SUCCESS": "green", "FAILURE": "bold red", "ERROR": "bold red", "PENDING": "yellow", "EXPECTED": "yellow"}
REVIEW_TEXT = {
    "APPROVED": ("approved", "green"),
    "CHANGES_REQUESTED": ("changes", "red"),
    "REVIEW_REQUIRED": ("required", ""),
}
BRANCH_WIDTH = 16
AUTHOR_WIDTH = 10
PREVIEW_WIDTH = 48
"""The widest the preview column gets (a long host is cut to fit)."""
PREVIEW_REASON_WIDTH = 32
"""A reason longer than this may be cut like a host; shorter ones always show in full."""
LABELS = {
    "repo": "Repo", "number": "#", "title": "Title", "author": "Author", "branch": "Branch", "ci": "CI",
    "review": "Review", "draft": "Draft", "updated": "Age", "preview": "Preview",
}
LAYOUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wide", ("number", "title", "author", "branch", "ci", "review", "draft", "updated", "preview")),
    ("normal", ("number", "title", "author", "branch", "ci", "review", "updated", "preview")),
    ("compact", ("number", "title", "ci", "updated", "preview")),
)
"""The table's layouts, widest first: the first whose title keeps room wins; narrow terminals get ``compact``,
which keeps the number and the whole preview state and drops the author, branch, review and draft."""
TITLE = "title"
CELL_PADDING = 1

WIDTH_CAPS = {
    "author": AUTHOR_WIDTH,
    "branch": BRANCH_WIDTH + len("fork "),
    "ci": len("expected"),
    "review": len("approved"),
    "draft": len("draft"),
    "updated": len("52w"),
    "preview": PREVIEW_WIDTH,
}
"""The widest each column but the title gets; its cells are cut to fit."""


def layouts_for(with_repo: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((name, ("repo", *keys) if with_repo else keys) for name, keys in LAYOUTS)


def column_specs(keys: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``(key, label)`` of each of ``keys``."""
    return tuple((key, LABELS[key]) for key in keys)


def row_cells(row: Row, age: str, keys: Sequence[str], *, short_repo: bool = False) -> tuple[Text, ...]:
    """The cells of one row for the columns ``keys``; remote text is wrapped in ``Text``, never parsed as markup."""
    pull = row.pull
    title_style = "dim italic" if pull.draft or row.orphan else ("red" if pull.ci in ("FAILURE", "ERROR") else "")
    review, review_style = REVIEW_TEXT.get(pull.review or "", ("—", "dim"))
    branch = Text(printable(pull.branch, max_length=BRANCH_WIDTH), style="cyan")
    if pull.fork:
        branch = Text.assemble(("fork ", "yellow"), branch)
    repo = repo_text(pull.repo, short_repo)
    cells: dict[str, Callable[[], Text]] = {
        "repo": lambda: Text(printable(repo), style="magenta"),
        "number": lambda: Text(str(pull.number), style="bold"),
        "title": lambda: Text(printable(pull.title, max_length=300), style=title_style),
        "author": lambda: Text(printable(pull.author, max_length=AUTHOR_WIDTH)),
        "branch": lambda: branch,
        "ci": lambda: Text((pull.ci or "—").lower(), style=CI_STYLES.get(pull.ci or "", "dim")),
        "review": lambda: Text(review, style=review_style),
        "draft": lambda: Text("draft" if pull.draft else "", style="dim"),
        "updated": lambda: Text(age, style="dim"),
        "preview": lambda: preview_cell(row),
    }
    return tuple(cells[key]() for key in keys)


PREVIEW_STYLES = {
    "ready": "bold green",
    "queued": "dim",
    "building": "yellow",
    "pushing": "yellow",
    "deploying": "yellow",
    "failed": "bold red",
    "interrupted": "dark_orange",
    "terminating": "magenta",
    "stale": "dark_orange",
    "expiring": "yellow",
    "asleep": "blue",
    "empty": "dim",
}
PREVIEW_MARKERS = {
    "ready": "●", "stale": "●", "expiring": "●", "queued": "○", "building": "◐", "pushing": "◐", "deploying": "◐",
    "failed": "✖", "interrupted": "■", "terminating": "◌", "asleep": "☾", "empty": "◇",
}
"""The glyph before a state word; a state not listed gets ``·`` (only ready-like states get the ready dot)."""
HOST_STATES = ("ready", "stale", "expiring")
"""States whose cell shows the host (the preview serves); the others show why they are not ready."""


def preview_summary(preview: Preview | None) -> str:
    """``ready pr-101.example.dev``, ``failed: ImagePullBackOff``, ``—``: for lists and the detail pane."""
    if preview is None:
        return "—"
    if preview.state in ("ready", "stale", "expiring") and preview.host:
        return f"{preview.state} {preview.host}"
    return f"{preview.state}: {preview.reason}" if preview.reason else preview.state


def pod_condition(pod: PodStatus) -> str:
    """``ready``, the reason it waits (``ImagePullBackOff``), or ``not ready`` for a running pod."""
    if pod.ready:
        return "ready"
    return pod.reason or ("not ready" if pod.phase == "Running" else pod.phase)


def preview_suffix(preview: Preview) -> str:
    """A short mark shown right after the state word and never cut: the pin, or the time left before expiry."""
    return life_mark(preview)


def preview_detail(preview: Preview) -> tuple[str, bool]:
    """What follows the state word: the host of a serving preview (``True``: it may be cut) or the reason."""
    if preview.state in HOST_STATES and preview.host:
        return preview.host, True
    return (preview.reason, len(preview.reason) > PREVIEW_REASON_WIDTH) if preview.reason else ("", False)


def preview_head(preview: Preview, marker: bool = True, suffix: bool = True) -> str:
    """``● failed``, ``● ready ⚑``, ``● ready 2d``: the part of the preview cell that is never cut."""
    suffix_text = preview_suffix(preview) if suffix else ""
    head = f"{PREVIEW_MARKERS.get(preview.state, '·')} {preview.state}" if marker else preview.state
    return f"{head} {suffix_text}" if suffix_text else head


def preview_floor(preview: Preview | None, marker: bool = True) -> int:
    """The fewest cells the preview cell needs: its head and a reason (never a host, never a long reason)."""
    if preview is None:
        return 1
    head = cell_len(preview_head(preview, marker))
    detail, cuttable = preview_detail(preview)
    return head if cuttable or not detail else head + 1 + cell_len(printable(detail))


def preview_width(preview: Preview) -> int:
    """The cells :func:`preview_cell` takes, without building it."""
    detail, _ = preview_detail(preview)
    head = cell_len(preview_head(preview))
    return head + 1 + cell_len(printable(detail, max_length=PREVIEW_WIDTH)) if detail else head


def preview_cell(row: Row) -> Text:
    """``● ready pr-101-app.example.dev``, ``✖ failed ImagePullBackOff``, ``—`` without a preview.

    The state word (and its suffix) comes first and a reason next, so cutting the cell from the right loses the
    host first: :func:`preview_floor` is the width below which the column never goes.
    """
    preview = row.preview
    if preview is None:
        return Text("—", style="dim")
    suffix = preview_suffix(preview)
    text = Text(preview_head(preview, suffix=False), style=PREVIEW_STYLES.get(preview.state, ""))
    if suffix:
        text.append(f" {suffix}", style="bold cyan" if preview.pinned else "dim")
    detail, _ = preview_detail(preview)
    if detail:
        text.append(f" {printable(detail, max_length=PREVIEW_WIDTH)}",
                    style="dim" if preview.state in HOST_STATES else "")
    return text


PIN = "⚑"
LIFE_STATES = frozenset({"ready", "stale", "expiring", "asleep", "empty"})


def life_mark(preview: Preview, now: datetime | None = None) -> str:
    """``⚑`` for a pinned preview, else how long until it expires (``2d``, ``5h``, ``<1h``); nothing while it
    deploys, fails or goes (its reason matters more then)."""
    if preview.state not in LIFE_STATES:
        return ""
    if preview.pinned:
        return PIN
    if preview.expires_at is None:
        return ""
    left = countdown(preview.expires_at, now or datetime.now(UTC))
    return "<1h" if left.endswith("m") else left


def age_of(row: Row, now: datetime) -> str:
    return "—" if row.orphan else compact_age(row.pull.updated_at, now)


def repo_text(repo: RepoRef, short_repo: bool) -> str:
    """``storefront`` when every row shares one owner, else ``acme/storefront``."""
    return repo.name if short_repo else repo.full_name


def column_wants(rows: Sequence[Row], keys: Sequence[str], *, now: datetime, short_repo: bool) -> dict[str, Want]:
    """What each column of ``keys`` would like, measured from the plain values without building a cell.

    1,000 rows take a few milliseconds.
    """
    measures: dict[str, Callable[[], int]] = {
        "repo": lambda: max((cell_len(printable(repo_text(repo, short_repo))) for repo in {r.pull.repo for r in rows}),
                            default=0),
        "number": lambda: max((len(str(row.pull.number)) for row in rows), default=0),
        "title": lambda: max((cell_len(printable(row.pull.title, max_length=300)) for row in rows), default=0),
        "author": lambda: max((cell_len(printable(row.pull.author)) for row in rows), default=0),
        "branch": lambda: max(
            (cell_len(printable(row.pull.branch)) + (len("fork ") if row.pull.fork else 0) for row in rows), default=0
        ),
        "ci": lambda: max((len(row.pull.ci or "—") for row in rows), default=0),
        "review": lambda: max((len(REVIEW_TEXT.get(row.pull.review or "", ("—", ""))[0]) for row in rows), default=0),
        "draft": lambda: len("draft") if any(row.pull.draft for row in rows) else 0,
        "updated": lambda: max((len(age_of(row, now)) for row in rows), default=0),
        "preview": lambda: max((preview_width(row.preview) for row in rows if row.preview is not None), default=1),
    }
    wants: dict[str, Want] = {}
    for key in keys:
        natural = max(min(measures[key](), WIDTH_CAPS.get(key, 10_000)), len(LABELS[key]))
        floor = natural
        if key == "preview":
            floor = min(max((preview_floor(row.preview) for row in rows), default=1), natural)
            floor = max(floor, len(LABELS[key]))
        elif key in ("title", "branch", "author", "repo"):
            floor = 1
        wants[key] = Want(key, natural, floor)
    return wants


def table_layout(rows: Sequence[Row], available: int, *, with_repo: bool, now: datetime, short_repo: bool) -> Layout:
    """The columns to show on ``available`` cells and their widths (see :mod:`prdeck.tui.view.column_budget`)."""
    layouts = layouts_for(with_repo)
    keys = {key for _, columns in layouts for key in columns}
    wants = column_wants(rows, tuple(keys), now=now, short_repo=short_repo)
    return choose(layouts, wants, available, padding=2 * CELL_PADDING)


def table_line(cells: Sequence[Text], widths: Sequence[int]) -> Text:
    """One table line: each cell cut (with an ellipsis) or padded to its column, with a space either side.

    The cells are changed in place (they are built for this line).
    """
    line = Text(no_wrap=True, end="")
    padding = " " * CELL_PADDING
    for cell, width in zip(cells, widths, strict=True):
        cell.truncate(width, overflow="ellipsis", pad=True)
        line.append(padding)
        line.append_text(cell)
        line.append(padding)
    return line
