"""The sandbox's REST answers validate against GitHub's published OpenAPI description (@octokit/openapi)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_schema_validator import OAS30Validator

from tests.conftest import ROOT, pull, seed_with

SPEC_PATH = Path(
    os.environ.get(
        "PRDECK_GITHUB_OPENAPI", ROOT / ".cache/npm/node_modules/@octokit/openapi/generated/api.github.com.json"
    )
)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    assert SPEC_PATH.is_file(), f"{SPEC_PATH} is missing: tests/run installs the npm package @octokit/openapi there"
    return json.loads(SPEC_PATH.read_text())


def check(spec: dict[str, Any], template: str, method: str, response: requests.Response) -> None:
    """Validate one answer against the response schema GitHub documents for that operation and status."""
    operation = spec["paths"][template][method]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method.upper()} {template} is not documented to answer {response.status_code}"
    while "$ref" in documented:
        documented = spec["components"]["responses"][documented["$ref"].rsplit("/", 1)[-1]]
    content = documented.get("content", {}).get("application/json")
    if content is None:
        assert response.content == b""
        return
    schema = {**content["schema"], "components": spec["components"]}
    errors = sorted(OAS30Validator(schema).iter_errors(response.json()), key=lambda e: list(e.absolute_path))
    assert not errors, f"{method.upper()} {template}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]
    )


@pytest.fixture(scope="module")
def box():
    from prdeck.services.sandbox.github.sandbox import GitHubSandbox

    seed = seed_with([pull(1, files={"a.txt": "a\n"}), pull(2, fork=True, author="forker", labels=["bug"])])
    with GitHubSandbox(seed) as running:
        yield running


def test_rest_answers_match_githubs_openapi(spec, box):
    session = requests.Session()
    session.headers["Authorization"] = f"token {box.token}"
    api = box.api_url
    sha = box.state.repo("octo", "app").pulls[1].head_sha

    def call(method: str, template: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        response = session.request(method, f"{api}{path}", json=body, timeout=10)
        check(spec, template, method.lower(), response)
        return response

    call("GET", "/user", "/user")
    call("GET", "/rate_limit", "/rate_limit")
    call("GET", "/repos/{owner}/{repo}", "/repos/octo/app")
    call("GET", "/repos/{owner}/{repo}", "/repos/octo/missing")
    call("GET", "/repos/{owner}/{repo}/pulls", "/repos/octo/app/pulls?state=all")
    call("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "/repos/octo/app/pulls/2")
    call("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", "/repos/octo/app/pulls/1/files")
    call("GET", "/repos/{owner}/{repo}/issues/{issue_number}", "/repos/octo/app/issues/1")
    call(
        "POST",
        "/repos/{owner}/{repo}/statuses/{sha}",
        f"/repos/octo/app/statuses/{sha}",
        {"state": "pending", "context": "prdeck/preview", "description": "building"},
    )
    call("GET", "/repos/{owner}/{repo}/commits/{ref}/status", f"/repos/octo/app/commits/{sha}/status")
    call("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses", f"/repos/octo/app/commits/{sha}/statuses")
    call("GET", "/repos/{owner}/{repo}/commits/{ref}", f"/repos/octo/app/commits/{sha}")
    created = call(
        "POST",
        "/repos/{owner}/{repo}/deployments",
        "/repos/octo/app/deployments",
        {
            "ref": sha,
            "environment": "preview/pr-1",
            "transient_environment": True,
            "auto_merge": False,
            "required_contexts": [],
            "payload": {"namespace": "prdeck-app-pr-1"},
        },
    ).json()
    call("GET", "/repos/{owner}/{repo}/deployments", "/repos/octo/app/deployments")
    deployment = f"/repos/octo/app/deployments/{created['id']}"
    call("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}", deployment)
    call(
        "POST",
        "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
        f"{deployment}/statuses",
        {"state": "success", "environment_url": "http://pr-1.preview.test", "log_url": "http://log.test"},
    )
    call("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", f"{deployment}/statuses")
    comment = call(
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        "/repos/octo/app/issues/1/comments",
        {"body": "Preview ready"},
    ).json()
    call(
        "PATCH",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
        f"/repos/octo/app/issues/comments/{comment['id']}",
        {"body": "Preview updated"},
    )
    call(
        "GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", f"/repos/octo/app/issues/comments/{comment['id']}"
    )
    call("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "/repos/octo/app/issues/1/comments")
    call(
        "POST",
        "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
        f"{deployment}/statuses",
        {"state": "inactive"},
    )
    call("DELETE", "/repos/{owner}/{repo}/deployments/{deployment_id}", deployment)
