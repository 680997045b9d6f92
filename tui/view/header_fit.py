"""Fit the header line to the terminal: drop whole pieces, least useful first, never cut one mid-phrase (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text


@dataclass(frozen=True)
class Piece:
    """One phrase of the header. ``drop``: the order it goes in when the line is too long (1 goes first, 0 never);
    ``short``: what it becomes at its turn instead of going (None: it goes whole)."""

    text: Text
    separator: str = "   "
    drop: int = 0
    short: Text | None = None


def fit_header(pieces: Sequence[Piece], width: int) -> Text:
    """The pieces joined on one line of at most ``width`` cells.

    Pieces are shortened (those with a short form) or dropped in ``drop`` order until the line fits; if what is
    left is still too long, the line is cut at the end with an ellipsis.
    """
    chosen: list[Piece | None] = list(pieces)
    order = sorted((index for index, piece in enumerate(pieces) if piece.drop), key=lambda i: pieces[i].drop)
    for index in order:
        if _join(chosen).cell_len <= width:
            break
        piece = pieces[index]
        chosen[index] = Piece(piece.short, piece.separator) if piece.short is not None else None
    line = _join(chosen)
    if line.cell_len > width:
        line.truncate(width, overflow="ellipsis")
    return line


def _join(pieces: Sequence[Piece | None]) -> Text:
    line = Text(no_wrap=True, end="")
    for piece in pieces:
        if piece is None:
            continue
        if line.cell_len:
            line.append(piece.separator)
        line.append_text(piece.text)
    return line
