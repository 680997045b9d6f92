"""The column budget (pure): who gives up room, in which order, and when the layout turns compact."""

from __future__ import annotations

from prdeck.tui.view.column_budget import MIN_TITLE_WIDTH, TITLE_COMFORT, Want, choose, fit


def test_the_title_takes_what_the_others_leave():
    result = fit([Want("number", 3, 3), Want("title", 10, 1), Want("preview", 20, 10)], 60)
    assert result.fits and result.widths == (3, 60 - 3 - 20 - 6, 20)


def test_room_is_taken_from_the_title_first_then_the_preview_host_then_branch_and_author():
    wants = [Want("number", 3, 3), Want("title", 50, 1), Want("author", 10, 1), Want("branch", 20, 1),
             Want("preview", 35, 25)]
    padding = 2 * len(wants)
    roomy = fit(wants, 3 + 50 + 10 + 20 + 35 + padding - 5)
    assert roomy.widths == (3, 45, 10, 20, 35), "the title gives first"
    hosts = fit(wants, 3 + TITLE_COMFORT + 10 + 20 + 30 + padding)
    assert hosts.widths == (3, TITLE_COMFORT, 10, 20, 30), "then the preview's host, down to its floor"
    tight = fit(wants, 3 + TITLE_COMFORT + 8 + 12 + 25 + padding)
    assert tight.widths == (3, TITLE_COMFORT, 8, 12, 25) and tight.fits
    last = fit(wants, 3 + MIN_TITLE_WIDTH + 8 + 12 + 25 + padding)
    assert last.widths == (3, MIN_TITLE_WIDTH, 8, 12, 25) and last.fits, "the title again, to its own floor"
    too_narrow = fit(wants, 40)
    assert not too_narrow.fits and too_narrow.widths[0] == 3 and too_narrow.widths[4] == 25, "never below floors"


def test_a_column_never_goes_below_its_floor_whatever_the_step_says():
    result = fit([Want("title", 40, 1), Want("preview", 40, 38)], 50)
    assert result.widths[1] == 38


LAYOUTS = [("wide", ["number", "title", "author", "draft", "preview"]),
           ("compact", ["number", "title", "preview"])]
WANTS = {"number": Want("number", 3, 3), "title": Want("title", 40, 1), "author": Want("author", 10, 1),
         "draft": Want("draft", 5, 5), "preview": Want("preview", 25, 25)}


def test_choose_keeps_the_widest_layout_whose_title_stays_readable():
    assert choose(LAYOUTS, WANTS, 150).name == "wide"
    squeezed = choose(LAYOUTS, WANTS, 3 + 10 + 10 + 5 + 25 + 10, compact_below=0)
    assert squeezed.name == "compact", "wide would fit only with a 10-cell title"
    assert squeezed.width_of("title") == 3 + 10 + 10 + 5 + 25 + 10 - 3 - 25 - 6


def test_below_the_threshold_only_the_compact_layout_is_tried_and_it_may_overflow():
    assert choose(LAYOUTS, WANTS, 99).name == "compact"
    overflowing = choose(LAYOUTS, WANTS, 20)
    assert overflowing.name == "compact" and not overflowing.fits
    assert overflowing.width_of("number") == 3 and overflowing.width_of("preview") == 25
