"""Any error a worker raises, as prdeck shows errors: a title and a detail (pure logic, no widgets)."""

from __future__ import annotations

from prdeck.services.errors import PrdeckError, Unavailable


def as_failure(error: BaseException | None) -> PrdeckError:
    """A :class:`PrdeckError` as it is; anything else (a bug, an unwrapped library error) as an unexpected one."""
    if isinstance(error, PrdeckError):
        return error
    return Unavailable("Unexpected error", f"{type(error).__name__}: {error}")
