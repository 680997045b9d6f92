"""The main table widget: column layout (pure) and the cursor, paging, mouse and rendering (Pilot, real sandbox)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.text import Text

from prdeck.services.deck import Row
from prdeck.services.models import Preview, PullRequest, RepoRef
from prdeck.tui.view.pull_cells import (
    MIN_TITLE_WIDTH,
    TITLE_COMFORT,
    WIDTH_CAPS,
    column_specs,
    column_widths,
    table_line,
)
from prdeck.tui.widgets.detail_pane import DetailPane
from tests.conftest import admin, pull, seed_with
from tests.tui_support import app_for, loaded, wait_for

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def make_row(number: int, *, author: str = "al", branch: str = "b", fork: bool = False, url: str | None = None) -> Row:
    pull_request = PullRequest(
        repo=RepoRef("octo", "app"), number=number, title=f"Change {number}", author=author, branch=branch,
        head_sha="a" * 40,
        fork=fork, draft=False, labels=(), ci="SUCCESS", review=None, updated_at=NOW - timedelta(hours=3), url="",
    )
    preview = None
    if url is not None:
        namespace = f"prdeck-octo-app-pr-{number}"
        preview = Preview(RepoRef("octo", "app"), number, namespace, "ready", None, url, "a" * 40, None)
    return Row(pull_request, preview)


def widths_by_key(rows: list[Row], available: int, compact: bool = False) -> dict[str, int]:
    columns = column_specs(False, compact)
    widths = column_widths(rows, columns, available, now=NOW, short_repo=True)
    return dict(zip([key for key, _ in columns], widths, strict=True))


def test_columns_fit_their_widest_cell_and_the_title_takes_the_rest():
    rows = [make_row(7, author="bo"), make_row(1234, author="maria-dev", branch="feature/search")]
    widths = widths_by_key(rows, 160)
    assert widths["number"] == 4 and widths["author"] == len("maria-dev") and widths["branch"] == len("feature/search")
    assert widths["ci"] == len("success") and widths["updated"] == len("Age") and widths["preview"] == len("Preview")
    assert sum(width + 2 for width in widths.values()) == 160, "the line fills the width exactly"


def test_long_values_are_capped_and_a_narrow_terminal_gives_the_title_room():
    rows = [
        make_row(1, author="a-very-long-login-name", branch="x" * 60, fork=True, url="http://" + "h" * 50 + "/"),
    ]
    wide = widths_by_key(rows, 200)
    assert wide["author"] == WIDTH_CAPS["author"] and wide["branch"] == WIDTH_CAPS["branch"]
    assert wide["preview"] == WIDTH_CAPS["preview"]
    narrow = widths_by_key(rows, 100, compact=True)
    assert narrow["title"] == TITLE_COMFORT, "branch and preview gave up room for the title"
    assert narrow["branch"] < wide["branch"] and narrow["preview"] < wide["preview"]
    tiny = widths_by_key(rows, 40, compact=True)
    assert tiny["title"] == MIN_TITLE_WIDTH, "below that the table scrolls sideways instead"


def test_table_line_cuts_with_an_ellipsis_and_pads_by_cell_width():
    line = table_line([Text("日本語のタイトル"), Text("ok", style="green")], [7, 4])
    assert line.plain == " 日本語… " + " ok   "
    assert line.cell_len == 7 + 2 + 4 + 2
    assert any(str(span.style) == "green" for span in line.spans), "cell styles are kept"


def screen_line(grid, y: int) -> str:  # type: ignore[no-untyped-def]
    return grid.render_line(y).text


async def test_page_keys_move_the_cursor_a_screenful_and_keep_it_on_screen(make_sandbox):
    box = make_sandbox({"users": [{"login": "maintainer"}], "generate": [{"repo": "octo/app", "pulls": 120}]})
    async with app_for(box).run_test(size=(120, 30)) as pilot:
        grid = await loaded(pilot)
        page = grid.scrollable_content_region.height - 1
        await pilot.press("pagedown")
        assert grid.cursor_row == page and round(grid.scroll_y) == page
        await pilot.press("pagedown", "pageup")
        assert grid.cursor_row == page and round(grid.scroll_y) == page
        await pilot.press("G")
        assert grid.cursor_row == 119
        bottom = screen_line(grid, grid.scrollable_content_region.height - 1)
        assert f" {grid.keys[119].split('#')[1]} " in bottom, "the last row is on the last line"
        await pilot.press("g")
        assert grid.cursor_row == 0 and grid.scroll_y == 0
        assert screen_line(grid, 0).split()[:3] == ["#", "Title", "Author"]


async def test_a_click_moves_the_cursor_and_a_second_click_opens_the_detail(sandbox):
    async with app_for(sandbox).run_test(size=(120, 36)) as pilot:
        grid = await loaded(pilot)
        pane = pilot.app.screen.query_one(DetailPane)
        row_y = grid.region.y + 1 + 3  # under the header, the fourth row
        await pilot.click(offset=(10, row_y))
        assert grid.cursor_row == 3 and not pane.display
        await pilot.click(offset=(10, row_y))
        assert pane.display and pilot.app.screen.model.detail_key == grid.keys[3]  # type: ignore[attr-defined]


async def test_a_retitled_row_is_redrawn_where_it_now_stands(make_sandbox):
    box = make_sandbox(seed_with([pull(1), pull(2), pull(3)]))
    async with app_for(box).run_test(size=(120, 20)) as pilot:
        grid = await loaded(pilot)

        def line_of(key: str) -> str:
            return screen_line(grid, grid.get_row_index(key) + 1)

        assert "Change 2" in line_of("octo/app#2")
        admin(box, "pulls", {"action": "retitle", "repo": "octo/app", "number": 2, "title": "[b]Renamed[/b]"})
        await pilot.press("r")
        await wait_for(pilot, lambda: "[b]Renamed[/b]" in line_of("octo/app#2"))
        assert "Change 2" not in line_of("octo/app#2")
        assert "Change 3" in line_of("octo/app#3") and "Change 1" in line_of("octo/app#1")
