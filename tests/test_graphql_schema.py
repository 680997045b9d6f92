"""Query documents and the sandbox schema against GitHub's published schema (@octokit/graphql-schema)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from graphql import (
    GraphQLSchema,
    build_client_schema,
    is_enum_type,
    is_input_object_type,
    is_interface_type,
    is_object_type,
    parse,
    validate,
)

from prdeck.services.github.changes import changes_query
from prdeck.services.github.graphql import load_query, query_names
from prdeck.services.sandbox.github.graphql_api import sandbox_schema
from tests.conftest import ROOT

SCHEMA_JSON = Path(
    os.environ.get("PRDECK_GITHUB_SCHEMA", ROOT / ".cache/npm/node_modules/@octokit/graphql-schema/schema.json")
)


@pytest.fixture(scope="module")
def github_schema() -> GraphQLSchema:
    assert SCHEMA_JSON.is_file(), (
        f"{SCHEMA_JSON} is missing: tests/run installs the npm package @octokit/graphql-schema there"
    )
    data = json.loads(SCHEMA_JSON.read_text())
    # assume_valid: GitHub's published schema itself breaks two SDL rules (deprecated implementations of
    # non-deprecated interface fields), which graphql-core would otherwise refuse before validating queries.
    return build_client_schema(data.get("data", data), assume_valid=True)


def test_there_are_query_documents():
    assert "open_pull_requests" in query_names()


@pytest.mark.parametrize("name", query_names())
def test_query_documents_validate_against_githubs_schema(github_schema, name):
    errors = validate(github_schema, parse(load_query(name)))
    assert errors == [], [error.message for error in errors]


@pytest.mark.parametrize("name", query_names())
def test_query_documents_validate_against_the_sandbox(name):
    errors = validate(sandbox_schema(), parse(load_query(name)))
    assert errors == [], [error.message for error in errors]


def test_sandbox_schema_is_a_faithful_subset(github_schema):
    """Every sandbox type, field, argument, enum value and interface exists in GitHub's schema, same types."""
    problems = []
    for name, ours in sandbox_schema().type_map.items():
        if name.startswith("__"):
            continue
        theirs = github_schema.type_map.get(name)
        if theirs is None or type(theirs) is not type(ours):
            problems.append(f"type {name}")
            continue
        if is_enum_type(ours):
            problems += [f"{name}.{value}" for value in ours.values if value not in theirs.values]
        if is_object_type(ours) or is_interface_type(ours):
            missing = {i.name for i in ours.interfaces} - {i.name for i in theirs.interfaces}
            problems += [f"{name} implements {interface}" for interface in missing]
        if is_object_type(ours) or is_interface_type(ours) or is_input_object_type(ours):
            for field_name, field in ours.fields.items():
                their_field = theirs.fields.get(field_name)
                if their_field is None or str(their_field.type) != str(field.type):
                    problems.append(f"{name}.{field_name}: {field.type}")
                    continue
                for arg_name, arg in getattr(field, "args", {}).items():
                    their_arg = their_field.args.get(arg_name)
                    if their_arg is None or str(their_arg.type) != str(arg.type):
                        problems.append(f"{name}.{field_name}({arg_name}: {arg.type})")
    assert problems == []


@pytest.mark.parametrize("repositories", [0, 1, 5])
def test_the_incremental_refresh_document_for_several_repositories_validates(github_schema, repositories):
    """changes_query repeats a block of pull_request_changes.graphql per repository: still valid everywhere."""
    document = parse(changes_query(repositories))
    for schema in (github_schema, sandbox_schema()):
        errors = validate(schema, document)
        assert errors == [], [error.message for error in errors]
