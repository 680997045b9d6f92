"""The TUI, driven with Pilot against the GitHub sandbox over real HTTP."""

from __future__ import annotations

import io
import webbrowser

import pytest

from prdeck.screens.help import KEYS, HelpScreen
from prdeck.tui.widgets.detail_pane import DetailPane
from tests.conftest import admin, pull, seed_with
from tests.tui_support import app_for, loaded, status, table, titles, wait_for

SIZE = (120, 36)


async def test_paints_loading_then_fills_the_table(sandbox):
    app = app_for(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        grid = await loaded(pilot)
        assert grid.row_count == 14
        assert "14 open · 2 drafts · 4 failing · 0 previews" in status(pilot)
        assert "● live" in status(pilot)
        assert [label for _, label in grid.columns][:3] == ["Repo", "#", "Title"]
        assert grid.get_cell("acme/storefront#105", "preview").plain == "—"


async def test_keyboard_navigation(sandbox):
    async with app_for(sandbox).run_test(size=SIZE) as pilot:
        grid = await loaded(pilot)
        await pilot.press("j", "j")
        assert grid.cursor_row == 2
        await pilot.press("k")
        assert grid.cursor_row == 1
        await pilot.press("G")
        assert grid.cursor_row == 13
        await pilot.press("g")
        assert grid.cursor_row == 0
        await pilot.press("down", "pagedown")
        assert grid.cursor_row > 1


async def test_filter_and_escape(sandbox):
    async with app_for(sandbox).run_test(size=SIZE) as pilot:
        grid = await loaded(pilot)
        await pilot.press("slash", *"docs")
        assert set(grid.keys) == {"acme/docs#7", "acme/docs#8", "acme/storefront#109"}
        assert "filter: docs (3 shown)" in status(pilot)
        await pilot.press("enter")
        assert grid.has_focus
        await pilot.press("escape")
        assert grid.row_count == 14
        await pilot.press("slash", *"fork failure")
        assert set(grid.keys) == {"acme/docs#8", "acme/storefront#107"}, "failure: as the header counts (error too)"
        await pilot.press("escape")
        assert grid.row_count == 14 and grid.has_focus


async def test_keys_typed_right_after_slash_go_to_the_filter(sandbox):
    """A fast typist (or tmux send-keys) delivers "/docs" in one read: none of d, o, s may run as a binding."""
    from textual import events

    async with app_for(sandbox).run_test(size=SIZE) as pilot:
        grid = await loaded(pilot)
        for key, character in (("slash", "/"), ("d", "d"), ("o", "o"), ("c", "c"), ("s", "s")):
            event = events.Key(key, character)  # as the driver delivers them: all queued before "/" is handled
            event.set_sender(pilot.app)
            pilot.app._driver.send_message(event)  # type: ignore[union-attr]
        await wait_for(pilot, lambda: set(grid.keys) == {"acme/docs#7", "acme/docs#8", "acme/storefront#109"})
        assert "sort: updated" in status(pilot)
        await pilot.press("slash")
        assert pilot.app.screen.query_one("#filter").value == "docs/", "a / in the field is text"


async def test_sort_cycles(sandbox):
    async with app_for(sandbox).run_test(size=SIZE) as pilot:
        grid = await loaded(pilot)
        assert grid.keys[0] == "acme/storefront#101"
        await pilot.press("s")
        assert "sort: number" in status(pilot)
        assert grid.keys[:2] == ["acme/storefront#112", "acme/storefront#111"]
        await pilot.press("s")
        assert "sort: author" in status(pilot)
        assert grid.get_cell(grid.keys[0], "author").plain == "aylin"
        await pilot.press("s")
        assert "sort: CI" in status(pilot)
        assert grid.get_cell(grid.keys[0], "ci").plain in ("failure", "error")
        await pilot.press("s")
        assert "sort: updated" in status(pilot)


async def test_refresh_updates_cells_and_keeps_the_cursor(sandbox):
    async with app_for(sandbox).run_test(size=SIZE) as pilot:
        grid = await loaded(pilot)
        await pilot.press("j", "j", "j")
        selected = grid.selected_key
        admin(
            sandbox,
            "pulls",
            {"action": "retitle", "repo": "acme/storefront", "number": 110, "title": "Crash on empty cart (retitled)"},
        )
        await pilot.press("r")
        await wait_for(pilot, lambda: "Crash on empty cart (retitled)" in titles(pilot))
        assert grid.selected_key == selected
        # A push moves #112 to the top (sort: updated): rows reorder, the cursor stays on its pull request.
        admin(sandbox, "pulls", {"action": "push", "repo": "acme/storefront", "number": 112})
        admin(sandbox, "pulls", {"action": "open", "repo": "acme/docs", "title": "Brand new", "author": "zoe"})
        await pilot.press("r")
        await wait_for(pilot, lambda: grid.row_count == 15)
        assert grid.keys[0] in ("acme/storefront#112", "acme/docs#9")
        assert grid.selected_key == selected


async def test_detail_pane_fetches_the_description(sandbox):
    async with app_for(sandbox).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("enter")
        pane = pilot.app.screen.query_one(DetailPane)
        assert pane.display
        body = pane.query_one("#detail-body")
        await wait_for(pilot, lambda: "Adds a search box" in str(body.render()))
        text = str(body.render())
        assert "Closes #88." in text and "feature/search → main" in text and "same repository" in text
        await pilot.press("escape")
        assert not pane.display
        await pilot.press("j", "j", "j", "enter")
        await wait_for(pilot, lambda: "untrusted code" in str(body.render()))


async def test_help_lists_every_key(sandbox):
    async with app_for(sandbox).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        from rich.console import Console

        from prdeck.screens.help import help_text

        console = Console(width=300, record=True, file=io.StringIO())
        console.print(help_text())
        shown = console.export_text()
        for keys, meaning in KEYS:
            assert keys in shown and meaning in shown
        narrow = Console(width=60, record=True, file=io.StringIO())
        narrow.print(help_text())
        lines = [line for line in narrow.export_text().splitlines()[2:] if line.strip()][:-2]
        assert any(line.startswith(" " * 14) for line in lines), "long descriptions wrap at 60 columns"
        assert all(line[12:14] == "  " for line in lines), "every line keeps the key column apart"
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, HelpScreen)


