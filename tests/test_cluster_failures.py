"""prdeck.services.kube when things go wrong: no kubeconfig, unknown context, 403, 410, unreachable, cut logs,
stuck namespaces and pods that never become ready (sandbox faults; a real cluster cannot be made to fail)."""

from __future__ import annotations

import base64
import threading
import time
from typing import Any

import pytest
import yaml

from prdeck.services.errors import ConfigError, Unavailable
from prdeck.services.kube.client import load_api_client
from prdeck.services.kube.errors import ClusterUnavailable
from prdeck.services.kube.logs import preview_logs
from prdeck.services.kube.service import ClusterService
from prdeck.services.models import LogRequest
from tests.kube_support import eventually, kube_admin

NS = "prdeck-acme-storefront-pr-101"
SEED = {"previews": [{"repo": "acme/storefront", "number": 101, "state": "ready"}]}


def _cluster(box: Any) -> ClusterService:
    return ClusterService(load_api_client(str(box.kubeconfig), None))


def _follow(cluster: ClusterService) -> tuple[list[dict[int, str]], list[Any], threading.Event]:
    seen: list[dict[int, str]] = []
    errors: list[Any] = []
    stop = threading.Event()
    threading.Thread(
        target=cluster.follow,
        args=(lambda previews: seen.append({p.number: p.state for p in previews}), errors.append, stop),
        daemon=True,
    ).start()
    return seen, errors, stop


def test_no_kubeconfig_says_so_and_how_to_fix_it(tmp_path):
    with pytest.raises(ClusterUnavailable) as missing:
        load_api_client(str(tmp_path / "nope"), None)
    assert missing.value.title == "No Kubernetes cluster configured" and "KUBECONFIG" in missing.value.detail


def test_unknown_context_lists_the_available_ones(kube):
    with pytest.raises(ConfigError) as unknown:
        load_api_client(str(kube.kubeconfig), "staging")
    assert "'staging'" in unknown.value.title and "prdeck-sandbox" in unknown.value.detail


def test_forbidden_list_is_a_clear_error(kube):
    kube_admin(kube, "deny", {"verb": "list", "resource": "pods"})
    with pytest.raises(ConfigError) as denied:
        _cluster(kube).previews()
    assert denied.value.title == "Not allowed while listing previews"
    assert 'cannot list resource "pods"' in denied.value.detail


def test_forbidden_watch_is_reported_and_retried(make_kube):
    box = make_kube(SEED)
    kube_admin(box, "deny", {"verb": "watch", "resource": "pods"})
    seen, errors, stop = _follow(_cluster(box))
    eventually(lambda: errors)
    assert errors[0].title == "Not allowed while watching previews"
    kube_admin(box, "deny", method="DELETE")
    eventually(lambda: len(seen) >= 2)
    stop.set()


def test_forbidden_delete_is_a_clear_error(make_kube):
    box = make_kube(SEED)
    kube_admin(box, "deny", {"verb": "delete", "resource": "namespaces"})
    with pytest.raises(ConfigError) as denied:
        list(_cluster(box).destroy(NS))
    assert "cannot delete resource" in denied.value.detail


def test_an_expired_watch_lists_again_and_keeps_going(make_kube):
    box = make_kube(SEED)
    kube_admin(box, "reset-stats")
    cluster = _cluster(box)
    seen, errors, stop = _follow(cluster)
    eventually(lambda: seen and seen[-1].get(101) == "ready")
    kube_admin(box, "compact", {"end_watches": True})  # the watch resumes from a resourceVersion now too old
    eventually(lambda: kube_admin(box, "stats", method="GET").get("list pods", 0) == 2)
    # watches of pods and of namespaces: the first, maybe its resume (told 410 Gone; the sibling watch may be told
    # first and end the round), and the one after the new list
    stats = eventually(lambda: (counts := kube_admin(box, "stats", method="GET")).get("watch pods", 0) >= 2
                       and counts.get("watch namespaces", 0) >= 2 and counts)
    assert stats["list pods"] == 2 and stats["list namespaces"] == 2 and stats["watch pods"] <= 3
    stop.set()
    assert seen[-1] == {101: "ready"}
    assert errors == [], "a 410 is routine, not an error"


def test_unreachable_cluster_recovers_by_itself(make_kube):
    box = make_kube(SEED)
    kube_admin(box, "faults", {"unreachable": True})
    seen, errors, stop = _follow(_cluster(box))
    eventually(lambda: errors)
    assert isinstance(errors[0], ClusterUnavailable) and seen == []
    kube_admin(box, "faults", method="DELETE")
    eventually(lambda: seen and seen[-1].get(101) == "ready", timeout=10)
    stop.set()


def test_a_cut_log_stream_resumes_without_duplicate_lines(make_kube):
    box = make_kube(SEED)
    cluster = _cluster(box)
    eventually(lambda: cluster.previews() and cluster.previews()[0].state == "ready")
    time.sleep(0.5)
    kube_admin(box, "faults", {"cut_logs_after": 3, "times": 1})
    stop = threading.Event()
    lines = []
    for line in preview_logs(cluster, NS, LogRequest(follow=True), stop):
        lines.append((line.timestamp, line.text))
        if len(lines) >= 15:
            stop.set()
            break
    assert len(lines) == len(set(lines)) == 15, "no line twice after the resume"
    assert [stamp for stamp, _ in lines] == sorted(stamp for stamp, _ in lines), "and none skipped out of order"


def test_a_namespace_stuck_terminating_names_its_finalizers(make_kube):
    box = make_kube({"previews": [{"repo": "acme/docs", "number": 7, "state": "terminating"}]})
    cluster = _cluster(box)
    with pytest.raises(Unavailable) as stuck:
        list(cluster.destroy("prdeck-acme-docs-pr-7", timeout=1))
    assert "stuck Terminating" in stuck.value.title and "sandbox.prdeck.dev/stuck" in stuck.value.detail


def test_a_pod_that_never_becomes_ready_stays_deploying_then_fails(make_kube):
    from datetime import UTC, datetime, timedelta

    from prdeck.services.kube.state import READY_DEADLINE, preview_state

    box = make_kube({"previews": [{"repo": "acme/storefront", "number": 101, "state": "unready"}]})
    cluster = _cluster(box)
    preview = eventually(lambda: (found := cluster.previews()) and found[0].pods[0].phase == "Running" and found[0])
    assert (preview.state, preview.reason) == ("deploying", "not ready")
    later = datetime.now(UTC) + READY_DEADLINE + timedelta(seconds=5)
    assert preview_state(preview.pods, now=later) == ("failed", "never became ready")


def test_kubeconfig_written_by_the_sandbox_is_a_real_kubeconfig(kube):
    config = yaml.safe_load(kube.kubeconfig.read_text())
    assert config["current-context"] == "prdeck-sandbox"
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"].startswith("https://127.0.0.1:")  # client-go sends a token only over https
    assert base64.b64decode(cluster["certificate-authority-data"]).startswith(b"-----BEGIN CERTIFICATE-----")
    assert (kube.kubeconfig.stat().st_mode & 0o777) == 0o600
