"""prdeck.services.deck.deck.Deck: the list arrives page by page, and a prefetch hands over its pages and its errors."""

from __future__ import annotations

import pytest

from prdeck.services.config import Config
from prdeck.services.deck import open_deck
from prdeck.services.errors import Unavailable
from prdeck.services.models import RepoRef
from tests.conftest import admin, stats

APP = RepoRef("octo", "app")
SEED = {"users": [{"login": "maintainer"}], "generate": [{"repo": "octo/app", "pulls": 250}]}


def test_snapshots_grow_page_by_page_and_end_complete(make_sandbox):
    box = make_sandbox(SEED)
    admin(box, "reset-stats", {})
    deck = open_deck(config_for(box), [APP], token=box.token, cluster="off")
    snapshots = list(deck.snapshots())
    deck.close()
    assert [(len(s.rows), s.complete) for s in snapshots] == [(100, False), (200, False), (250, False), (250, True)]
    assert snapshots[1].rows[:100] == snapshots[0].rows, "a later page only appends"
    assert stats(box)["graphql"] == 3


def test_prefetch_is_taken_over_instead_of_fetching_twice(make_sandbox):
    box = make_sandbox(SEED)
    admin(box, "reset-stats", {})
    deck = open_deck(config_for(box), [APP], token=box.token, cluster="off")
    deck.prefetch()
    first = [len(s.rows) for s in deck.snapshots()]
    assert first == [100, 200, 250, 250]
    assert stats(box)["graphql"] == 3, "the prefetched pages were used, not fetched again"
    assert len(deck.snapshot().rows) == 250, "the next call fetches afresh"
    assert stats(box)["graphql"] == 6
    deck.close()


def test_prefetch_hands_its_error_to_the_consumer(make_sandbox):
    box = make_sandbox(SEED)
    admin(box, "faults", {"scope": "graphql", "status": 500, "times": 20})
    deck = open_deck(config_for(box, retries=0), [APP], token=box.token, cluster="off")
    deck.prefetch()
    with pytest.raises(Unavailable):
        list(deck.snapshots())
    deck.close()


def config_for(box: object, retries: int = 3) -> Config:
    return Config.defaults().with_values({"github.api_url": box.api_url, "github.retries": retries}, "test")  # type: ignore[attr-defined]
