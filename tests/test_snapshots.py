"""Snapshots of the key screens at 120x36 (pytest-textual-snapshot; update with --snapshot-update)."""

from __future__ import annotations

from tests.tui_support import app_for, laid_out, loaded, wait_for

SIZE = (120, 36)


def test_main_screen(sandbox, snap_compare):
    async def ready(pilot):
        await loaded(pilot)

    assert snap_compare(app_for(sandbox), terminal_size=SIZE, run_before=ready)


def test_detail_pane(sandbox, snap_compare):
    async def ready(pilot):
        await loaded(pilot)
        await pilot.press("j", "j", "j", "enter")
        body = pilot.app.screen.query_one("#detail-body")
        await wait_for(pilot, lambda: "untrusted code" in str(body.render()) and "loading" not in str(body.render()))

    assert snap_compare(app_for(sandbox), terminal_size=SIZE, run_before=ready)


def test_help_screen(sandbox, snap_compare):
    async def ready(pilot):
        await loaded(pilot)
        await pilot.press("question_mark")

    assert snap_compare(app_for(sandbox), terminal_size=SIZE, run_before=ready)


SNAPSHOT_PREVIEWS = {
    "previews": [
        {"repo": "acme/storefront", "number": 101, "state": "ready", "sha": "abcdef1" + "0" * 33},
        {"repo": "acme/storefront", "number": 102, "state": "deploying", "ready_after": 3600},
        {"repo": "acme/storefront", "number": 90, "state": "ready"},
        {"repo": "acme/docs", "number": 7, "state": "ready", "sha": "abcdef1" + "0" * 33},
    ],
    "kube": {"timing": {"log_every": 3600}},
}


def _with_previews(sandbox, make_kube):
    return app_for(sandbox, kube=make_kube(SNAPSHOT_PREVIEWS))


def _preview_state(pilot, key: str) -> tuple[str, str | None] | None:
    model = pilot.app.screen.model
    row = model.row(key)
    return (row.preview.state, row.preview.reason) if row is not None and row.preview is not None else None


async def _previews_settled(pilot) -> None:
    """Wait for the state the picture shows, not for time: the whole list joined with the watch's previews, #102's
    pod running but not ready (it stays so: ready_after is an hour) and #101 deployed at an older SHA (stale),
    then the cells painted from it and the table laid out."""
    await loaded(pilot)
    await wait_for(pilot, lambda: _preview_state(pilot, "acme/storefront#102") == ("deploying", "not ready")
                   and (_preview_state(pilot, "acme/storefront#101") or ("",))[0] == "stale", timeout=30)
    grid = pilot.app.screen.query_one("#pulls")
    await wait_for(pilot, lambda: grid.get_cell("acme/storefront#102", "preview").plain.startswith("◐ deploying not")
                   and grid.get_cell("acme/storefront#101", "preview").plain.startswith("● stale"))
    await laid_out(pilot)


def test_main_screen_with_previews(sandbox, make_kube, snap_compare):
    assert snap_compare(_with_previews(sandbox, make_kube), terminal_size=SIZE, run_before=_previews_settled)


def test_logs_screen(sandbox, make_kube, snap_compare):
    async def ready(pilot):
        await _previews_settled(pilot)
        grid = pilot.app.screen.query_one("#pulls")
        grid.move_cursor(row=grid.get_row_index("acme/storefront#101"))
        await pilot.press("t")
        await wait_for(pilot, lambda: "4 lines" in str(pilot.app.screen.query_one("#log-header").render()), timeout=30)
        await laid_out(pilot)

    assert snap_compare(_with_previews(sandbox, make_kube), terminal_size=SIZE, run_before=ready)


def test_destroy_confirmation(sandbox, make_kube, snap_compare):
    async def ready(pilot):
        await _previews_settled(pilot)
        grid = pilot.app.screen.query_one("#pulls")
        grid.move_cursor(row=grid.get_row_index("acme/docs#7"))
        await pilot.press("d")
        await wait_for(pilot, lambda: pilot.app.screen.query("#confirm-question"))
        await laid_out(pilot)

    assert snap_compare(_with_previews(sandbox, make_kube), terminal_size=SIZE, run_before=ready)


def test_fork_approval(sandbox, make_kube, snap_compare):
    """The question a maintainer answers before a fork's code is built."""
    from prdeck.screens.approve import ApproveScreen
    from prdeck.services.models import LaunchCheck, RepoRef

    check = LaunchCheck(RepoRef("acme", "storefront"), 103, "abcdef1" + "0" * 33, True, RepoRef("aylin", "storefront"),
                        ("Dockerfile", ".prdeck/compose.yml", "scripts/build.sh"))

    async def ready(pilot):
        await loaded(pilot)
        await pilot.app.push_screen(ApproveScreen(check))
        await wait_for(pilot, lambda: pilot.app.screen.query("#confirm-question"))
        await laid_out(pilot)

    assert snap_compare(app_for(sandbox), terminal_size=SIZE, run_before=ready)


LIFECYCLE_PREVIEWS = {
    "previews": [
        {"repo": "acme/storefront", "number": 101, "state": "ready", "sha": "abcdef1" + "0" * 33, "pinned": True},
        {"repo": "acme/storefront", "number": 103, "state": "empty", "phase": "failed", "phase_reason": "apply: no"},
        {"repo": "acme/storefront", "number": 104, "state": "asleep", "expires_in": "3d"},
        {"repo": "acme/storefront", "number": 105, "state": "empty"},
        {"repo": "acme/storefront", "number": 106, "state": "ready", "expires_in": "-2h"},
        {"repo": "acme/storefront", "number": 90, "state": "ready"},
    ],
    "kube": {"timing": {"log_every": 3600}},
}


def test_reap_plan_and_new_states(sandbox, make_kube, snap_compare):
    """The new states in the rows (pinned, asleep, empty, failed without pods, expired) under the reap question."""
    from prdeck.screens.confirm import ConfirmScreen

    async def ready(pilot):
        await loaded(pilot)
        grid = pilot.app.screen.query_one("#pulls")
        await wait_for(pilot, lambda: grid.get_cell("acme/storefront#104", "preview").plain.startswith("☾ asleep")
                       and grid.get_cell("acme/storefront#106", "preview").plain.startswith("● stale expired"),
                       timeout=30)
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), timeout=30)
        await laid_out(pilot)

    app = app_for(sandbox, kube=make_kube(LIFECYCLE_PREVIEWS))
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_marked_rows(sandbox, make_kube, snap_compare):
    """Three rows marked (✓) for a bulk action; the footer offers Esc to unmark them."""

    async def ready(pilot):
        await _previews_settled(pilot)
        grid = pilot.app.screen.query_one("#pulls")
        for key in ("acme/storefront#101", "acme/storefront#102", "acme/docs#7"):
            grid.move_cursor(row=grid.get_row_index(key))
            await pilot.press("space")
        grid.move_cursor(row=0)
        await wait_for(pilot, lambda: len(grid.marked) == 3)
        await pilot.pause()

    assert snap_compare(_with_previews(sandbox, make_kube), terminal_size=SIZE, run_before=ready)
