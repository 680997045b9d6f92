"""The list screen's state without the screen (prdeck.tui.view): plain unit tests, no Textual, no network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prdeck.services.deck import Snapshot, join
from prdeck.services.errors import AuthError, PrdeckError, Unavailable
from prdeck.services.models import LaunchEvent, Preview, PullRequest, RepoRef
from prdeck.tui.view.cluster_link import ClusterLink, ClusterState
from prdeck.tui.view.failure import as_failure
from prdeck.tui.view.launch_progress import LaunchProgress
from prdeck.tui.view.list_model import CLUSTER_BACK, Arrival, ListModel, Notice, paced

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
REPO = RepoRef("octo", "app")


def pull(number: int, **extra) -> PullRequest:
    values = {"repo": REPO, "number": number, "title": f"Change {number}", "author": "alice",
              "branch": f"feature/{number}", "head_sha": f"{number:040d}", "fork": False, "draft": False,
              "labels": (), "ci": "SUCCESS", "review": None, "updated_at": NOW - timedelta(minutes=number),
              "url": f"https://github.test/octo/app/pull/{number}"}
    return PullRequest(**{**values, **extra})


def preview(number: int, state: str = "ready", sha: str | None = None) -> Preview:
    return Preview(REPO, number, f"prdeck-octo-app-pr-{number}", state, None, None,
                   sha or f"{number:040d}", None)


def snapshot(*numbers: int, complete: bool = True, previews: tuple[Preview, ...] = ()) -> Snapshot:
    rows = join([pull(n) for n in numbers], previews, [REPO], orphans=complete)
    return Snapshot((REPO,), rows, NOW, complete)


# snapshots ------------------------------------------------------------------------------------------------
def test_pages_of_a_first_load_then_the_complete_list():
    model = ListModel()
    assert model.arrive(snapshot(1, complete=False)) is Arrival.PAGE
    assert model.connection.state == "loading", "a page is not yet an answer to the whole question"
    assert model.arrive(snapshot(1, 2)) is Arrival.COMPLETE
    assert model.connection.state == "live"
    assert [row.key for row in model.rows_to_show()] == ["octo/app#1", "octo/app#2"]


def test_a_late_page_never_replaces_a_finished_list():
    model = ListModel()
    model.arrive(snapshot(1, 2, 3))
    assert model.arrive(snapshot(1, complete=False)) is Arrival.IGNORED
    assert model.snapshot is not None and len(model.snapshot.rows) == 3


def test_a_complete_list_after_failures_reconnects_once():
    model = ListModel()
    first = model.github_failed(Unavailable("GitHub failed", "HTTP 500"), 60)
    assert first == Notice("HTTP 500. prdeck keeps retrying.", "GitHub failed", "error", 8)
    assert model.retry_in == 5
    assert model.github_failed(Unavailable("GitHub failed", "HTTP 500"), 60) is None, "one notice, not one a retry"
    assert model.retry_in == 10
    assert model.arrive(snapshot(1)) is Arrival.RECONNECTED
    assert model.arrive(snapshot(1)) is Arrival.COMPLETE


def test_a_bad_token_is_not_retried_and_the_notice_does_not_promise_it():
    model = ListModel()
    notice = model.github_failed(AuthError("GitHub rejected the token", "Run prdeck auth."), 60)
    assert model.retry_in is None
    assert notice is not None and notice.message == "Run prdeck auth."


def test_a_list_fetched_before_the_watch_answered_gets_the_newest_previews():
    model = ListModel()
    fetched_early = snapshot(1, 2)  # joined with no previews
    model.previews_changed((preview(1),))
    model.arrive(fetched_early)
    assert model.row("octo/app#1").preview == preview(1)
    assert model.row("octo/app#2").preview is None


def test_previews_join_the_list_on_screen_and_orphans_only_when_complete():
    model = ListModel(ClusterLink().connecting())
    model.arrive(snapshot(1, complete=False))
    model.previews_changed((preview(1), preview(9)))
    assert [row.key for row in model.snapshot.rows] == ["octo/app#1"], "no orphans while pages still arrive"
    model.arrive(snapshot(1))
    assert [(row.key, row.orphan) for row in model.snapshot.rows] == [("octo/app#1", False), ("octo/app#9", True)]
    assert model.counts is not None and (model.counts.open, model.counts.previews) == (1, 2)


# the cluster ----------------------------------------------------------------------------------------------
def test_cluster_failures_notify_once_and_recovery_says_so():
    model = ListModel(ClusterLink().connecting())
    assert model.previews_changed(()) is None, "the first answer is not a recovery"
    assert model.cluster.state is ClusterState.LIVE
    error = Unavailable("Cannot reach the cluster", "connection refused")
    assert model.cluster_failed(error) == Notice("connection refused. prdeck keeps retrying.",
                                                 "Cannot reach the cluster", "warning", 8)
    assert model.cluster_failed(error) is None
    assert model.cluster == ClusterLink(ClusterState.FAILING, "Cannot reach the cluster", 2)
    assert model.previews_changed(()) is CLUSTER_BACK
    assert model.cluster == ClusterLink(ClusterState.LIVE)
    assert model.cluster_failed(error) is not None, "a new run of failures is told again"


def test_cluster_link_transitions():
    problem = PrdeckError("No Kubernetes cluster configured", "set KUBECONFIG")
    assert ClusterLink.at_start(True, None) == ClusterLink(ClusterState.CONNECTING)
    assert ClusterLink.at_start(False, problem) == ClusterLink(ClusterState.NONE, "No Kubernetes cluster configured")
    assert ClusterLink.at_start(False, None).why("no cluster") == "no cluster"
    failing = ClusterLink().connecting().failing(Unavailable("Cannot reach the cluster"))
    assert failing.newly_failing and failing.why("x") == "Cannot reach the cluster"
    assert not failing.failing(Unavailable("again")).newly_failing
    assert failing.live() == ClusterLink(ClusterState.LIVE) and failing.live().reason is None
    assert failing.none(problem).state is ClusterState.NONE
    with pytest.raises(AttributeError):
        failing.state = ClusterState.LIVE  # type: ignore[misc]


def test_a_cluster_that_could_not_connect_names_why():
    model = ListModel(ClusterLink.at_start(True, None))
    model.no_cluster(PrdeckError("No Kubernetes cluster configured", "no kubeconfig"))
    assert model.cluster == ClusterLink(ClusterState.NONE, "No Kubernetes cluster configured")


# what is shown --------------------------------------------------------------------------------------------
def test_filter_and_sort_decide_the_rows_shown():
    model = ListModel()
    assert model.rows_to_show() == [] and model.shown == 0
    model.arrive(snapshot(1, 2, 3))
    assert [row.pull.number for row in model.rows_to_show()] == [1, 2, 3], "updated, newest first"
    assert model.sort_next().name == "number"
    assert [row.pull.number for row in model.rows_to_show()] == [3, 2, 1]
    model.query_text = "#2"
    assert [row.pull.number for row in model.rows_to_show()] == [2] and model.shown == 1
    assert not model.with_repo, "one repository: no repository column"


def test_rows_are_found_by_key():
    model = ListModel()
    assert model.row("octo/app#1") is None
    model.arrive(snapshot(1, 2))
    found = model.row("octo/app#2")
    assert found is not None and found.pull.number == 2
    assert model.row(None) is None and model.row("octo/app#7") is None


def test_the_detail_pane_toggles_and_follows_fresher_rows():
    model = ListModel()
    model.arrive(snapshot(1, 2))
    opened = model.toggle_detail("octo/app#1")
    assert opened is not None and model.detail_key == "octo/app#1" and model.is_detail("octo/app#1")
    assert model.toggle_detail("octo/app#7") is None and model.detail_key == "octo/app#1", "no such row: stays"
    assert model.toggle_detail("octo/app#2") is not None and not model.is_detail("octo/app#1")
    model.previews_changed((preview(2, "deploying"),))
    assert model.detail_row().preview.state == "deploying"
    assert model.toggle_detail("octo/app#2") is None and model.detail_key is None, "Enter again closes it"
    model.toggle_detail("octo/app#1")
    model.close_detail()
    assert model.detail_row() is None


def test_pages_are_painted_at_a_pace_and_every_complete_list_at_once():
    times = iter([0.0, 0.0, 0.1, 0.3, 0.3, 0.35, 0.4])
    pages = [snapshot(1, complete=False), snapshot(1, 2, complete=False), snapshot(1, 2, 3, complete=False),
             snapshot(1, 2, 3, 4, complete=False), snapshot(1, 2, 3, 4)]
    painted = list(paced(pages, first_load=True, interval=0.25, clock=lambda: next(times)))
    assert [(len(s.rows), s.complete) for s in painted] == [(1, False), (3, False), (4, True)]
    assert [len(s.rows) for s in paced(pages, first_load=False)] == [4], "a refresh swaps in the finished list"


# errors and launches --------------------------------------------------------------------------------------
def test_any_error_becomes_a_failure_with_a_title():
    known = AuthError("GitHub rejected the token", "Run prdeck auth.")
    assert as_failure(known) is known
    unexpected = as_failure(RuntimeError("boom"))
    assert (unexpected.title, unexpected.detail) == ("Unexpected error", "RuntimeError: boom")


def test_a_failed_launch_ends_the_step_it_was_in():
    progress = LaunchProgress("octo/app#1", "a" * 40)
    progress.apply(LaunchEvent(REPO, 1, "step", "fetch", state="running"))
    progress.finish("failed", "Unexpected error. NotADirectoryError")
    assert not progress.running
    assert {step.name: step.state for step in progress.steps()}["fetch"] == "failed"
    assert all(step.state == "pending" for step in progress.steps() if step.name != "fetch")


# issue 16 -------------------------------------------------------------------------------------------------
def test_an_open_detail_pane_follows_the_cursor_and_a_closed_one_does_not():
    model = ListModel()
    model.arrive(snapshot(1, 2, 3))
    assert model.follow("octo/app#2") is None and model.detail_key is None, "no pane open: nothing to follow"
    model.toggle_detail("octo/app#1")
    followed = model.follow("octo/app#2")
    assert followed is not None and followed.pull.number == 2 and model.is_detail("octo/app#2")
    assert model.follow("octo/app#2") is None, "same row: nothing to do"
    assert model.follow("octo/app#9") is None and model.detail_key == "octo/app#2"


def _with_orphan() -> ListModel:
    model = ListModel()
    model.arrive(snapshot(5, 6, 7, previews=(preview(1, "ready"), preview(9, "failed"))))
    return model


def test_orphans_stay_at_the_bottom_in_every_sort():
    model = _with_orphan()
    for _ in range(4):
        rows = model.rows_to_show()
        assert [row.orphan for row in rows] == [False, False, False, True, True], model.ordering.name
        assert [row.pull.number for row in rows if row.orphan] == [1, 9]
        model.sort_next()


def test_the_filter_finds_preview_review_and_failing_states_as_shown():
    from prdeck.services.deck import Row
    from prdeck.tui.view.pull_query import SORT_ORDERS, count, select

    rows = [Row(pull(1, ci="FAILURE", review="APPROVED"), preview(1, "ready")),
            Row(pull(2, ci="ERROR", review="CHANGES_REQUESTED"), preview(2, "failed")),
            Row(pull(3, ci="SUCCESS", review="REVIEW_REQUIRED"), preview(3, "stale")),
            Row(pull(4, ci="PENDING"), None)]

    def found(query: str) -> list[int]:
        return sorted(row.pull.number for row in select(rows, query, SORT_ORDERS[0]))

    assert found("ready") == [1] and found("failed") == [2] and found("stale") == [3]
    assert found("approved") == [1] and found("changes") == [2] and found("required") == [3]
    assert len(found("failure")) == count(rows).failing == 2, "the filter agrees with the header's count"
    assert found("failing") == [1, 2] and found("error") == [2] and found("pending") == [4]


def test_n_and_n_step_from_the_screen_when_the_current_match_is_off_it():
    from prdeck.tui.view.log_buffer import match_position, step_match

    matches = [3, 10, 20, 40]
    assert step_match(matches, None, 0, 9, True) == 3, "from the top, n finds the first match (not the second)"
    assert step_match(matches, None, 0, 9, False) == 3, "N: the last match at or above the bottom line"
    assert step_match(matches, 10, 5, 15, True) == 20 and step_match(matches, 20, 15, 25, False) == 10
    assert step_match(matches, 40, 0, 9, True) == 3, "the current match scrolled away: the screen decides"
    assert step_match(matches, 40, 35, 45, True) == 3, "wraps around"
    assert step_match(matches, 3, 0, 9, False) == 40, "N wraps around too (never stuck)"
    current = 40
    seen = []
    for _ in range(4):
        current = step_match(matches, current, current - 2, current + 2, False)
        seen.append(current)
    assert seen == [20, 10, 3, 40], "N walks back through every match"
    assert step_match([], None, 0, 9, True) is None
    assert match_position(matches, 20) == 3 and match_position(matches, 21) is None
    assert match_position(matches, None) is None


def test_rendered_yaml_writes_shared_objects_in_full_never_as_anchors():
    from prdeck.tui.cli.yaml_out import dump_all

    labels = {"app.kubernetes.io/name": "web"}
    deployment = {"kind": "Deployment", "metadata": {"labels": labels},
                  "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}}}}
    text = dump_all([deployment, {"kind": "Service", "spec": {"selector": labels}}])
    assert "&id" not in text and "*id" not in text
    assert text.count("app.kubernetes.io/name: web") == 4
