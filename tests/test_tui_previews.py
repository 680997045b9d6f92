"""The TUI's cluster side with Pilot: the preview column live from the watch, logs, destroy, failures."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from prdeck.screens.confirm import ConfirmScreen
from prdeck.screens.logs import LogsScreen
from prdeck.services.deck import join
from prdeck.services.sandbox.github.state import GitHubState
from prdeck.tui.widgets.log_view import LogView
from tests.kube_support import kube_admin
from tests.tui_support import app_for, loaded, status, table, wait_for

SIZE = (140, 36)
PREVIEWS = [
    {"repo": "acme/storefront", "number": 101, "state": "ready", "containers": ["web", "worker"]},
    {"repo": "acme/storefront", "number": 102, "state": "deploying", "ready_after": 6},
    {"repo": "acme/storefront", "number": 103, "state": "failed"},
    {"repo": "acme/storefront", "number": 106, "state": "ready", "sha": "1" * 40},
    {"repo": "acme/storefront", "number": 110, "state": "crashing"},
    {"repo": "acme/storefront", "number": 90, "state": "ready"},
]


@pytest.fixture
def stack(sandbox, make_kube):
    """The demo GitHub sandbox with a Kubernetes sandbox whose previews carry the PRs' real head SHAs."""
    state: GitHubState = sandbox.state

    def head_of(repo: str, number: int) -> str | None:
        owner, _, name = repo.partition("/")
        found = state.repo(owner, name)
        return found.pulls[number].head_sha if found and number in found.pulls else None

    return sandbox, make_kube({"previews": PREVIEWS}, head_of=head_of)


def cell(pilot, key: str) -> str:
    return table(pilot).get_cell(key, "preview").plain


async def previews_in(pilot) -> None:
    await loaded(pilot)
    await wait_for(pilot, lambda: "⎈ live" in status(pilot) and cell(pilot, "acme/storefront#101") != "—")


async def test_rows_show_preview_states_stale_and_orphans(stack):
    github, kube = stack
    async with app_for(github, kube=kube).run_test(size=SIZE) as pilot:
        await previews_in(pilot)
        assert cell(pilot, "acme/storefront#101").startswith("● ready 1d pr-101-st")
        assert cell(pilot, "acme/storefront#106").startswith("● stale"), "deployed SHA differs from the PR head"
        assert cell(pilot, "acme/storefront#104") == "—"
        await wait_for(pilot, lambda: "ImagePull" in cell(pilot, "acme/storefront#103"))
        assert cell(pilot, "acme/storefront#103").startswith("✖ failed")
        assert table(pilot).get_cell("acme/storefront#90", "title").plain.startswith("(PR closed")
        assert "14 open" in status(pilot), "an orphan is listed, not counted as an open PR"


async def test_the_column_follows_the_watch_without_refreshing(stack):
    github, kube = stack
    kube_admin(kube, "reset-stats")
    async with app_for(github, kube=kube, refresh_seconds=600).run_test(size=SIZE) as pilot:
        await previews_in(pilot)
        assert cell(pilot, "acme/storefront#102").startswith("◐ deploying")
        await wait_for(pilot, lambda: cell(pilot, "acme/storefront#102").startswith("● ready"), timeout=20)
    counts = kube_admin(kube, "stats", method="GET")
    namespaces = counts.pop("list namespaces", 0)  # the watch's, and the check for unsent GitHub reports (once at most)
    assert counts == {"list pods": 1, "watch pods": 1, "watch namespaces": 1} and 1 <= namespaces <= 2, \
        "one list and one watch of pods and of namespaces; no polling"


async def test_a_list_fetched_before_the_cluster_answered_still_shows_the_previews(sandbox, make_kube):
    """The list is joined with the previews known when its fetch ends; the watch may answer just after and then
    say nothing for hours (these pods never change). The screen joins the newest previews into a late list."""
    still = make_kube({"previews": [{"repo": "acme/storefront", "number": 101, "state": "ready", "sha": "1" * 40}],
                       "kube": {"timing": {"log_every": 3600}}})
    app = app_for(sandbox, kube=still)
    fetch = app.deck.snapshots

    def fetched_before_the_watch_answered(**how):
        for snapshot in fetch(**how):
            if snapshot.complete:  # joined with no previews, handed over once the screen has the watch's
                snapshot = replace(snapshot, rows=join(snapshot.pulls, (), snapshot.repos))
                deadline = time.monotonic() + 10
                while getattr(app.screen, "model", None) is None or app.screen.model.previews is None:
                    assert time.monotonic() < deadline, "the watch never answered"
                    time.sleep(0.01)
            yield snapshot

    app.deck.snapshots = fetched_before_the_watch_answered
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: cell(pilot, "acme/storefront#101").startswith("● stale"))


async def test_detail_pane_lists_pods_and_events(stack):
    github, kube = stack
    async with app_for(github, kube=kube).run_test(size=SIZE) as pilot:
        await previews_in(pilot)
        table(pilot).move_cursor(row=table(pilot).get_row_index("acme/storefront#101"))
        await pilot.press("enter")
        body = pilot.app.screen.query_one("#detail-body")
        await wait_for(pilot, lambda: "pod preview-" in str(body.render()) and "Started" in str(body.render()))
        assert "[web, worker]" in str(body.render())


