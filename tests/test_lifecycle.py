"""A preview's life against both sandboxes: discovery by namespace labels (with or without pods), extend, pin,
sleep and wake, through the deck and through the `prdeck` commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from prdeck.services.config import Config
from prdeck.services.deck import open_deck
from prdeck.services.errors import NotFound
from prdeck.services.models import RepoRef
from prdeck.services.naming import namespace_for
from prdeck.services.sandbox.seed import default_seed
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import run_prdeck
from tests.kube_support import eventually, fast_seed, kube_admin

STORE = RepoRef("acme", "storefront")
LONG = "acme/" + "very-long-repository-name-" * 3
EXTRA = [  # and the demo seed's: 101 pinned, 105 asleep, 108 failed without pods, 111 empty
    {"repo": "acme/storefront", "number": 104, "state": "empty", "phase": "failed",
     "phase_reason": "apply: the API server refused the Deployment"},
    {"repo": "acme/storefront", "number": 107, "state": "ready", "legacy": True, "prefix": "old"},
    {"repo": "acme/storefront", "number": 109, "state": "ready", "pinned": True},
    {"repo": LONG, "number": 5, "state": "empty", "legacy": True},  # its label is shortened and hashed
]


@pytest.fixture(scope="module")
def stack():
    seed = fast_seed(default_seed())
    seed["previews"] = [*seed["previews"], *EXTRA]
    with SandboxStack(seed) as running:
        yield running


@pytest.fixture
def deck(stack):
    config = Config.defaults().with_values(stack.config_values(), "test")
    opened = open_deck(config, [STORE], token=stack.github.token)
    yield opened
    opened.close()


def env(stack: SandboxStack) -> dict[str, str]:
    return {**stack.info()["env"], "PRDECK_REPOS": "acme/storefront"}


def by_number(previews):
    return {p.number: p for p in previews if p.repo == STORE and p.known}


def test_namespaces_without_pods_are_previews_empty_or_failed_with_the_reason(deck):
    found = by_number(deck.list_previews())
    assert (found[104].state, found[104].reason) == ("failed", "apply: the API server refused the Deployment")
    assert (found[111].state, found[111].reason) == ("empty", "no pods")
    assert found[104].pods == () and found[111].namespace == "prdeck-acme-storefront-pr-111"
    assert found[108].state == "failed" and found[108].reason.startswith("apply: the API server refused")


def test_the_repository_comes_from_the_label_when_the_annotation_is_missing(deck):
    found = by_number(eventually(lambda: (p := deck.list_previews()) and by_number(p)[107].state == "ready" and p))
    assert found[107].namespace == "old-acme-storefront-pr-107", "found under another prefix, by its labels"
    unknown = [p for p in deck.list_previews() if not p.known]
    namespace = namespace_for(RepoRef.parse(LONG), 5)
    assert [(p.namespace, p.state, p.number) for p in unknown] == [(namespace, "empty", 5)]
    rows = deck.overview().snapshot.rows
    assert [row.key for row in rows if row.orphan][-1] == f"?#5 ({namespace})", "an orphan of an unknown PR"


def test_asleep_and_pinned_are_read_from_the_namespace(deck):
    found = by_number(deck.list_previews())
    assert (found[105].state, found[105].reason) == ("asleep", "scaled to zero")
    assert found[109].pinned and found[101].pinned and not found[106].pinned


def test_commands_act_on_the_namespace_discovered(stack):
    status = run_prdeck("status", "107", "--json", env=env(stack))
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["preview"]["namespace"] == "old-acme-storefront-pr-107"
    listing = json.loads(run_prdeck("ls", "--json", env=env(stack)).stdout)
    pulls = {row["number"]: row["preview"] for row in listing["pulls"]}
    assert pulls[104]["state"] == "failed" and pulls[111]["state"] == "empty" and pulls[109]["pinned"] is True
    assert pulls[105]["state"] == "asleep"
    unknown = [o for o in listing["orphans"] if o["repo"] is None]
    assert len(unknown) == 1 and unknown[0]["state"] == "empty"


def test_destroy_reaches_a_preview_without_pods(stack):
    done = run_prdeck("destroy", "111", "--yes", env=env(stack), timeout=60)
    assert done.returncode == 0, done.stderr
    again = run_prdeck("destroy", "111", "--yes", env=env(stack))
    assert again.returncode == 1 and "acme/storefront#111 has no preview" in again.stderr


def test_the_watch_follows_namespaces_too(deck, stack):
    import threading

    seen: list[dict[int, str]] = []
    stop = threading.Event()
    kube_admin(stack.kube, "reset-stats")
    thread = threading.Thread(target=deck.follow_previews,
                              args=(lambda previews: seen.append({p.number: p.state for p in previews
                                                                  if p.repo == STORE}), lambda e: None, stop))
    thread.start()
    try:
        eventually(lambda: seen and 109 in seen[-1])
        preview = by_number(deck.previews)[109]
        deck.sleep(preview)
        eventually(lambda: seen[-1].get(109) == "asleep")
        deck.wake(by_number(deck.previews)[109])
        eventually(lambda: seen[-1].get(109) == "ready", timeout=20)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    counts = kube_admin(stack.kube, "stats", method="GET")
    assert counts.get("list pods") == 1 and counts.get("watch pods") == 1 and counts.get("watch namespaces") == 1


def test_extend_pin_and_unpin_change_the_expiry_only(deck):
    preview = deck.find_preview(STORE, 112)
    before = preview.expires_at
    extended = deck.extend(preview, timedelta(hours=24))
    assert extended == before + timedelta(hours=24)
    assert deck.find_preview(STORE, 112).expires_at == extended
    deck.pin(preview)
    assert deck.find_preview(STORE, 112).pinned
    expires = deck.unpin(deck.find_preview(STORE, 112))
    again = deck.find_preview(STORE, 112)
    assert not again.pinned and again.expires_at == expires >= datetime.now(UTC) + timedelta(hours=71)
    assert again.state == "ready" and again.pods[0].restarts == 0


def test_sleep_scales_to_zero_and_wake_brings_the_same_pods_back(deck):
    preview = deck.find_preview(STORE, 103)
    assert deck.sleep(preview) == 1
    asleep = eventually(lambda: (p := deck.find_preview(STORE, 103)).pods == () and p)
    assert asleep.state == "asleep" and asleep.url == preview.url
    assert deck.sleep(asleep) == 0, "a second sleep changes nothing"
    assert deck.wake(asleep) == 1
    awake = eventually(lambda: (p := deck.find_preview(STORE, 103)).pods and p, timeout=20)
    assert awake.state != "asleep" and awake.deployed_sha == preview.deployed_sha and len(awake.pods) == 1


def test_a_preview_that_is_gone_says_so(deck):
    with pytest.raises(NotFound, match="has no preview"):
        deck.find_preview(RepoRef("acme", "docs"), 8)
    with pytest.raises(NotFound, match="does not exist"):
        deck.find_preview(STORE, 7)  # no such pull request: not "has no preview"


def test_the_commands_extend_pin_unpin_sleep_and_wake(stack):
    status = json.loads(run_prdeck("status", "110", "--json", env=env(stack)).stdout)["preview"]
    before = datetime.fromisoformat(status["expires_at"].replace("Z", "+00:00"))
    extended = run_prdeck("extend", "110", "--for", "24h", env=env(stack))
    assert extended.returncode == 0, extended.stderr
    assert "Preview of acme/storefront#110 (prdeck-acme-storefront-pr-110) expires in " in extended.stdout
    after = json.loads(run_prdeck("status", "110", "--json", env=env(stack)).stdout)["preview"]["expires_at"]
    assert datetime.fromisoformat(after.replace("Z", "+00:00")) == before + timedelta(hours=24)
    bad = run_prdeck("extend", "110", "--for", "soon", env=env(stack))
    assert bad.returncode == 2 and "Not a duration: 'soon'" in bad.stderr
    assert "pinned" in run_prdeck("pin", "110", env=env(stack)).stdout
    assert "expires  never (pinned)" in run_prdeck("status", "110", env=env(stack)).stdout
    unpinned = run_prdeck("unpin", "110", env=env(stack)).stdout
    assert "unpinned: expires in 2d 23h" in unpinned or "unpinned: expires in 3d" in unpinned, unpinned
    slept = run_prdeck("sleep", "106", env=env(stack))
    assert slept.returncode == 0 and "asleep: 1 workload scaled to zero" in slept.stdout, slept.stderr
    eventually(lambda: "preview  asleep: scaled to zero" in run_prdeck("status", "106", env=env(stack)).stdout)
    woke = run_prdeck("wake", "106", env=env(stack))
    assert woke.returncode == 0 and "waking: 1 workload scaled back" in woke.stdout, woke.stderr
    eventually(lambda: "preview  stale" in run_prdeck("status", "106", env=env(stack)).stdout, timeout=20)
    missing = run_prdeck("pin", "8", "--repo", "acme/docs", env=env(stack))
    assert missing.returncode == 1 and "acme/docs#8 has no preview" in missing.stderr, missing.stderr


def test_pods_of_prdeck_in_a_namespace_without_its_labels_are_still_a_preview(deck, stack):
    from kubernetes import client

    from tests.kube_support import api

    core = client.CoreV1Api(api(stack.kube))
    core.create_namespace({"metadata": {"name": "prdeck-acme-storefront-pr-42"}})  # made by hand: no labels
    labels = {"app.kubernetes.io/managed-by": "prdeck", "prdeck.dev/repo": "acme.storefront", "prdeck.dev/pr": "42"}
    core.create_namespaced_pod("prdeck-acme-storefront-pr-42", {
        "metadata": {"name": "web", "labels": labels, "annotations": {"prdeck.dev/repo-name": "acme/storefront"}},
        "spec": {"containers": [{"name": "web", "image": "seed.sandbox.localhost/acme/web:1"}]}})
    found = eventually(lambda: deck.find_preview(STORE, 42))
    assert found.namespace == "prdeck-acme-storefront-pr-42" and [pod.name for pod in found.pods] == ["web"]
    assert 42 in by_number(deck.list_previews())
