"""Filtering, sorting and counting rows: pure functions the list screen applies to a snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from prdeck.services.deck import Row

FAILING = ("FAILURE", "ERROR")
_CI_ORDER = {"FAILURE": 0, "ERROR": 0, "PENDING": 1, "EXPECTED": 1, "SUCCESS": 2, None: 3}


@dataclass(frozen=True)
class SortOrder:
    name: str
    key: Callable[[Row], Any]
    reverse: bool


SORT_ORDERS: tuple[SortOrder, ...] = (
    SortOrder("updated", lambda row: row.pull.updated_at, True),
    SortOrder("number", lambda row: (row.pull.repo.full_name, row.pull.number), True),
    SortOrder("author", lambda row: (row.pull.author.casefold(), -row.pull.number), False),
    SortOrder("CI", lambda row: (_CI_ORDER.get(row.pull.ci, 3), -row.pull.updated_at.timestamp()), False),
)


def next_sort(current: SortOrder) -> SortOrder:
    return SORT_ORDERS[(SORT_ORDERS.index(current) + 1) % len(SORT_ORDERS)]


REVIEW_WORDS = {"APPROVED": "approved", "CHANGES_REQUESTED": "changes", "REVIEW_REQUIRED": "required"}
"""The review states as the table shows them (and the filter finds them)."""


def flags_of(row: Row) -> tuple[str, ...]:
    """The words a row answers to besides its text: as the table and the header show it.

    ``fork``, ``draft``, ``orphan``, the CI state (``failure``, ``pending``...; an ``error`` is ``failure`` and
    ``failing`` too, as the header counts it), the review as shown (``approved``, ``changes``, ``required``) and
    the preview's state (``ready``, ``failed``, ``stale``...).
    """
    pull = row.pull
    ci = (pull.ci or "").lower()
    failing = ("failure", "failing") if pull.ci in FAILING else ()
    preview = (row.preview.state,) if row.preview is not None else ()
    review = REVIEW_WORDS.get(pull.review or "", "")
    return ("fork" if pull.fork else "", "draft" if pull.draft else "", "orphan" if row.orphan else "", ci,
            *failing, review, *preview)


def matches(row: Row, words: Sequence[str]) -> bool:
    """Every word must occur (case-insensitively) in the title, author, branch, a label, the repository or the
    row's flags (:func:`flags_of`)."""
    pull = row.pull
    flags = flags_of(row)
    words_of_row = (pull.title, pull.author, pull.branch, pull.repo.full_name, *pull.labels, f"#{pull.number}", *flags)
    haystack = "\n".join(words_of_row)
    haystack = haystack.casefold()
    return all(word in haystack for word in words)


def select(rows: Iterable[Row], query: str, order: SortOrder) -> list[Row]:
    """The rows that match ``query`` in ``order``; orphaned previews always come last, whatever the order."""
    words = query.casefold().split()
    chosen = [row for row in rows if matches(row, words)] if words else list(rows)
    pulls = sorted((row for row in chosen if not row.orphan), key=order.key, reverse=order.reverse)
    orphans = sorted((row for row in chosen if row.orphan), key=lambda row: (row.pull.repo.full_name, row.pull.number))
    return pulls + orphans


@dataclass(frozen=True)
class Counts:
    open: int
    drafts: int
    failing: int
    previews: int


def count(rows: Sequence[Row]) -> Counts:
    return Counts(
        open=sum(1 for row in rows if not row.orphan),
        drafts=sum(1 for row in rows if row.pull.draft),
        failing=sum(1 for row in rows if row.pull.ci in FAILING),
        previews=sum(1 for row in rows if row.preview is not None),
    )
