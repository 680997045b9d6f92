"""Pure parts of the cluster side: namespace names, preview states, and joining PRs with previews."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prdeck.services.deck import join
from prdeck.services.kube.state import preview_state, with_head
from prdeck.services.models import PodStatus, Preview, PullRequest, RepoRef
from prdeck.services.naming import is_dns_label, namespace_for, repo_label

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_namespaces_are_dns_labels_and_long_names_never_collide():
    assert namespace_for(RepoRef("acme", "storefront"), 101) == "prdeck-acme-storefront-pr-101"
    dotted = namespace_for(RepoRef("Acme", "Store.Front_2"), 7, "pv")  # a slug that could be read two ways: hashed
    assert dotted.startswith("pv-acme-store-front-2--") and dotted.endswith("-pr-7") and is_dns_label(dotted)
    long_a = RepoRef("a-very-long-organisation-name", "an-even-longer-repository-name-one")
    long_b = RepoRef("a-very-long-organisation-name", "an-even-longer-repository-name-two")
    name_a, name_b = namespace_for(long_a, 123456), namespace_for(long_b, 123456)
    assert is_dns_label(name_a) and is_dns_label(name_b) and len(name_a) <= 63
    assert name_a != name_b and name_a.endswith("-pr-123456")
    assert repo_label(RepoRef("acme", "storefront")) == "acme.storefront"
    assert len(repo_label(RepoRef("o" * 39, "r" * 100))) <= 63


def pod(**overrides) -> PodStatus:
    values = {"name": "web-1", "phase": "Running", "ready": True, "reason": None, "restarts": 0,
              "containers": ("web",), "started_at": NOW - timedelta(minutes=1)}
    return PodStatus(**{**values, **overrides})


def test_state_precedence_terminating_failed_ready_deploying():
    assert preview_state([pod()], now=NOW) == ("ready", None)
    assert preview_state([pod(), pod(name="b", ready=False, phase="Pending", reason="ContainerCreating")],
                         now=NOW) == ("deploying", "ContainerCreating")
    assert preview_state([pod(ready=False, reason="ImagePullBackOff", phase="Pending")], now=NOW) == (
        "failed", "ImagePullBackOff")
    assert preview_state([pod(ready=False, restarts=3)], now=NOW) == ("failed", "restarting (3 restarts)")
    assert preview_state([pod(deleting=True, reason="CrashLoopBackOff")], now=NOW) == ("terminating", None)
    assert preview_state([], now=NOW) == ("deploying", "no pods yet")
    slow = pod(ready=False, started_at=NOW - timedelta(minutes=9))
    assert preview_state([slow], now=NOW) == ("failed", "never became ready")


def test_stale_and_expiring_come_from_the_pr_head_and_the_ttl():
    assert with_head("ready", "a" * 40, "a" * 40, NOW + timedelta(days=1), now=NOW) == "ready"
    assert with_head("ready", "a" * 40, "b" * 40, None, now=NOW) == "stale"
    assert with_head("ready", "a" * 40, "a" * 40, NOW + timedelta(minutes=20), now=NOW) == "expiring"
    assert with_head("failed", "a" * 40, "b" * 40, None, now=NOW) == "failed", "a failure says more than stale"


def pull(number: int, sha: str = "a" * 40, repo: str = "acme/app") -> PullRequest:
    return PullRequest(
        RepoRef.parse(repo), number, f"PR {number}", "dev", "b", sha, False, False, (), None, None, NOW, "u"
    )


def preview(number: int, sha: str = "a" * 40, repo: str = "acme/app") -> Preview:
    return Preview(RepoRef.parse(repo), number, f"ns-{number}", "ready", None, "http://x/", sha, None)


def test_join_marks_stale_and_lists_orphans_of_our_repos_only():
    rows = join(
        [pull(1), pull(2, sha="c" * 40), pull(3)],
        [preview(1), preview(2), preview(9), preview(5, repo="other/repo")],
        [RepoRef("acme", "app")],
    )
    assert [(row.key, row.preview.state if row.preview else None, row.orphan) for row in rows] == [
        ("acme/app#1", "ready", False),
        ("acme/app#2", "stale", False),
        ("acme/app#3", None, False),
        ("acme/app#9", "ready", True),
    ]
    assert rows[1].preview.reason == "PR head moved to ccccccc"
    partial = join([pull(1)], [preview(9)], [RepoRef("acme", "app")], orphans=False)
    assert [row.key for row in partial] == ["acme/app#1"], "no orphans while the PR list is still arriving"
