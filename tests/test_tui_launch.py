"""Launching from the TUI with Pilot: the progress panel, Esc hiding it, fork approval, failures, `o`."""

from __future__ import annotations

import os
import stat
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from prdeck.screens.approve import ApproveScreen
from prdeck.screens.launch import LaunchScreen
from prdeck.services.sandbox.images import SimulatedBuilder
from prdeck.services.sandbox.seed import default_seed
from prdeck.services.sandbox.stack import SandboxStack
from prdeck.tui.app import PrdeckApp, build_app
from tests.kube_support import FAST
from tests.launch_support import stack_deck
from tests.tui_support import loaded, table, wait_for

SIZE = (140, 40)


@pytest.fixture
def stack() -> Iterator[SandboxStack]:
    seed = default_seed()
    seed["kube"] = {"timing": dict(FAST)}
    with SandboxStack(seed, builds="simulate") as running:
        yield running


def launch_app(stack: SandboxStack, tmp: Path) -> PrdeckApp:
    deck = stack_deck(stack, tmp, lambda: SimulatedBuilder(pace=0.01), repo="acme/storefront",
                      **{"preview.rollout_timeout": 20, "github.timeout": 5, "github.retries": 0})
    return build_app(deck, 60, on_exit=deck.close)


def select(pilot, key: str) -> None:
    grid = table(pilot)
    grid.move_cursor(row=grid.get_row_index(key))


def preview_cell(pilot, key: str) -> str:
    return table(pilot).get_cell(key, "preview").plain


async def test_l_launches_with_a_panel_that_esc_hides_while_the_launch_goes_on(stack, tmp_path) -> None:
    app = launch_app(stack, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        select(pilot, "acme/storefront#104")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LaunchScreen))
        screen = pilot.app.screen
        await wait_for(pilot, lambda: any(s.state != "pending" for s in screen.progress.steps()))
        assert screen.progress.outcome != "failed", screen.progress.summary
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, LaunchScreen)
        await wait_for(pilot, lambda: preview_cell(pilot, "acme/storefront#104").split()[1] in
                       ("queued", "building", "pushing", "deploying", "ready"), timeout=15)
        await wait_for(pilot, lambda: "ready" in preview_cell(pilot, "acme/storefront#104"), timeout=20)
        progress = screen.progress
        assert progress.outcome == "ready" and all(s.state in ("done", "skipped") for s in progress.steps())
        lines, _ = progress.output(0)
        assert any("(simulated) Step 1/" in line for line in lines)


async def test_a_fork_asks_for_approval_naming_the_fork_and_the_sha(stack, tmp_path) -> None:
    app = launch_app(stack, tmp_path)
    head = stack.github.state.repo("acme", "storefront").pulls[103].head_sha
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        select(pilot, "acme/storefront#103")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ApproveScreen))
        text = str(pilot.app.screen.query_one("#confirm-question").render())
        assert "aylin/storefront" in text and head in text
        await pilot.press("n")
        assert not isinstance(pilot.app.screen, (ApproveScreen, LaunchScreen))
        assert "acme/storefront#103" not in pilot.app.screen.actions.launches
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ApproveScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LaunchScreen))
        await wait_for(pilot, lambda: pilot.app.screen.progress.outcome is not None, timeout=20)
        assert pilot.app.screen.progress.outcome == "ready", pilot.app.screen.progress.summary


async def test_a_failed_launch_shows_the_failing_step(stack, tmp_path) -> None:
    repo = stack.github.state.repo("acme", "storefront")
    stack.github.state.push(repo, repo.pulls[109], {".prdeck/compose.yml": "services: [\n"}, "bad spec")
    app = launch_app(stack, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        select(pilot, "acme/storefront#109")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LaunchScreen))
        await wait_for(pilot, lambda: pilot.app.screen.progress.outcome == "failed", timeout=15)
        steps = {s.name: s.state for s in pilot.app.screen.progress.steps()}
        assert steps["fetch"] == "failed" and steps["build"] == "pending"
        assert "Invalid preview spec .prdeck/compose.yml" in pilot.app.screen.progress.summary
        await pilot.press("escape")
        assert "acme/storefront#109" in pilot.app.screen.actions.launches, "the app keeps running after a failure"


async def test_a_launch_that_raises_anything_ends_failed_and_l_launches_again(stack, tmp_path) -> None:
    """Not only a PrdeckError: here git's mirror cache is a file, so the fetch step raises NotADirectoryError."""
    (tmp_path / "mirrors").write_text("not a directory\n")
    app = launch_app(stack, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        select(pilot, "acme/storefront#104")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LaunchScreen))
        first = pilot.app.screen.progress
        await wait_for(pilot, lambda: first.outcome is not None, timeout=15)
        assert first.outcome == "failed" and "NotADirectoryError" in first.summary, first.summary
        assert not any(step.state == "running" for step in first.steps()), "the step it failed in is not running"
        assert any("NotADirectoryError" in str(n.message) for n in pilot.app._notifications), "the error is shown"
        await pilot.press("escape")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LaunchScreen))
        assert pilot.app.screen.progress is not first, "l launches again instead of showing the failed launch"


