"""`prdeck reap` against both sandboxes and a real registry (Debian's docker-registry on 127.0.0.1): exactly the
right previews go, their GitHub deployments turn inactive, their tags are deleted; two reaps at once; idempotent."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import urllib.error
import urllib.request
from typing import Any

import pytest

from prdeck.services.sandbox.images import LoopbackRegistry
from prdeck.services.sandbox.seed import default_seed
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import PRDECK, admin, run_prdeck
from tests.kube_support import fast_seed

LONG = "acme/" + "very-long-repository-name-" * 3
EXTRA = [  # and the demo seed's: 101 pinned, 105 asleep (its PR gets merged), 108 failed without pods (its PR gets
    # closed), 111 empty; 112 is put to sleep (kept: asleep on purpose)
    {"repo": "acme/storefront", "number": 104, "state": "ready", "expires_in": "-1h"},  # expired
    {"repo": "acme/storefront", "number": 107, "state": "ready", "expires_in": "-1h", "pinned": True},  # kept
    {"repo": "acme/storefront", "number": 109, "state": "empty", "phase": "failed", "phase_reason": "apply: no"},
    {"repo": LONG, "number": 5, "state": "empty", "legacy": True},  # an orphan of an unknown PR
    {"repo": "acme/docs", "number": 8, "state": "ready", "expires_in": "-1h"},  # another repository: not ours
]
GOING = {"prdeck-acme-storefront-pr-90", "prdeck-acme-storefront-pr-104", "prdeck-acme-storefront-pr-105",
         "prdeck-acme-storefront-pr-108", "prdeck-acme-storefront-pr-109", "prdeck-acme-storefront-pr-111"}


@pytest.fixture
def registry(tmp_path):
    with_deletes = LoopbackRegistry(tmp_path / "registry").start()
    yield with_deletes
    with_deletes.stop()


@pytest.fixture
def stack():
    seed = fast_seed(default_seed())
    seed["previews"] = [*seed["previews"], *EXTRA]
    with SandboxStack(seed) as running:
        yield running


def env(stack: SandboxStack, registry: LoopbackRegistry) -> dict[str, str]:
    return {**stack.info()["env"], "PRDECK_REPOS": "acme/storefront", "PRDECK_REGISTRY": f"{registry.address}/previews",
            "PRDECK_CONFIG": str(write_config(stack))}


def write_config(stack: SandboxStack) -> Any:
    from pathlib import Path

    path = Path(stack.kube.root) / "prdeck.toml"
    path.write_text("[preview]\nempty_grace_hours = 0\n", encoding="utf-8")
    return path


def push(registry: LoopbackRegistry, name: str, tag: str) -> None:
    """A tiny image (one config blob, no layers) uploaded over the registry API, as `docker push` would."""
    base = f"http://{registry.address}/v2/{name}"
    config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    start = urllib.request.Request(f"{base}/blobs/uploads/", method="POST")
    with urllib.request.urlopen(start, timeout=10) as response:
        location = response.headers["Location"]
    upload = location if location.startswith("http") else f"http://{registry.address}{location}"
    joiner = "&" if "?" in upload else "?"
    blob = urllib.request.Request(f"{upload}{joiner}digest={digest}", data=config, method="PUT",
                                  headers={"Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(blob, timeout=10):
            pass
    except urllib.error.HTTPError as exc:
        raise AssertionError(exc.read()) from exc
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest,
                                      "size": len(config)}, "layers": []}).encode()
    put = urllib.request.Request(f"{base}/manifests/{tag}", data=manifest, method="PUT",
                                 headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(put, timeout=10):
        pass


def tags(registry: LoopbackRegistry, name: str) -> list[str]:
    try:
        with urllib.request.urlopen(f"http://{registry.address}/v2/{name}/tags/list", timeout=10) as response:
            return sorted(json.load(response).get("tags") or [])
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
        return []


def github(stack: SandboxStack, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(f"{stack.github.api_url}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"token {stack.github.token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def deploy(stack: SandboxStack, number: int) -> int:
    created = github(stack, "POST", "/repos/acme/storefront/deployments",
                     {"ref": "main", "environment": f"preview/pr-{number}", "required_contexts": []})
    github(stack, "POST", f"/repos/acme/storefront/deployments/{created['id']}/statuses", {"state": "success"})
    return created["id"]


def latest_status(stack: SandboxStack, deployment: int) -> str:
    return github(stack, "GET", f"/repos/acme/storefront/deployments/{deployment}/statuses")[0]["state"]


def namespaces(stack: SandboxStack) -> set[str]:
    listing = run_prdeck("ls", "--json", env={**stack.info()["env"], "PRDECK_REPOS": "acme/storefront"})
    data = json.loads(listing.stdout)
    found = {row["preview"]["namespace"] for row in data["pulls"] if row["preview"]}
    return found | {row["namespace"] for row in data["orphans"]}


def test_reap_removes_exactly_what_leaks_and_is_idempotent_from_two_places(stack, registry):
    admin(stack.github, "pulls", {"action": "merge", "repo": "acme/storefront", "number": 105})
    admin(stack.github, "pulls", {"action": "close", "repo": "acme/storefront", "number": 108})
    deployments = {number: deploy(stack, number) for number in (90, 105, 101)}
    for tag in ("pr-105-aaaaaaaaaaaa", "pr-90-bbbbbbbbbbbb", "pr-101-cccccccccccc", "pr-1050-dddddddddddd"):
        push(registry, "previews/acme-storefront-web", tag)
    push(registry, "previews/acme-storefront-worker", "pr-105-aaaaaaaaaaaa")
    variables = env(stack, registry)
    assert run_prdeck("sleep", "112", env=variables).returncode == 0

    dry = run_prdeck("reap", "--dry-run", "--json", env=variables)
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    planned = {item["namespace"] for item in plan["remove"]}
    unknown = [item for item in plan["remove"] if item["repo"] is None]
    assert planned - {item["namespace"] for item in unknown} == GOING and len(unknown) == 1
    reasons = {item["namespace"].rsplit("-", 1)[-1]: item["reason"] for item in plan["remove"] if item["repo"]}
    assert reasons["104"] == "expired" and reasons["105"].startswith("pull request not open")
    assert reasons["109"].startswith("failed (no pods)") and reasons["111"].startswith("empty (no pods)")
    assert namespaces(stack) >= GOING, "a dry run changes nothing"

    both = [subprocess.Popen([PRDECK, "reap", "--yes", "--json"], env={**os.environ, **variables},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in both]
    assert [process.returncode for process in both] == [0, 0], [err for _, err in outputs]
    results = [json.loads(out) for out, _ in outputs]
    assert set().union(*(set(result["removed"]) for result in results)) == planned
    assert all(not result["errors"] for result in results)

    left = namespaces(stack)
    assert not (left & planned)
    assert {"prdeck-acme-storefront-pr-101", "prdeck-acme-storefront-pr-107", "prdeck-acme-storefront-pr-112",
            "prdeck-acme-storefront-pr-102", "prdeck-acme-storefront-pr-103"} <= left
    assert latest_status(stack, deployments[105]) == "inactive" and latest_status(stack, deployments[90]) == "inactive"
    assert latest_status(stack, deployments[101]) == "success"
    assert tags(registry, "previews/acme-storefront-web") == ["pr-101-cccccccccccc", "pr-1050-dddddddddddd"]
    assert tags(registry, "previews/acme-storefront-worker") == []

    again = run_prdeck("reap", "--yes", env=variables)
    assert again.returncode == 0 and again.stdout.startswith("Nothing to reap"), again.stdout + again.stderr


def test_reap_asks_first_and_a_registry_refusing_deletes_is_a_warning(stack, tmp_path):
    refusing = LoopbackRegistry(tmp_path / "refusing", delete=False).start()
    try:
        push(refusing, "previews/acme-storefront-web", "pr-90-bbbbbbbbbbbb")
        variables = env(stack, refusing)
        refused = run_prdeck("reap", env=variables)
        assert refused.returncode == 2 and "add --yes" in refused.stderr
        done = run_prdeck("reap", "--yes", env=variables)
        assert done.returncode == 0, done.stderr
        assert "refuses deletes (405)" in done.stderr and "Reaped 6 of 6" in done.stdout
        assert tags(refusing, "previews/acme-storefront-web") == ["pr-90-bbbbbbbbbbbb"]
    finally:
        refusing.stop()
