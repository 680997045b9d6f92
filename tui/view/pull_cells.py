"""The cells of one pull request row, the widths of the columns and the lines they make (pure, no widgets)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from rich.cells import cell_len
from rich.text import Text

from prdeck.services.deck import Row
from prdeck.services.models import PodStatus, Preview, RepoRef
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
MIN_TITLE_WIDTH = 14
PREVIEW_WIDTH = 22
COLUMNS = (
    ("number", "#"),
    ("title", "Title"),
    ("author", "Author"),
    ("branch", "Branch"),
    ("ci", "CI"),
    ("review", "Review"),
    ("draft", "Draft"),
    ("updated", "Age"),
    ("preview", "Preview"),
)
REPO_COLUMN = ("repo", "Repository")
TITLE = "title"

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
TITLE_COMFORT = 32
"""On a narrow terminal the title takes room from these columns (down to their floors) until it has this much."""
SHRINKABLE = (("branch", 12), ("preview", 14), ("author", 8))
CELL_PADDING = 1


COMPACT_BELOW = 150
"""Terminals narrower than this drop the Draft column (drafts still show as dim italic titles)."""


def column_specs(with_repo: bool, compact: bool = False) -> tuple[tuple[str, str], ...]:
    columns = tuple(column for column in COLUMNS if not (compact and column[0] == "draft"))
    return (REPO_COLUMN, *columns) if with_repo else columns


def row_cells(
    row: Row, age: str, *, with_repo: bool, short_repo: bool = False, compact: bool = False
) -> tuple[Text, ...]:
    """The cells of one row; remote text is wrapped in ``Text`` and never parsed as markup."""
    pull = row.pull
    title_style = "dim italic" if pull.draft or row.orphan else ("red" if pull.ci in ("FAILURE", "ERROR") else "")
    review, review_style = REVIEW_TEXT.get(pull.review or "", ("—", "dim"))
    branch = Text(printable(pull.branch, max_length=BRANCH_WIDTH), style="cyan")
    if pull.fork:
        branch = Text.assemble(("fork ", "yellow"), branch)
    repo = repo_text(pull.repo, short_repo)
    cells = {
        "repo": Text(printable(repo), style="magenta"),
        "number": Text(str(pull.number), style="bold"),
        "title": Text(printable(pull.title, max_length=300), style=title_style),
        "author": Text(printable(pull.author, max_length=AUTHOR_WIDTH)),
        "branch": branch,
        "ci": Text((pull.ci or "—").lower(), style=CI_STYLES.get(pull.ci or "", "dim")),
        "review": Text(review, style=review_style),
        "draft": Text("draft" if pull.draft else "", style="dim"),
        "updated": Text(age, style="dim"),
        "preview": preview_cell(row),
    }
    return tuple(cells[key] for key, _ in column_specs(with_repo, compact))


PREVIEW_STYLES = {
    "ready": "bold green",
    "deploying": "yellow",
    "failed": "bold red",
    "terminating": "magenta",
    "stale": "dark_orange",
    "expiring": "yellow",
    "asleep": "blue",
    "empty": "dim",
}


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


def preview_cell(row: Row) -> Text:
    """``● ready pr-101-app.example.dev``, ``✖ failed ImagePullBackOff``, ``—`` without a preview."""
    preview = row.preview
    if preview is None:
        return Text("—", style="dim")
    style = PREVIEW_STYLES.get(preview.state, "")
    marker = {"ready": "●", "failed": "✖", "terminating": "◌", "deploying": "◐", "asleep": "☾",
              "empty": "○"}.get(preview.state, "●")
    text = Text(f"{marker} {preview.state}", style=style)
    life = life_mark(preview)
    if life:
        text.append(f" {life}", style="bold cyan" if preview.pinned else "dim")
    room = PREVIEW_WIDTH - len(preview.state) - 3 - (len(life) + 1 if life else 0)
    if preview.state in ("ready", "stale", "expiring") and preview.host:
        text.append(f" {printable(preview.host, max_length=room)}", style="dim")
    elif preview.reason:
        text.append(f" {printable(preview.reason, max_length=room)}")
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


def column_widths(
    rows: Sequence[Row], columns: tuple[tuple[str, str], ...], available: int, *, now: datetime, short_repo: bool
) -> tuple[int, ...]:
    """Widths of ``columns``: each fits its widest cell (up to its cap), the title takes what the others leave.

    Measured from the pull requests' plain values, without building a cell: 1,000 rows take a few milliseconds.
    """
    measures: dict[str, Callable[[], int]] = {
        "repo": lambda: max((cell_len(printable(repo_text(repo, short_repo))) for repo in {r.pull.repo for r in rows}),
                            default=0),
        "number": lambda: max((len(str(row.pull.number)) for row in rows), default=0),
        "author": lambda: max((cell_len(printable(row.pull.author)) for row in rows), default=0),
        "branch": lambda: max(
            (cell_len(printable(row.pull.branch)) + (len("fork ") if row.pull.fork else 0) for row in rows), default=0
        ),
        "ci": lambda: max((len(row.pull.ci or "—") for row in rows), default=0),
        "review": lambda: max((len(REVIEW_TEXT.get(row.pull.review or "", ("—", ""))[0]) for row in rows), default=0),
        "draft": lambda: len("draft") if any(row.pull.draft for row in rows) else 0,
        "updated": lambda: max((len(age_of(row, now)) for row in rows), default=0),
        "preview": lambda: max((preview_cell(row).cell_len for row in rows if row.preview is not None), default=1),
    }
    widths: list[int] = []
    for key, label in columns:
        width = 0 if key == TITLE else min(measures[key](), WIDTH_CAPS.get(key, available))
        widths.append(max(width, len(label)))
    keys = [key for key, _ in columns]
    others = sum(width + 2 * CELL_PADDING for key, width in zip(keys, widths, strict=True) if key != TITLE)
    title = available - others - 2 * CELL_PADDING
    for key, floor in SHRINKABLE:
        if title >= TITLE_COMFORT or key not in keys:
            continue
        index = keys.index(key)
        given = min(TITLE_COMFORT - title, max(widths[index] - floor, 0))
        widths[index] -= given
        title += given
    title = max(title, MIN_TITLE_WIDTH)
    return tuple(title if key == TITLE else width for key, width in zip(keys, widths, strict=True))


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
