"""Snapshots of the main screen at 80x24, 120x36 and 200x50 with every preview state the sandbox makes, the
detail pane and the launch panel at 80x24 (issue 16: the preview state first, at every width)."""

from __future__ import annotations

import pytest

from prdeck.services.models import LaunchEvent, RepoRef
from prdeck.tui.view.launch_progress import LaunchProgress
from tests.tui_support import app_for, laid_out, loaded, wait_for

SHA = "abcdef1" + "0" * 33
EVERY_STATE = {
    "previews": [
        {"repo": "acme/storefront", "number": 101, "state": "ready", "sha": SHA},  # stale: deployed at another SHA
        {"repo": "acme/storefront", "number": 102, "state": "deploying", "ready_after": 3600},
        {"repo": "acme/storefront", "number": 103, "state": "failed"},
        {"repo": "acme/storefront", "number": 112, "state": "ready", "expires_in": "40m"},
        {"repo": "acme/storefront", "number": 90, "state": "ready"},
        {"repo": "acme/docs", "number": 7, "state": "ready"},
    ],
    "kube": {"timing": {"log_every": 3600, "backoff": 3600}},
}
"""``backoff``: the failed pod stays in ImagePullBackOff (the sandbox would retry the pull, back to ErrImagePull)."""
SETTLED = {
    "acme/storefront#101": "stale", "acme/storefront#102": "deploying", "acme/storefront#103": "failed",
"acme/storefront#112": "expiring", "acme/storefront#90": "ready",
    "acme/docs#7": "ready",
}


def _kube(sandbox, make_kube):
    """The previews at the pull requests' real heads (as ``prdeck demo`` wires them), so ready reads ready."""

    def head_of(repo: str, number: int) -> str | None:
        owner, _, name = repo.partition("/")
        found = sandbox.state.repo(owner, name)
        pull = found.pulls.get(number) if found is not None else None
        return pull.head_sha if pull is not None else None

    return make_kube(EVERY_STATE, head_of=head_of)


def _state(pilot, key: str) -> tuple[str, str | None] | None:
    row = pilot.app.screen.model.row(key)
    return (row.preview.state, row.preview.reason) if row is not None and row.preview is not None else None


async def _settled(pilot) -> None:
    """Every preview in the state the picture shows (the failed one past ErrImagePull), painted and laid out."""
    await loaded(pilot)
    await wait_for(pilot, lambda: all((_state(pilot, key) or ("",))[0] == state for key, state in SETTLED.items())
                   and _state(pilot, "acme/storefront#103") == ("failed", "ImagePullBackOff")
                   and _state(pilot, "acme/storefront#102") == ("deploying", "not ready"), timeout=30)
    grid = pilot.app.screen.query_one("#pulls")
    await wait_for(pilot, lambda: grid.get_cell("acme/storefront#103", "preview").plain.endswith("ImagePullBackOff"))
    await laid_out(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 50)], ids=["80x24", "120x36", "200x50"])
def test_main_screen_every_preview_state(sandbox, make_kube, snap_compare, size):
    assert snap_compare(app_for(sandbox, kube=_kube(sandbox, make_kube)), terminal_size=size, run_before=_settled)


def test_detail_pane_at_80x24(sandbox, snap_compare):
    """The fork warning first, then the PR (without a cluster: pod names and event ages would vary)."""
    async def ready(pilot):
        await loaded(pilot)
        await pilot.press("j", "j", "j", "enter")
        body = pilot.app.screen.query_one("#detail-body")
        await wait_for(pilot, lambda: "untrusted code" in str(body.render())
                       and "loading" not in str(body.render()), timeout=20)
        await laid_out(pilot)

    assert snap_compare(app_for(sandbox), terminal_size=(80, 24), run_before=ready)


def _event(kind: str, step: str, **values) -> LaunchEvent:
    return LaunchEvent(RepoRef("acme", "storefront"), 101, kind, step, **values)


def launch_halfway() -> LaunchProgress:
    """A launch that built, pushed (the bar at 100%) and wrote more output than the box holds."""
    progress = LaunchProgress("acme/storefront#101", SHA)
    for step, seconds in (("fetch", 0.4), ("build", 12.5), ("push", 3.2)):
        progress.apply(_event("step", step, state="done", seconds=seconds))
    for number in range(1, 31):
        progress.apply(_event("line", "build", text=f"#{number} build output line {number}"))
    progress.apply(_event("progress", "push", fraction=1.0))
    progress.apply(_event("note", "push", text="Builds are real: Docker engine at unix:///var/run/docker.sock."))
    for number in range(31, 36):
        progress.apply(_event("line", "push", text=f"push output line {number}"))
    return progress


def test_launch_panel_at_80x24_follows_its_output(sandbox, snap_compare):
    from prdeck.screens.launch import LaunchScreen

    async def ready(pilot):
        await loaded(pilot)
        await pilot.app.push_screen(LaunchScreen(launch_halfway()))
        await wait_for(pilot, lambda: "push output line 35" in "\n".join(
            pilot.app.screen.query_one("#launch-output").lines))
        await pilot.pause(0.3)  # the panel repaints on a 0.1 s timer; the picture waits for the log to settle
        log = pilot.app.screen.query_one("#launch-output")
        await wait_for(pilot, lambda: log.is_vertical_scroll_end)

    assert snap_compare(app_for(sandbox), terminal_size=(80, 24), run_before=ready)


async def test_launch_output_keeps_following_when_the_push_bar_appears(sandbox):
    """The bar appearing shrinks the output box; lines written after it are still in view (issue 16, item 11)."""
    from prdeck.screens.launch import LaunchScreen

    progress = LaunchProgress("acme/storefront#101", SHA)
    progress.apply(_event("step", "build", state="done", seconds=1.0))
    for number in range(1, 41):
        progress.apply(_event("line", "build", text=f"build line {number}"))
    async with app_for(sandbox).run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.app.push_screen(LaunchScreen(progress))
        log = pilot.app.screen.query_one("#launch-output")
        await wait_for(pilot, lambda: log.line_count >= 40 and log.is_vertical_scroll_end)
        height = log.scrollable_content_region.height
        progress.apply(_event("progress", "push", fraction=0.5))
        progress.apply(_event("note", "push", text="a note that takes a line"))
        await wait_for(pilot, lambda: log.scrollable_content_region.height < height)
        for number in range(1, 4):
            progress.apply(_event("line", "push", text=f"push line {number}"))
        await wait_for(pilot, lambda: log.line_count >= 43)
        await pilot.pause(0.2)
        assert log.is_vertical_scroll_end, "the last line is in view without pressing End"
        log.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        progress.apply(_event("line", "push", text="push line 4"))
        await wait_for(pilot, lambda: log.line_count >= 44)
        assert log.scroll_y == 0, "a user who scrolled up to read is not pulled back down"
