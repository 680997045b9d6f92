"""The facade: :class:`Deck` (what the CLI and the screens call), the rows it produces, and :func:`open_deck`,
the one place that builds a deck from the config."""

from prdeck.services.deck.deck import ClusterParts, Deck
from prdeck.services.deck.rows import Overview, PreviewDetail, PreviewStatus, Row, Snapshot, at_head, join
from prdeck.services.deck.wiring import ClusterMode, open_deck, open_launcher, sign_in, token_for
from prdeck.services.github.budget import Budget, Pace

__all__ = [
    "Budget",
    "ClusterMode",
    "ClusterParts",
    "Deck",
    "Overview",
    "Pace",
    "PreviewDetail",
    "PreviewStatus",
    "Row",
    "Snapshot",
    "at_head",
    "join",
    "open_deck",
    "open_launcher",
    "sign_in",
    "token_for",
]
