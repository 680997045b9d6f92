"""The main table widget: column layout (pure) and the cursor, paging, mouse and rendering (Pilot, real sandbox)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.text import Text

from prdeck.services.deck import Row
from prdeck.services.models import Preview, PullRequest, RepoRef
from prdeck.tui.view.column_budget import MIN_TITLE_WIDTH, TITLE_COMFORT
from prdeck.tui.view.pull_cells import WIDTH_CAPS, preview_cell, table_layout, table_line
from prdeck.tui.widgets.detail_pane import DetailPane
from tests.conftest import admin, pull, seed_with
from tests.tui_support import app_for, loaded, wait_for

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def make_row(
    number: int, *, author: str = "al", branch: str = "b", fork: bool = False, url: str | None = None,
    state: str = "ready", reason: str | None = None, title: str | None = None,
) -> Row:
    pull_request = PullRequest(
        repo=RepoRef("octo", "app"), number=number, title=title or f"Change {number}", author=author, branch=branch,
        head_sha="a" * 40,
        fork=fork, draft=False, labels=(), ci="SUCCESS", review=None, updated_at=NOW - timedelta(hours=3), url="",
    )
    preview = None
    if url is not None or reason is not None:
        namespace = f"prdeck-octo-app-pr-{number}"
        preview = Preview(RepoRef("octo", "app"), number, namespace, state, reason, url, "a" * 40, None)
    return Row(pull_request, preview)


def widths_by_key(rows: list[Row], available: int) -> dict[str, int]:
    layout = table_layout(rows, available, with_repo=False, now=NOW, short_repo=True)
    return dict(zip(layout.columns, layout.widths, strict=True))


def test_columns_fit_their_widest_cell_and_the_title_takes_the_rest():
    rows = [make_row(7, author="bo"), make_row(1234, author="maria-dev", branch="feature/search")]
    widths = widths_by_key(rows, 160)
    assert widths["number"] == 4 and widths["author"] == len("maria-dev") and widths["branch"] == len("feature/search")
    assert widths["ci"] == len("success") and widths["updated"] == len("Age") and widths["preview"] == len("Preview")
    assert sum(width + 2 for width in widths.values()) == 160, "the line fills the width exactly"


def test_long_values_are_capped_and_a_narrow_terminal_gives_the_title_room():
    rows = [
        make_row(1, author="a-very-long-login-name", branch="x" * 60, fork=True, url="http://" + "h" * 70 + "/"),
    ]
    wide = widths_by_key(rows, 220)
    assert wide["author"] == WIDTH_CAPS["author"] and wide["branch"] == WIDTH_CAPS["branch"]
    assert wide["preview"] == WIDTH_CAPS["preview"]
    narrow = widths_by_key(rows, 110)
    assert narrow["title"] == TITLE_COMFORT and narrow["preview"] < wide["preview"], "the host gave up room first"
    assert narrow["branch"] == wide["branch"] and narrow["author"] == wide["author"]
    failing = [*rows, make_row(2, state="failed", reason="CrashLoopBackOff")]
    tight = widths_by_key(failing, 104)
    assert tight["title"] == TITLE_COMFORT and tight["branch"] < wide["branch"], "then the branch"
    assert tight["preview"] == len("✖ failed CrashLoopBackOff"), "the reason is never cut"
    tiny = widths_by_key(rows, 36)
    assert set(tiny) == {"number", "title", "ci", "updated", "preview"}, "compact: preview in place of branch/author"
    assert tiny["title"] == MIN_TITLE_WIDTH and tiny["preview"] == len("Preview")


STATES = [("ready", None, "http://pr-1-storefront.example.dev/"), ("deploying", "not ready", None),
          ("failed", "CrashLoopBackOff", None), ("failed", "ImagePullBackOff", None), ("stale", None, "http://h/"),
          ("expiring", None, "http://pr-9.example.dev/"), ("interrupted", "launch stopped during build", None),
          ("terminating", "namespace deleting", None), ("asleep-someday", "a state nobody knows yet", None)]


def _rows_in_every_state() -> list[Row]:
    return [make_row(1000 + i, state=state, reason=reason, url=url, title="A title long enough to be cut " * 3,
                     author="maria-dev", branch="feature/something-long")
            for i, (state, reason, url) in enumerate(STATES)]


def test_at_every_width_the_number_and_the_whole_state_and_reason_show():
    rows = _rows_in_every_state()
    for available in (60, 80, 100, 120, 160, 200):
        layout = table_layout(rows, available, with_repo=True, now=NOW, short_repo=True)
        assert "number" in layout.columns and "preview" in layout.columns
        assert layout.width_of("number") == 4, "# is never cut"
        assert sum(width + 2 for width in layout.widths) <= available or available < 70, available
        for row in rows:
            assert row.preview is not None
            cell = preview_cell(row)
            cell.truncate(layout.width_of("preview"), overflow="ellipsis")
            shown = cell.plain
            assert row.preview.state in shown.split(), (available, shown)
            if row.preview.reason and row.preview.state not in ("ready", "stale", "expiring"):
                assert row.preview.reason in shown, (available, shown)
    assert table_layout(rows, 80, with_repo=True, now=NOW, short_repo=True).name == "compact"
    assert table_layout(rows, 200, with_repo=True, now=NOW, short_repo=True).name == "wide"


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


def test_emoji_sequences_and_stacked_marks_do_not_shift_the_columns():
    from prdeck.tui.view.safe_text import printable

    family, heart, zalgo = "👨\u200d👩\u200d👧", "❤\ufe0f", "z\u0337\u0321\u031b\u0329a"
    shown = printable(f"{family} {heart} {zalgo}")
    assert "\u200d" not in shown and "\ufe0f" not in shown, "widths every table agrees on"
    assert shown == "👨👩👧 ❤ z\u0337\u0321a", "two marks per letter at most"
    line = table_line([Text(shown), Text("ok")], [20, 4])
    assert line.cell_len == 20 + 2 + 4 + 2


def test_the_measured_preview_width_is_the_cell_drawn():
    from prdeck.tui.view.pull_cells import preview_width

    for row in _rows_in_every_state():
        assert row.preview is not None
        assert preview_width(row.preview) == preview_cell(row).cell_len
