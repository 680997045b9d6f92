"""A GraphQL query's point cost, computed the way GitHub documents it ("Calculating a rate limit score").

Add up the requests needed to fulfil each connection of the call, assuming every one reaches its ``first``
or ``last`` limit (a connection nested under a connection of 100 is 100 requests), divide by 100 and round;
a query costs at least 1 point. Fields that are not connections (``nodes(ids:)``, ``rateLimit``, scalars)
add nothing.
"""

from __future__ import annotations

import math
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    value_from_ast_untyped,
)


def query_cost(document: DocumentNode, variables: dict[str, Any] | None, operation: str | None = None) -> int:
    """Points one execution of ``document`` costs (minimum 1)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next((op for op in operations if operation is None or (op.name and op.name.value == operation)), None)
    if chosen is None:
        return 1
    requests = _requests(chosen.selection_set, 1, fragments, variables or {})
    return max(1, math.floor(requests / 100 + 0.5))


def _requests(
    selection_set: SelectionSetNode | None,
    multiplier: int,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            size = _page_size(selection, variables)
            if size is None:
                total += _requests(selection.selection_set, multiplier, fragments, variables)
            else:
                total += multiplier + _requests(selection.selection_set, multiplier * size, fragments, variables)
        elif isinstance(selection, InlineFragmentNode):
            total += _requests(selection.selection_set, multiplier, fragments, variables)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            total += _requests(fragments[selection.name.value].selection_set, multiplier, fragments, variables)
    return total


def _page_size(field: FieldNode, variables: dict[str, Any]) -> int | None:
    """``first`` or ``last`` of a connection field (None: not a paginated field)."""
    for argument in field.arguments or ():
        if argument.name.value in ("first", "last"):
            value = value_from_ast_untyped(argument.value, variables)
            return int(value) if isinstance(value, int) else 0
    return None
