"""Share a terminal's width between table columns, the preview state first (pure: integers in, integers out).

Each column says how wide its widest cell is (``natural``) and how narrow it may get without losing what it is
for (``floor``: the preview's floor is its state word, any suffix and its reason, so only a host is ever cut).
:func:`fit` grows the title into what is left, or takes room back in a fixed order (the title first, then the
preview's host, the branch, the author, the title again down to its own floor, the repository last).
:func:`choose` tries the layouts from the widest to the most compact and keeps the first that fits; the table and
``prdeck ls`` both lay out through it, so the screen and the CLI cut the same things at the same widths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TITLE = "title"
TITLE_COMFORT = 24
"""The title gives up room down to this before any other column gives up any."""
MIN_TITLE_WIDTH = 8
SHRINK_STEPS: tuple[tuple[str, int], ...] = (
    (TITLE, TITLE_COMFORT),
    ("preview", 0),
    ("branch", 12),
    ("author", 8),
    (TITLE, MIN_TITLE_WIDTH),
    ("repo", 6),
)
"""Who gives up room, in order, and down to what (never below the column's own floor)."""
COMPACT_BELOW = 100
"""Narrower terminals get the compact layout even when a wider one would fit."""


@dataclass(frozen=True)
class Want:
    """What one column would like: its widest cell (``natural``) and the least it can live with (``floor``)."""

    key: str
    natural: int
    floor: int = 1


@dataclass(frozen=True)
class Fit:
    widths: tuple[int, ...]
    fits: bool
    """False: even every floor does not fit; the line is wider than ``available`` (it scrolls sideways)."""


def fit(wants: Sequence[Want], available: int, padding: int = 2) -> Fit:
    """Widths for ``wants`` on a line of ``available`` cells, ``padding`` cells around each column.

    The title (if any) takes everything the others leave, and the others give up room for it until it has
    :data:`TITLE_COMFORT` cells, however short the titles are; without a title the line may be narrower.
    """
    widths = {want.key: max(want.natural, want.floor, TITLE_COMFORT if want.key == TITLE else 0) for want in wants}
    floors = {want.key: want.floor for want in wants}
    used = sum(widths.values()) + padding * len(wants)
    if TITLE in widths and used < available:
        widths[TITLE] += available - used
        used = available
    for key, step_floor in SHRINK_STEPS:
        if used <= available:
            break
        if key not in widths:
            continue
        given = min(used - available, max(widths[key] - max(step_floor, floors[key]), 0))
        widths[key] -= given
        used -= given
    return Fit(tuple(widths[want.key] for want in wants), used <= available)


@dataclass(frozen=True)
class Layout:
    name: str
    columns: tuple[str, ...]
    widths: tuple[int, ...]
    fits: bool

    def width_of(self, key: str) -> int:
        return self.widths[self.columns.index(key)]


def choose(
    layouts: Sequence[tuple[str, Sequence[str]]],
    wants: dict[str, Want],
    available: int,
    *,
    padding: int = 2,
    compact_below: int = COMPACT_BELOW,
) -> Layout:
    """The first of ``layouts`` (name, column keys; widest first, most compact last) whose columns fit.

    A layout that is not the last fits only when its title keeps :data:`TITLE_COMFORT` cells: a more compact
    layout with a readable title beats a wide one with a stub of a title. Below ``compact_below`` only the last
    layout is tried. When nothing fits, the last layout at its floors.
    """
    candidates = list(layouts) if available >= compact_below else list(layouts[-1:])
    for position, (name, keys) in enumerate(candidates):
        result = fit([wants[key] for key in keys], available, padding)
        last = position == len(candidates) - 1
        roomy = TITLE not in keys or result.widths[list(keys).index(TITLE)] >= TITLE_COMFORT
        if last or (result.fits and roomy):
            return Layout(name, tuple(keys), result.widths, result.fits)
    raise AssertionError("unreachable: the last layout is always returned")
