"""Bulk actions: several PRs in one `prdeck` command (each reported, side by side up to the launch cap), and the
TUI's marked rows acted on after one question."""

from __future__ import annotations

import json

import pytest

from prdeck.services.models import RepoRef
from prdeck.services.sandbox.seed import default_seed
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import run_prdeck
from tests.kube_support import eventually, fast_seed

STORE = RepoRef("acme", "storefront")
READY = list(range(101, 113))  # twelve ready previews: 101-110 go in the TUI test, 111 and 112 stay


def _seed() -> dict:
    seed = fast_seed(default_seed())
    seed["previews"] = [{"repo": "acme/storefront", "number": n, "state": "ready", "expires_in": "3d"}
                        for n in READY]
    return seed


@pytest.fixture(scope="module")
def stack():
    with SandboxStack(_seed()) as running:
        yield running


def env(stack: SandboxStack) -> dict[str, str]:
    return {**stack.info()["env"], "PRDECK_REPOS": "acme/storefront"}


def _namespaces(stack: SandboxStack) -> set[str]:
    from kubernetes import client

    from tests.kube_support import api

    core = client.CoreV1Api(api(stack.kube))
    return {ns.metadata.name for ns in core.list_namespace(label_selector="app.kubernetes.io/managed-by=prdeck").items}


def test_the_lifecycle_commands_take_several_prs_and_report_each(stack):
    pinned = run_prdeck("pin", "111", "112", "7", env=env(stack))
    assert pinned.returncode == 1, pinned.stderr  # 7 has no preview: that one fails, the others are done
    lines = sorted(pinned.stdout.splitlines())
    assert len(lines) == 3, pinned.stdout
    assert lines[0].startswith("FAIL acme/storefront#7  acme/storefront#7 has no preview"), lines
    assert lines[1].startswith("ok   acme/storefront#111  pinned") and lines[2].startswith("ok   acme/storefront#112")
    assert "2 of 3 done, 1 failed." in pinned.stderr
    unpinned = run_prdeck("unpin", "111", "112", "--json", env=env(stack))
    assert unpinned.returncode == 0, unpinned.stderr
    results = json.loads(unpinned.stdout)
    assert [(r["number"], r["ok"], r["action"], r["namespace"]) for r in results] == [
        (111, True, "unpin", "prdeck-acme-storefront-pr-111"), (112, True, "unpin", "prdeck-acme-storefront-pr-112")]
    assert all(r["result"].startswith("unpinned: expires") for r in results)
    status = json.loads(run_prdeck("status", "111", "--json", env=env(stack)).stdout)["preview"]
    assert status["pinned"] is False


def test_destroy_takes_several_prs_after_one_question(stack):
    refused = run_prdeck("destroy", "111", "112", env=env(stack))  # no terminal to ask on
    assert refused.returncode == 2 and "add --yes" in refused.stderr
    assert {"prdeck-acme-storefront-pr-111", "prdeck-acme-storefront-pr-112"} <= _namespaces(stack)
    bad = run_prdeck("destroy", "111", "nope", "--yes", env=env(stack))  # a bad reference: nothing is done
    assert bad.returncode == 2 and "Not a pull request: 'nope'" in bad.stderr
    done = run_prdeck("destroy", "111", "112", "8", "--yes", "--json", env=env(stack))
    assert done.returncode == 1, done.stderr
    results = {r["number"]: r for r in json.loads(done.stdout)}
    assert results[111]["ok"] and results[112]["ok"] and not results[8]["ok"]
    assert results[111]["result"] == "destroyed (prdeck-acme-storefront-pr-111)"
    assert "has no preview" in results[8]["error"]
    eventually(lambda: not {"prdeck-acme-storefront-pr-111", "prdeck-acme-storefront-pr-112"} & _namespaces(stack))
