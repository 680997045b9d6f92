"""`prdeck ls` as a table: laid out by the same column budget as the TUI on a terminal, never cut off one.

On a terminal the preview state and its reason always show in full, ``#`` never goes, and below 100 columns the
author, branch, review and flags make way (:mod:`prdeck.tui.view.column_budget`). Off a terminal (a pipe, a
file) nothing is cut: each column is as wide as its widest cell, and lines are as long as they need to be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len
from rich.text import Text

from prdeck.services.deck import Row
from prdeck.services.models import Preview, PullRequest
from prdeck.tui.view.column_budget import Want, choose
from prdeck.tui.view.formatting import relative_age
from prdeck.tui.view.pull_cells import PREVIEW_STYLES, preview_detail, preview_floor, preview_head
from prdeck.tui.view.safe_text import printable

CI_STYLES = {"SUCCESS": "green", "FAILURE": "red", "ERROR": "red", "PENDING": "yellow", "EXPECTED": "yellow"}
REVIEW_LABELS = {"APPROVED": "approved", "CHANGES_REQUESTED": "changes", "REVIEW_REQUIRED": "required"}
GAP = 2
"""Cells between two columns."""
CAPS = {"repo": 24, "author": 16, "branch": 24}
"""On a terminal, the widest these get (their cells are cut with an ellipsis)."""
LAYOUTS = (
    ("wide", ("repo", "number", "title", "author", "branch", "ci", "review", "flags", "updated", "preview")),
    ("normal", ("repo", "number", "title", "author", "branch", "ci", "review", "updated", "preview")),
    ("compact", ("repo", "number", "title", "ci", "updated", "preview")),
)
LABELS = {"repo": "REPO", "number": "#", "title": "TITLE", "author": "AUTHOR", "branch": "BRANCH", "ci": "CI",
          "review": "REVIEW", "flags": "", "updated": "UPDATED", "preview": "PREVIEW"}


@dataclass(frozen=True)
class Line:
    pull: PullRequest
    preview: Preview | None
    cells: dict[str, Text]


def preview_text(preview: Preview | None) -> Text:
    """``ready pr-101.example.dev``, ``failed ImagePullBackOff``: the state word first, then why or where."""
    if preview is None:
        return Text("—", style="dim")
    text = Text(preview_head(preview, marker=False), style=PREVIEW_STYLES.get(preview.state, ""))
    detail, _ = preview_detail(preview)
    if detail:
        text.append(f" {printable(detail, max_length=200)}")
    return text


def _cells(pull: PullRequest, preview: Preview | None, now: datetime, short_repo: bool) -> dict[str, Text]:
    flags = " ".join(flag for flag, on in (("draft", pull.draft), ("fork", pull.fork)) if on)
    return {
        "repo": Text(printable(pull.repo.name if short_repo else str(pull.repo))),
        "number": Text(str(pull.number)),
        "title": Text(printable(pull.title, max_length=200)),
        "author": Text(printable(pull.author, max_length=60)),
        "branch": Text(printable(pull.branch, max_length=120), style="cyan"),
        "ci": Text((pull.ci or "—").lower(), style=CI_STYLES.get(pull.ci or "", "dim")),
        "review": Text(REVIEW_LABELS.get(pull.review or "", "—")),
        "flags": Text(flags, style="dim"),
        "updated": Text(relative_age(pull.updated_at, now), style="dim"),
        "preview": preview_text(preview),
    }


def table_lines(pulls: Sequence[PullRequest], rows: Sequence[Row], *, with_previews: bool, several: bool,
                now: datetime, width: int | None) -> list[Text]:
    """The header and one line per pull request; ``width`` None: off a terminal, nothing is cut."""
    previews = {row.key: row.preview for row in rows}
    lines = [Line(pull, previews.get(f"{pull.repo}#{pull.number}"), {}) for pull in pulls]
    short_repo = width is not None and len({pull.repo.owner for pull in pulls}) == 1
    lines = [Line(line.pull, line.preview, _cells(line.pull, line.preview, now, short_repo)) for line in lines]
    drop = {"repo"} if not several else set()
    if not with_previews:
        drop.add("preview")
    layouts = [(name, tuple(key for key in keys if key not in drop)) for name, keys in LAYOUTS]
    keys_wanted = layouts[0][1]
    natural = {key: max([cell_len(LABELS[key]), *(line.cells[key].cell_len for line in lines)]) for key in keys_wanted}
    if width is None:
        keys, widths = keys_wanted, tuple(natural[key] for key in keys_wanted)
    else:
        wants = {}
        for key in keys_wanted:
            cap = CAPS.get(key, 10_000)
            floor = natural[key]
            if key == "preview":
                floor = max([len(LABELS[key]), *(preview_floor(line.preview, marker=False) for line in lines)])
            elif key in ("title", "author", "branch", "repo"):
                floor = 1
            wants[key] = Want(key, min(natural[key], cap), min(floor, natural[key]))
        # the last column ends the line: it needs no gap after it (fit() adds one to every column)
        layout = choose(layouts, wants, width + GAP, padding=GAP)
        keys, widths = layout.columns, layout.widths
        if "title" in keys:  # a title column wider than every title only pads the line
            index = keys.index("title")
            widths = (*widths[:index], min(widths[index], natural["title"]), *widths[index + 1:])
    out = [_line([Text(LABELS[key], style="bold") for key in keys], keys, widths)]
    out += [_line([line.cells[key].copy() for key in keys], keys, widths) for line in lines]
    return out


def _line(cells: list[Text], keys: Sequence[str], widths: Sequence[int]) -> Text:
    line = Text(no_wrap=True, end="")
    for index, (key, cell, width) in enumerate(zip(keys, cells, widths, strict=True)):
        if index:
            line.append(" " * GAP)
        last = index == len(keys) - 1
        if cell.cell_len > width:
            cell.truncate(width, overflow="ellipsis")
        elif key == "number":
            cell = Text(" " * (width - cell.cell_len)) + cell
        elif not last:
            cell.pad_right(width - cell.cell_len)
        line.append_text(cell)
    line.rstrip()
    return line