async def test_command_palette_offers_the_actions(sandbox):
    app = app_for(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        titles_offered = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Refresh", "Filter", "Cycle sort", "Open pull request on GitHub", "Help"} <= set(titles_offered)
        assert titles_offered.count("Keys") <= 1, "one Keys entry (Textual's own), not two"
        await pilot.press("ctrl+p")
        await pilot.press(*"cycle sort")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "sort: number" in status(pilot))


async def test_markup_in_titles_renders_literally(make_sandbox):
    hostile = "fix: handle [/] in parser [bold]"
    box = make_sandbox(
        seed_with(
            [
                pull(1, title=hostile, labels=["[red]"], author="mallory"),
                pull(2, title="[link=http://evil]click[/link] \x1b[31m"),
            ]
        )
    )
    async with app_for(box).run_test(size=(160, 36)) as pilot:
        grid = await loaded(pilot)
        assert grid.get_cell("octo/app#1", "title").plain == hostile
        assert grid.get_cell("octo/app#2", "title").plain == "[link=http://evil]click[/link] \\x1b[31m"
        await wait_for(pilot, lambda: grid.size.height > 2)
        painted = [grid.render_line(y).text for y in range(grid.size.height)]
        assert any("fix: handle [/] in parser [bold]" in line for line in painted), painted
        grid.move_cursor(row=grid.get_row_index("octo/app#1"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: "labels [red]" in str(pilot.app.screen.query_one("#detail-body").render()))


async def test_server_errors_show_one_status_and_recover(make_sandbox):
    box = make_sandbox(seed_with([pull(1)]))
    admin(box, "faults", {"scope": "graphql", "status": 500, "times": 1000})
    app = app_for(box)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "✖" in status(pilot))
        assert "GitHub failed while listing pull requests of octo/app (HTTP 500)" in status(pilot)
        assert "retrying in 5s" in status(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: "retrying in 10s" in status(pilot))

        def told() -> list[str]:  # what was said, without r's own "Refreshing…"
            return [str(n.title) for n in app._notifications if "Refreshing" not in str(n.message)]

        assert len(told()) == 1, "one notification, not one per retry"
        admin(box, "faults", method="DELETE")
        await pilot.press("r")
        await wait_for(pilot, lambda: "● live" in status(pilot))
        assert table(pilot).row_count == 1
        assert len(told()) == 2, "the error, then 'reconnected'"


