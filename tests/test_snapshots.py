"""Snapshots of the key screens at 120x36 (pytest-textual-snapshot; update with --snapshot-update)."""

from __future__ import annotations

from tests.tui_support import app_for, loaded, wait_for

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
