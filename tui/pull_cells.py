"""The cells of one pull request row, and the column widths the title has to share (pure, no widgets)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from services.models import PodStatus, Preview
from services.previews import Row
from tui.formatting import compact_age
from tui.safe_text import printable

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

# Widths the title always leaves to the other columns, whatever the first rows hold: with these floors the
# title's width stays put while later pages arrive, so rows shown earlier need no redraw.
WIDTH_FLOORS = {
    "author": AUTHOR_WIDTH,
    "branch": BRANCH_WIDTH + len("fork "),
    "ci": len("failure"),
    "review": len("approved"),
    "draft": len("draft"),
    "updated": len("11mo"),
    "preview": PREVIEW_WIDTH,
}


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
    repo = pull.repo.partition("/")[2] if short_repo else pull.repo
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
    marker = {"ready": "●", "failed": "✖", "terminating": "◌", "deploying": "◐"}.get(preview.state, "●")
    text = Text(f"{marker} {preview.state}", style=style)
    room = PREVIEW_WIDTH - len(preview.state) - 3
    if preview.state in ("ready", "stale", "expiring") and preview.host:
        text.append(f" {printable(preview.host, max_length=room)}", style="dim")
    elif preview.reason:
        text.append(f" {printable(preview.reason, max_length=room)}")
    return text


def age_of(row: Row, now: datetime) -> str:
    return "—" if row.orphan else compact_age(row.pull.updated_at, now)


def title_room(widths: list[int], columns: tuple[tuple[str, str], ...], available: int, padding: int) -> int:
    """The width left for the title once every other column (at least its floor, and its label) has room."""
    others = 0
    for (key, label), width in zip(columns, widths, strict=True):
        if key != TITLE:
            others += max(width, WIDTH_FLOORS.get(key, 0), len(label)) + 2 * padding
    return max(MIN_TITLE_WIDTH, available - others - 2 * padding)
