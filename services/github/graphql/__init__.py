"""GraphQL query documents, one per ``.graphql`` file, validated against GitHub's schema by the tests."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load_query(name: str) -> str:
    """The text of ``services/graphql/<name>.graphql``."""
    return files(__package__).joinpath(f"{name}.graphql").read_text(encoding="utf-8")


def query_names() -> list[str]:
    """Every query document shipped with prdeck."""
    return sorted(
        entry.name.removesuffix(".graphql") for entry in files(__package__).iterdir() if entry.name.endswith(".graphql")
    )
