"""prdeck.tui.view.mailbox: a producer faster than the reader wakes it once and the reader gets the newest value."""

from __future__ import annotations

import threading

from prdeck.tui.view.mailbox import Mailbox


def test_only_the_first_put_into_an_empty_box_wakes_the_reader():
    box: Mailbox[int] = Mailbox()
    assert box.put(1) is True
    assert box.put(2) is False
    assert box.put(3) is False
    assert box.take() == 3
    assert box.take() is None
    assert box.put(4) is True


def test_threads_never_lose_the_last_value():
    box: Mailbox[int] = Mailbox()
    wakes = []

    def produce() -> None:
        for value in range(10_000):
            if box.put(value):
                wakes.append(value)

    worker = threading.Thread(target=produce)
    worker.start()
    seen = []
    while worker.is_alive() or seen[-1:] != [9999]:
        value = box.take()
        if value is not None:
            seen.append(value)
    worker.join()
    assert seen == sorted(seen), "values come out in order"
    assert seen[-1] == 9999
    assert len(wakes) <= len(seen) + 1
