"""A launch and a preview's life (simulated builds, both sandboxes): every launch resets expires-at (a relaunch of
the running commit too, without restarting its pods), and a launch brings an asleep preview back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import SimulatedBuilder
from prdeck.services.sandbox.seed import default_seed
from prdeck.services.sandbox.stack import SandboxStack
from tests.kube_support import FAST, api, eventually
from tests.launch_support import stack_deck

STORE = RepoRef("acme", "storefront")


@pytest.fixture
def stack() -> Iterator[SandboxStack]:
    seed = default_seed()
    seed["kube"] = {"timing": dict(FAST)}
    with SandboxStack(seed, builds="simulate") as running:
        yield running


def test_every_launch_resets_the_expiry_and_wakes_an_asleep_preview(stack, tmp_path):
    from kubernetes import client

    deck = stack_deck(stack, tmp_path, lambda: SimulatedBuilder(pace=0.01), repo="acme/storefront",
                      **{"preview.rollout_timeout": 20, "preview.ttl_hours": 10})
    try:
        deck.launch(STORE, 104, lambda _event: None)
        first = deck.find_preview(STORE, 104)
        assert first.state == "ready"
        soon = (datetime.now(UTC) + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        core = client.CoreV1Api(api(stack.kube))
        core.patch_namespace(first.namespace, {"metadata": {"annotations": {"prdeck.dev/expires-at": soon}}})
        assert deck.find_preview(STORE, 104).expires_at < datetime.now(UTC) + timedelta(hours=1)

        started = datetime.now(UTC).replace(microsecond=0)
        deck.launch(STORE, 104, lambda _event: None)
        again = deck.find_preview(STORE, 104)
        assert again.expires_at >= started + timedelta(hours=10), "the relaunch reset the expiry"
        assert [pod.name for pod in again.pods] == [pod.name for pod in first.pods], "same commit: pods kept"

        deck.sleep(again)
        eventually(lambda: (p := deck.find_preview(STORE, 104)).state == "asleep" and not p.pods)
        deck.launch(STORE, 104, lambda _event: None)
        woken = eventually(lambda: (p := deck.find_preview(STORE, 104)).state == "ready" and p, timeout=20)
        assert len(woken.pods) == 1 and woken.expires_at >= started + timedelta(hours=10)
    finally:
        deck.close()
