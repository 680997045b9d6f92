"""The GitHub sandbox charges GraphQL points as GitHub documents them, reports them in ``rateLimit`` and the
headers, resolves ``nodes(ids:)`` and answers a secondary rate limit as GitHub does."""

from __future__ import annotations

import pytest
import requests
from graphql import parse

from prdeck.services.errors import RateLimited
from prdeck.services.github.changes import changes_query
from prdeck.services.github.graphql import load_query
from prdeck.services.github.service import GitHubService
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.github.graphql_cost import query_cost
from tests.conftest import admin

DOCS_EXAMPLE = """
query {
  viewer {
    login
    repositories(first: 100) {
      edges { node { id issues(first: 50) { edges { node { id labels(first: 60) { edges { node { id name } } } } } } } }
    }
  }
}
"""


def test_the_documented_example_costs_51_points():
    # GitHub's docs: 1 + 100 + 5,000 requests = 5,101 / 100 = 51 points
    assert query_cost(parse(DOCS_EXAMPLE), None) == 51


def test_prdecks_queries_cost_what_github_would_charge():
    assert query_cost(parse(load_query("open_pull_requests")), {}) == 2  # 1 + 100 labels + 100 commits
    assert query_cost(parse(load_query("pull_request_detail")), {}) == 1  # no connection: the minimum
    assert query_cost(parse(changes_query(5)), {"first": 10}) == 1  # 5 x (1 + 10 + 10) = 105 requests
    assert query_cost(parse(changes_query(5)), {"first": 30}) == 3  # 5 x 61 = 305


def _post(box, query: str, variables: dict | None = None) -> requests.Response:
    return requests.post(box.graphql_url, json={"query": query, "variables": variables or {}},
                         headers={"Authorization": f"bearer {box.token}"}, timeout=10)


def test_points_are_charged_and_reported(sandbox):
    query = """query($owner: String!, $name: String!) {
      rateLimit { cost remaining used limit resetAt }
      repository(owner: $owner, name: $name) {
        pullRequests(first: 100) { nodes { labels(first: 20) { nodes { name } } } }
        other: pullRequests(first: 100) { nodes { commits(last: 1) { nodes { commit { oid } } } } }
      }
    }"""
    first = _post(sandbox, query, {"owner": "acme", "name": "storefront"})
    second = _post(sandbox, query, {"owner": "acme", "name": "storefront"})
    rate = second.json()["data"]["rateLimit"]
    assert rate["cost"] == 2
    assert int(first.headers["X-RateLimit-Remaining"]) - int(second.headers["X-RateLimit-Remaining"]) == 2
    assert rate["remaining"] == int(second.headers["X-RateLimit-Remaining"])
    assert rate["used"] == int(second.headers["X-RateLimit-Used"])
    assert second.headers["X-RateLimit-Resource"] == "graphql"


def test_nodes_by_id_resolve_head_commits_and_refuse_more_than_100(sandbox):
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Commit { oid statusCheckRollup { state } } } }"""
    listing = _post(sandbox, load_query("open_pull_requests"), {"owner": "acme", "name": "storefront"}).json()
    node = listing["data"]["repository"]["pullRequests"]["nodes"][0]
    commit_id = node["commits"]["nodes"][0]["commit"]["id"]
    answer = _post(sandbox, query, {"ids": [commit_id, "C_1_0000"]}).json()
    assert answer["data"]["nodes"][0]["oid"] == node["headRefOid"]
    assert answer["data"]["nodes"][1] is None
    too_many = _post(sandbox, query, {"ids": [commit_id] * 101}).json()
    assert too_many["errors"][0]["type"] == "EXCESSIVE_PAGINATION"


def test_a_secondary_rate_limit_is_a_clear_error_with_the_wait(sandbox):
    admin(sandbox, "faults", {"scope": "graphql", "secondary": True, "times": 1})
    answer = _post(sandbox, "query { viewer { login } }")
    assert answer.status_code == 403 and answer.headers["Retry-After"] == "60"
    assert "secondary rate limit" in answer.json()["message"]
    admin(sandbox, "faults", {"scope": "graphql", "secondary": True, "times": 1})
    with GitHubService(sandbox.api_url, sandbox.token) as github, pytest.raises(RateLimited) as caught:
        github.open_pulls(RepoRef("acme", "storefront"))
    assert "secondary rate limit" in caught.value.title
    assert caught.value.reset_at is not None


def test_more_than_2000_points_a_minute_meet_the_secondary_limit(sandbox):
    expensive = "query { " + " ".join(
        f'r{i}: repository(owner: "acme", name: "storefront") {{ pullRequests(first: 100) {{ nodes {{ '
        f'labels(first: 100) {{ nodes {{ name }} }} }} }} }}' for i in range(99)) + " }"
    assert query_cost(parse(expensive), None) == 100  # 99 x (1 + 100) = 9,999 requests
    assert [_post(sandbox, expensive).status_code for _ in range(21)] == [200] * 20 + [403]