async def test_bad_token_is_not_retried_automatically(sandbox):
    async with app_for(sandbox, token="wrong").run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "✖" in status(pilot))
        assert "GitHub rejected the token (401 Bad credentials) — press r to retry" in status(pilot)


async def test_rate_limit_waits_for_the_reset(sandbox):
    admin(sandbox, "rate-limit", {"login": "demo-maintainer", "resource": "graphql", "remaining": 0, "reset_in": 120})
    async with app_for(sandbox).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "✖" in status(pilot))
        assert "GitHub rate limit exhausted — retrying in 1" in status(pilot)


async def test_keeps_the_last_list_while_github_is_down(sandbox):
    async with app_for(sandbox).run_test(size=SIZE) as pilot:
        grid = await loaded(pilot)
        admin(sandbox, "faults", {"scope": "graphql", "status": 503, "times": 1000})
        await pilot.press("r")
        await wait_for(pilot, lambda: "✖" in status(pilot))
        assert grid.row_count == 14


@pytest.fixture
def fake_browser(tmp_path, monkeypatch):
    opened = tmp_path / "opened.txt"
    script = tmp_path / "fake-browser"
    script.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    script.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(script))
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    return opened


async def test_open_uses_browser_env(sandbox, fake_browser):
    async with app_for(sandbox).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("O")
        await wait_for(pilot, lambda: fake_browser.exists())
        assert fake_browser.read_text().strip() == f"{sandbox.url}/acme/storefront/pull/101"


async def test_open_without_a_browser_shows_and_copies_the_url(sandbox, monkeypatch):
    monkeypatch.delenv("BROWSER", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    app = app_for(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("O")
        await wait_for(pilot, lambda: len(app._notifications) == 1)
        assert app.clipboard == f"{sandbox.url}/acme/storefront/pull/101"


async def test_a_long_first_list_shows_its_first_page_at_once_and_keeps_the_cursor(make_sandbox):
    box = make_sandbox({"users": [{"login": "maintainer"}], "generate": [{"repo": "octo/app", "pulls": 250}]})
    admin(box, "faults", {"scope": "graphql", "delay": 0.6, "times": 3})
    async with app_for(box).run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: table(pilot).row_count == 100)
        assert "loading" in status(pilot), "more pages are still on the way"
        await pilot.press("j", "j", "j")
        chosen = table(pilot).selected_key
        await loaded(pilot)
        assert table(pilot).row_count == 250
        assert table(pilot).selected_key == chosen, "later pages append below; the cursor stays on its PR"
        assert "250 open" in status(pilot)


async def test_an_empty_repository_says_so_and_r_says_it_refreshes(make_sandbox):
    box = make_sandbox(seed_with([]))
    async with app_for(box).run_test(size=(80, 24)) as pilot:
        model = pilot.app.screen.model
        await wait_for(pilot, lambda: model.snapshot is not None and model.snapshot.complete)
        await pilot.pause()
        grid = table(pilot)
        assert grid.row_count == 0
        assert "No open pull request in octo/app." in grid.render_line(2).text
        await pilot.press("r")
        assert any("Refreshing" in str(n.message) for n in pilot.app._notifications)


async def test_the_detail_pane_follows_the_cursor(sandbox):
    async with app_for(sandbox).run_test(size=(120, 36)) as pilot:
        grid = await loaded(pilot)
        await pilot.press("enter")
        first = pilot.app.screen.model.detail_key
        await pilot.press("j")
        await wait_for(pilot, lambda: pilot.app.screen.model.detail_key == grid.selected_key != first)
        body = pilot.app.screen.query_one("#detail-body")
        row = pilot.app.screen.model.row(grid.selected_key)
        await wait_for(pilot, lambda: row.pull.title in str(body.render()) and "loading" not in str(body.render()))
