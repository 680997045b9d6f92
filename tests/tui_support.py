"""Helpers for driving the app with Textual's Pilot against a sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from prdeck.services.config import Config
from prdeck.services.deck import open_deck
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.github.sandbox import GitHubSandbox
from prdeck.services.sandbox.kube.sandbox import KubeSandbox
from prdeck.tui.app import PrdeckApp, build_app
from prdeck.tui.widgets.pull_table import PullTable


def app_for(
    box: GitHubSandbox,
    *,
    token: str | None = None,
    repos: list[str] | None = None,
    refresh_seconds: float = 60,
    retries: int = 0,
    kube: KubeSandbox | None = None,
    log_lines: int = 10_000,
) -> PrdeckApp:
    """The app on a deck from :func:`open_deck`, as `prdeck` builds it (without a kubeconfig: no cluster)."""
    values: dict[str, Any] = {"github.api_url": box.api_url, "github.timeout": 5, "github.retries": retries}
    if kube is not None:
        values["cluster.kubeconfig"] = str(kube.kubeconfig)
    config = Config.defaults().with_values(values, "test")
    names = repos or box.repo_names()
    deck = open_deck(config, [RepoRef.parse(name) for name in names], token=token or box.token,
                     cluster="now" if kube is not None else "off")
    return build_app(deck, refresh_seconds, on_exit=deck.close, log_lines=log_lines)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10) -> None:
    """Let the app run until ``condition()`` holds (workers answer over real HTTP, so this takes real time)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            told = [str(notification.message) for notification in pilot.app._notifications]
            raise AssertionError(f"timed out waiting for the app; its notifications: {told}")
        await pilot.pause(0.02)


def table(pilot: Pilot) -> PullTable:
    return pilot.app.screen.query_one(PullTable)


async def loaded(pilot: Pilot) -> PullTable:
    """Wait until the whole list arrived (the first load shows pages as they come)."""

    def complete() -> bool:
        snapshot = getattr(getattr(pilot.app.screen, "model", None), "snapshot", None)
        return snapshot is not None and snapshot.complete and table(pilot).row_count > 0

    await wait_for(pilot, complete)
    await pilot.pause()
    return table(pilot)


def status(pilot: Pilot) -> str:
    from prdeck.tui.widgets.status_bar import StatusBar

    return pilot.app.screen.query_one(StatusBar).text.plain


def titles(pilot: Pilot) -> list[str]:
    """The full titles of the rows the screen holds (cells may be truncated to fit the terminal)."""
    snapshot = pilot.app.screen.model.snapshot  # type: ignore[attr-defined]
    return [row.pull.title for row in snapshot.rows] if snapshot else []


async def laid_out(pilot: Pilot) -> None:
    """Wait until the table fits its columns to the width it has (a scrollbar coming or going changes it)."""
    grids = [table for screen in pilot.app.screen_stack for table in screen.query(PullTable)]
    if grids:
        await wait_for(pilot, lambda: grids[0].laid_out, timeout=30)
