"""`prdeck status / logs / destroy` and `ls --json` previews, as a user runs them against both sandboxes."""

from __future__ import annotations

import json
import re
import time

import pytest

from prdeck.services.sandbox.seed import default_seed
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import run_prdeck
from tests.kube_support import fast_seed


@pytest.fixture
def stack():
    seed = fast_seed(default_seed())
    seed["kube"]["timing"]["log_every"] = 0.1
    with SandboxStack(seed) as running:
        yield running


def env(stack: SandboxStack, repos: str = "acme/storefront") -> dict[str, str]:
    return {**stack.info()["env"], "PRDECK_REPOS": repos}


def test_ls_json_has_a_preview_object_per_pull_and_the_orphans(stack):
    time.sleep(0.5)
    result = run_prdeck("ls", "--json", env=env(stack))
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    by_number = {row["number"]: row for row in listing["pulls"]}
    ready = by_number[101]["preview"]
    assert set(ready) == {"state", "reason", "url", "namespace", "deployed_sha", "expires_at", "pinned"}
    assert ready["state"] == "ready" and ready["namespace"] == "prdeck-acme-storefront-pr-101"
    assert ready["deployed_sha"] == by_number[101]["head_sha"] and ready["expires_at"].endswith("Z")
    assert by_number[106]["preview"]["state"] == "stale"
    assert by_number[104]["preview"] is None
    assert [(o["repo"], o["number"]) for o in listing["orphans"]] == [("acme/storefront", 90)]
    assert listing["cluster"] == {"ok": True, "problem": None}


def test_ls_table_has_a_preview_column_and_names_orphans(stack):
    result = run_prdeck("ls", env=env(stack))
    assert result.returncode == 0, result.stderr
    assert "PREVIEW" in result.stdout, result.stdout
    assert re.search(r"ready (\S+ )?pr-101-storefront\.localhost", result.stdout), result.stdout  # (\S+: time left)
    assert "1 orphaned preview(s)" in result.stdout and "acme/storefront#90" in result.stdout


def test_status_shows_the_preview_pods_and_events(stack):
    time.sleep(0.5)
    text = run_prdeck("status", "101", env=env(stack))
    assert text.returncode == 0, text.stderr
    assert "preview  ready pr-101-storefront.localhost" in text.stdout and "pods" in text.stdout
    assert "[web, worker]" in text.stdout and "Started" in text.stdout
    as_json = json.loads(run_prdeck("status", "acme/storefront#103", "--json", env=env(stack)).stdout)
    assert as_json["preview"]["state"] == "failed" and as_json["preview"]["pods"][0]["ready"] is False
    none = run_prdeck("status", "104", env=env(stack))
    assert none.returncode == 0 and "preview  none" in none.stdout


def test_a_bare_number_is_resolved_across_repositories_when_only_one_has_it(stack):
    result = run_prdeck("status", "7", env=env(stack, "acme/storefront,acme/docs"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("acme/docs#7\n"), "only acme/docs has #7"
    none = run_prdeck("status", "999", env=env(stack, "acme/storefront,acme/docs"))
    assert none.returncode == 2 and none.stderr == (
        "prdeck: No open pull request #999 in acme/storefront, acme/docs: use owner/name#999 for a closed one\n")


def test_logs_prints_every_container_with_a_prefix(stack):
    time.sleep(0.5)
    result = run_prdeck("logs", "101", "--tail", "3", env=env(stack))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 6 and {line.split("] ")[0].rsplit("/", 1)[1] for line in lines} == {"web", "worker"}
    only = run_prdeck("logs", "101", "--container", "worker", "--timestamps", "--since", "1h", env=env(stack))
    assert only.stdout.splitlines()[0][:2] == "20" and "[" not in only.stdout.splitlines()[0][:40]
    missing = run_prdeck("logs", "104", env=env(stack))
    assert missing.returncode == 1 and "acme/storefront#104 has no preview" in missing.stderr
    gone = run_prdeck("logs", "acme/storefront#999", env=env(stack))
    assert gone.returncode == 1
    assert gone.stderr == "prdeck: acme/storefront#999 does not exist: check the number; it may have been deleted\n"


def test_logs_follow_streams_until_interrupted(stack):
    import signal
    import subprocess

    from tests.conftest import PRDECK

    process = subprocess.Popen([PRDECK, "logs", "101", "-f"], env={**__import__("os").environ, **env(stack)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(20)]
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:  # a failing test must not leave it running
            process.kill()
            process.wait(timeout=10)
    assert all(lines) and process.returncode == 130, process.stderr.read()


def test_destroy_asks_unless_yes_and_follows_until_gone(stack):
    refused = run_prdeck("destroy", "106", env=env(stack))
    assert refused.returncode == 2 and "add --yes" in refused.stderr
    done = run_prdeck("destroy", "106", "--yes", env=env(stack), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "namespace prdeck-acme-storefront-pr-106 is gone" in done.stdout
    again = run_prdeck("status", "106", env=env(stack))
    assert "preview  none" in again.stdout


def test_without_a_cluster_ls_still_lists_and_says_why_on_stderr(stack):
    environment = {k: v for k, v in env(stack).items() if k != "KUBECONFIG"}
    result = run_prdeck("ls", env=environment)
    assert result.returncode == 0 and "Add product search box" in result.stdout
    assert "previews unknown: No Kubernetes cluster configured" in result.stderr


def test_open_print_prints_only_a_lasting_url_and_print_forward_keeps_a_relay(stack):
    import os
    import signal
    import subprocess
    import urllib.request

    from tests.conftest import PRDECK

    lasting = run_prdeck("open", "101", "--print", env=env(stack))
    assert lasting.returncode == 1 and lasting.stdout == ""
    assert lasting.stderr.startswith("prdeck: acme/storefront#101 has no lasting URL: its preview has no Ingress")
    relay = subprocess.Popen([PRDECK, "open", "101", "--print", "--forward"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, **env(stack)})
    try:
        assert relay.stdout is not None
        url = relay.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        with urllib.request.urlopen(url, timeout=10) as answer:  # printed, and still relaying
            assert answer.status == 200
        assert relay.poll() is None, "the relay is kept until Ctrl+C"
    finally:
        relay.send_signal(signal.SIGINT)
        assert relay.wait(timeout=20) == 0
