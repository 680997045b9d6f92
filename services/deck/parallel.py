"""Two blocking calls side by side: the PR list from GitHub and the previews from the cluster."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from prdeck.services.errors import PrdeckError

T = TypeVar("T")


def side_by_side(main: Callable[[], T], beside: Callable[[], object]) -> tuple[T, PrdeckError | None]:
    """``main()``'s result, with ``beside()`` run in a thread meanwhile; its PrdeckError is returned (the caller
    shows it next to the result), anything else is raised in the caller's thread."""
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            beside()
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)

    thread = threading.Thread(target=run, name="prdeck-beside", daemon=True)
    thread.start()
    result = main()
    thread.join()
    error = outcome[0] if outcome else None
    if error is not None and not isinstance(error, PrdeckError):
        raise error
    return result, error
