"""The cells of one pull request row, and the column widths the title has to share (pure, no widgets)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from services.previews import Row
from tui.formatting import compact_age
from tui.safe_text import printable

CI_STYLES = {"SUCCESS": "green", "FAILURE": "bold red", "ERROR": "bold red", "PENDING": "yellow", "EXPECTED": "yellow"}
REVIEW_TEXT = {
    "APPROVED": ("approved", "green"),
    "CHANGES_REQUESTED": ("changes", "red"),
    "REVIEW_REQUIRED": ("required", ""),
}
BRANCH_WIDTH = 20
AUTHOR_WIDTH = 12
MIN_TITLE_WIDTH = 16
COLUMNS = (
    ("number", "#"),
    ("title", "Title"),
    ("author", "Author"),
    ("branch", "Branch"),
    ("ci", "CI"),
    ("review", "Review"),
    ("draft", "Draft"),
    ("updated", "Updated"),
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
}


def column_specs(with_repo: bool) -> tuple[tuple[str, str], ...]:
    return (REPO_COLUMN, *COLUMNS) if with_repo else COLUMNS


def row_cells(row: Row, age: str, *, with_repo: bool, short_repo: bool = False) -> tuple[Text, ...]:
    """The cells of one row; remote text is wrapped in ``Text`` and never parsed as markup."""
    pull = row.pull
    title_style = "dim italic" if pull.draft or row.orphan else ("red" if pull.ci in ("FAILURE", "ERROR") else "")
    review, review_style = REVIEW_TEXT.get(pull.review or "", ("—", "dim"))
    branch = Text(printable(pull.branch, max_length=BRANCH_WIDTH), style="cyan")
    if pull.fork:
        branch = Text.assemble(("fork ", "yellow"), branch)
    cells = (
        Text(str(pull.number), style="bold"),
        Text(printable(pull.title, max_length=300), style=title_style),
        Text(printable(pull.author, max_length=AUTHOR_WIDTH)),
        branch,
        Text((pull.ci or "—").lower(), style=CI_STYLES.get(pull.ci or "", "dim")),
        Text(review, style=review_style),
        Text("draft" if pull.draft else "", style="dim"),
        Text(age, style="dim"),
        preview_cell(row),
    )
    if not with_repo:
        return cells
    repo = pull.repo.partition("/")[2] if short_repo else pull.repo
    return (Text(printable(repo), style="magenta"), *cells)


PREVIEW_STYLES = {
    "ready": "bold green",
    "deploying": "yellow",
    "failed": "bold red",
    "terminating": "magenta",
    "stale": "dark_orange",
    "expiring": "yellow",
}
PREVIEW_WIDTH = 36


def preview_cell(row: Row) -> Text:
    """``● ready pr-101-app.example.dev``, ``✖ failed ImagePullBackOff``, ``—`` without a preview."""
    preview = row.preview
    if preview is None:
        return Text("—", style="dim")
    style = PREVIEW_STYLES.get(preview.state, "")
    marker = {"ready": "●", "failed": "✖", "terminating": "◌", "deploying": "◐"}.get(preview.state, "●")
    text = Text(f"{marker} {preview.state}", style=style)
    if preview.state in ("ready", "stale", "expiring") and preview.host:
        text.append(f" {printable(preview.host, max_length=PREVIEW_WIDTH - len(preview.state) - 3)}", style="dim")
    elif preview.reason:
        text.append(f" {printable(preview.reason, max_length=PREVIEW_WIDTH - len(preview.state) - 3)}")
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