async def test_logs_screen_streams_searches_and_toggles(stack):
    github, kube = stack
    async with app_for(github, kube=kube).run_test(size=SIZE) as pilot:
        await previews_in(pilot)
        table(pilot).move_cursor(row=table(pilot).get_row_index("acme/storefront#101"))
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LogsScreen))
        view = pilot.app.screen.query_one(LogView)
        await wait_for(pilot, lambda: len(view.buffer) >= 12)
        assert {line.container for line in view.buffer.lines} == {"web", "worker"}
        assert view.show_prefix and "[preview-" in view.line_text(view.buffer.first, view.buffer.lines[0]).plain
        await pilot.press("T")
        assert view.timestamps and view.line_text(view.buffer.first, view.buffer.lines[0]).plain[:2] == "20"
        await pilot.press("w")
        assert view.wrap
        await pilot.press("f")
        assert not view.follow
        await pilot.press("slash", *"listening", "enter")
        assert view.query_text == "listening" and view.current_match is not None
        assert "listening" in view.buffer.line(view.current_match).text
        header = str(pilot.app.screen.query_one("#log-header").render())
        first = view.current_match
        assert f"/listening: {view.matches.index(first) + 1}/{len(view.matches)}" in header, header
        await pilot.press("n")
        await pilot.press("N")
        assert view.current_match == first, "N undoes n"
        await pilot.press("c")
        await wait_for(pilot, lambda: len(view.buffer) > 0 and {ln.container for ln in view.buffer.lines} == {"web"})
        assert not view.show_prefix
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, LogsScreen))


async def test_previous_logs_of_a_crashing_container(stack):
    github, kube = stack
    async with app_for(github, kube=kube).run_test(size=SIZE) as pilot:
        await previews_in(pilot)
        await wait_for(pilot, lambda: "restart" in cell(pilot, "acme/storefront#110")
                       or "CrashLoop" in cell(pilot, "acme/storefront#110"), timeout=10)
        table(pilot).move_cursor(row=table(pilot).get_row_index("acme/storefront#110"))
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LogsScreen))
        await pilot.press("p")
        view = pilot.app.screen.query_one(LogView)
        await wait_for(pilot, lambda: any("exit status 1" in line.text for line in view.buffer.lines))


async def test_destroy_asks_first_and_only_y_confirms(stack):
    github, kube = stack
    async with app_for(github, kube=kube).run_test(size=SIZE) as pilot:
        await previews_in(pilot)
        table(pilot).move_cursor(row=table(pilot).get_row_index("acme/storefront#106"))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        question = str(pilot.app.screen.query_one("#confirm-question").render())
        assert "acme/storefront#106" in question and "prdeck-acme-storefront-pr-106" in question
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.pause(0.5)
        assert cell(pilot, "acme/storefront#106").startswith("● stale"), "anything but y cancels"
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: cell(pilot, "acme/storefront#106") == "—", timeout=10)


async def test_without_a_cluster_the_list_works_and_says_why(sandbox):
    async with app_for(sandbox).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert "no previews: No Kubernetes cluster configured" in status(pilot)
        await pilot.press("t")
        await pilot.pause(0.2)
        assert not isinstance(pilot.app.screen, LogsScreen)
        assert any("has no preview" in str(n.message) for n in pilot.app._notifications)


async def test_prdeck_without_a_kubeconfig_says_why_once_it_tried(sandbox, monkeypatch, tmp_path):
    """The deck `prdeck` opens connects the cluster after the first frame; a missing kubeconfig is then named."""
    from prdeck.services.config import load_config
    from prdeck.tui.app import build_app
    from prdeck.tui.cli.main import tui_deck

    monkeypatch.setenv("PRDECK_GITHUB_URL", sandbox.api_url)
    monkeypatch.setenv("GITHUB_TOKEN", sandbox.token)
    monkeypatch.setenv("PRDECK_REPOS", "acme/storefront")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    deck = tui_deck(load_config(None), None)
    async with build_app(deck, 60, on_exit=deck.close).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "no previews: No Kubernetes cluster configured" in status(pilot))
        await pilot.press("l")
        await pilot.pause(0.2)
        assert any("No cluster" in str(n.message) for n in pilot.app._notifications)


async def test_an_unreachable_cluster_shows_once_and_recovers(stack):
    github, kube = stack
    kube_admin(kube, "faults", {"unreachable": True})
    async with app_for(github, kube=kube).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "Cannot reach the cluster" in status(pilot), timeout=10)
        assert table(pilot).row_count == 14, "the PR list does not wait for the cluster"
        kube_admin(kube, "faults", method="DELETE")
        await wait_for(pilot, lambda: "⎈ live" in status(pilot), timeout=15)
        assert cell(pilot, "acme/storefront#101").startswith("● ready")