async def test_o_opens_the_preview_through_a_relay(stack, tmp_path, monkeypatch) -> None:
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f"#!/bin/sh\necho \"$1\" > {opened}\n")
    browser.chmod(browser.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("BROWSER", str(browser))
    monkeypatch.delenv("DISPLAY", raising=False)
    app = launch_app(stack, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "ready" in preview_cell(pilot, "acme/storefront#101"))
        select(pilot, "acme/storefront#101")
        await pilot.press("o")
        await wait_for(pilot, lambda: opened.exists() and opened.read_text().strip() != "", timeout=10)
        url = opened.read_text().strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=10) as response:
            assert "acme/storefront #101" in response.read().decode()
    assert os.environ["BROWSER"] == str(browser)


async def test_prdeck_connects_the_cluster_after_the_first_frame_and_launches(stack, monkeypatch) -> None:
    """The deck `prdeck` itself opens (config from the environment), not one assembled by the test."""
    from prdeck.services.config import load_config
    from prdeck.tui.cli.main import tui_deck

    for name, value in stack.info()["env"].items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("PRDECK_REPOS", "acme/storefront")
    deck = tui_deck(load_config(None), None)
    assert not deck.has_cluster and deck.cluster_pending, "no kubernetes work before the first frame"
    async with build_app(deck, 60, on_exit=deck.close).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "● ready" in preview_cell(pilot, "acme/storefront#101"), timeout=15)
        select(pilot, "acme/storefront#104")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LaunchScreen))
        progress = pilot.app.screen.progress
        await wait_for(pilot, lambda: progress.outcome is not None, timeout=30)
        assert progress.outcome == "ready", progress.summary


async def test_q_during_a_launch_quits_at_once_and_records_it_interrupted(stack, tmp_path) -> None:
    """Issue 13, item 2: `q` during a launch left the screen blank until the launch ended (43 s with a slow
    rollout), and no record said it was cut off."""
    from prdeck.services.launch.journal import LaunchJournal

    deck = stack_deck(stack, tmp_path, lambda: SimulatedBuilder(pace=2.0), repo="acme/storefront")
    app = build_app(deck, 60, on_exit=deck.close)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        select(pilot, "acme/storefront#104")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LaunchScreen))
        screen = pilot.app.screen
        await wait_for(pilot, lambda: any(s.name == "build" and s.state == "running"
                                          for s in screen.progress.steps()), timeout=20)
        await pilot.press("escape")
        await pilot.press("q")
    # run_test returns once the app and its workers have ended: the launch did not run its remaining build steps
    record = LaunchJournal(tmp_path / "journal").read("prdeck-acme-storefront-pr-104")  # kept: it was cut off
    assert record is not None and record.step == "build"
    deployments = [d for d in stack.github.state.repo("acme", "storefront").deployments.values()
                   if d.environment == "preview/pr-104"]
    assert deployments and deployments[-1].statuses[-1]["state"] == "error"


async def test_l_on_marked_rows_launches_them_after_one_question_one_at_a_time(stack, tmp_path) -> None:
    """Bulk launch (issue 15 items 5 and 6): forks are left out, and past preview.max_parallel_launches (1 here) the
    second launch waits in the queue, its row reading ``queued #1``."""
    from prdeck.screens.confirm import ConfirmScreen

    deck = stack_deck(stack, tmp_path, lambda: SimulatedBuilder(pace=0.01), repo="acme/storefront",
                      **{"preview.rollout_timeout": 20, "github.timeout": 5, "github.retries": 0,
                         "preview.max_parallel_launches": 1})
    async with build_app(deck, 60, on_exit=deck.close).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        for key in ("acme/storefront#104", "acme/storefront#109", "acme/storefront#103"):  # 103 is a fork
            select(pilot, key)
            await pilot.press("space")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        question = str(pilot.app.screen.query_one("#confirm-question").render())
        assert "Launch 2 previews?" in question and "#103" not in question.split("marked row")[0], question
        assert "1 marked row left out: forks are launched one at a time, after their approval." in question
        await pilot.press("y")
        cells = ("acme/storefront#104", "acme/storefront#109")
        await wait_for(pilot, lambda: any("2 of 2 done" in str(n.message) for n in pilot.app._notifications),
                       timeout=60)
        progress = pilot.app.screen.actions.launches  # l on a row shows its panel: each launch has its progress
        notes = [note for key in cells for note in progress[key].notes if "queued" in note]
        assert notes == ["note: queued #1 (preview.max_parallel_launches: 1 at once)"], notes  # exactly one waited
        assert all(progress[key].outcome == "ready" for key in cells)
        assert all(preview_cell(pilot, key).split()[1] in ("ready", "deploying") for key in cells), [
            preview_cell(pilot, key) for key in cells]
