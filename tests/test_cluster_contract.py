"""Contract of prdeck.services.kube: the same tests run against the sandbox and, when PRDECK_TEST_KUBECONFIG is
set, against a real cluster (kind, k3d...). They only use what a real API server offers: no sandbox admin.

On a real cluster the previews run PRDECK_TEST_IMAGE (default ``busybox:1.36``) printing a line a second.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from prdeck.services.errors import NotFound
from prdeck.services.kube.client import load_api_client
from prdeck.services.kube.logs import preview_logs
from prdeck.services.kube.service import ClusterService
from prdeck.services.models import LogRequest, Preview, RepoRef
from prdeck.services.naming import (
    ANNOTATION_REPO,
    ANNOTATION_SHA,
    ANNOTATION_URL,
    namespace_for,
    preview_labels,
)
from tests.kube_support import eventually

REAL = os.environ.get("PRDECK_TEST_KUBECONFIG")
IMAGE = os.environ.get("PRDECK_TEST_IMAGE", "busybox:1.36")
TIMEOUT = 50 if REAL else 10
"""Per wait; a test waits at most twice, so on a real cluster its own message shows before pytest-timeout's 120 s."""


class Target:
    """A cluster to test against and a way to create previews on it the way prdeck lays them out."""

    def __init__(self, kubeconfig: str, context: str | None) -> None:
        self.api_client = load_api_client(kubeconfig, context)
        self.cluster = ClusterService(self.api_client, prefix=f"t{uuid.uuid4().hex[:6]}")
        self.core = client.CoreV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)
        self.made: list[str] = []

    def create_preview(self, repo: RepoRef, number: int, sha: str = "a" * 40, containers: int = 1) -> str:
        namespace = namespace_for(repo, number, self.cluster.prefix)
        labels = preview_labels(repo, number)
        annotations = {ANNOTATION_REPO: repo.full_name, ANNOTATION_SHA: sha,
                       ANNOTATION_URL: f"http://pr-{number}.preview.localhost/"}
        self.core.create_namespace({"metadata": {"name": namespace, "labels": labels}})
        self.made.append(namespace)
        command = ["sh", "-c", "echo starting; while true; do echo tick; sleep 1; done"]
        specs = [{"name": f"c{i}", "image": IMAGE, "command": command} for i in range(containers)]
        selector = {**labels, "app.kubernetes.io/name": "web"}
        self.apps.create_namespaced_deployment(namespace, {
            "metadata": {"name": "web", "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": selector},
                     "template": {"metadata": {"labels": selector, "annotations": annotations},
                                  "spec": {"containers": specs}}},
        })
        return namespace

    def mine(self, previews: list[Preview]) -> dict[int, Preview]:
        return {p.number: p for p in previews if p.namespace in self.made}

    def cleanup(self) -> None:
        for namespace in self.made:
            with contextlib.suppress(client.ApiException):
                self.core.delete_namespace(namespace)
        self.cluster.close()


@pytest.fixture
def target(kube: Any) -> Iterator[Target]:
    chosen = Target(REAL, os.environ.get("PRDECK_TEST_KUBE_CONTEXT")) if REAL else Target(str(kube.kubeconfig), None)
    yield chosen
    chosen.cleanup()


REPO = RepoRef("acme", "storefront")


def test_previews_come_from_one_list_and_carry_state_url_and_sha(target):
    first = target.create_preview(REPO, 101, sha="b" * 40)
    target.create_preview(REPO, 102)
    ready = eventually(lambda: (mine := target.mine(target.cluster.previews())) and len(mine) == 2
                       and all(p.state == "ready" for p in mine.values()) and mine, timeout=TIMEOUT)
    preview = ready[101]
    assert (preview.repo, preview.namespace, preview.deployed_sha) == (RepoRef("acme", "storefront"), first, "b" * 40)
    assert preview.url == "http://pr-101.preview.localhost/" and preview.host == "pr-101.preview.localhost"
    assert preview.pods and preview.pods[0].ready


def test_follow_reports_changes_and_stops_promptly(target):
    seen: list[dict[int, str]] = []
    errors: list[Any] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=target.cluster.follow,
        args=(lambda previews: seen.append({p.number: p.state for p in target.mine(previews).values()}),
              errors.append, stop),
        daemon=True,
    )
    thread.start()
    eventually(lambda: seen, timeout=TIMEOUT)
    target.create_preview(REPO, 103)
    eventually(lambda: seen[-1].get(103) == "ready", timeout=TIMEOUT)
    assert any(states.get(103) == "deploying" for states in seen), "the watch saw it before it was ready"
    stopped_at = time.monotonic()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive() and time.monotonic() - stopped_at < 5
    assert errors == []


def test_logs_of_every_container_are_interleaved_with_a_prefix(target):
    namespace = target.create_preview(REPO, 104, containers=2)
    eventually(lambda: target.mine(target.cluster.previews()).get(104, None) and
               target.mine(target.cluster.previews())[104].state == "ready", timeout=TIMEOUT)
    time.sleep(1.5)
    lines = list(preview_logs(target.cluster, namespace, LogRequest()))
    assert {line.container for line in lines} == {"c0", "c1"}
    assert all(line.prefix.endswith(("/c0", "/c1")) and line.timestamp for line in lines)
    assert [line.timestamp for line in lines] == sorted(line.timestamp for line in lines)
    only = list(preview_logs(target.cluster, namespace, LogRequest(container="c1", tail=1)))
    assert len(only) == 1 and only[0].container == "c1"


def test_destroy_follows_the_namespace_until_it_is_gone(target):
    namespace = target.create_preview(REPO, 105)
    eventually(lambda: target.mine(target.cluster.previews()).get(105), timeout=TIMEOUT)
    progress = list(target.cluster.destroy(namespace, timeout=TIMEOUT))
    assert progress[0] == f"deleting namespace {namespace}" and progress[-1] == f"namespace {namespace} is gone"
    with pytest.raises(NotFound):
        target.cluster.preview(namespace)
    with pytest.raises(NotFound):
        list(target.cluster.destroy(namespace))
