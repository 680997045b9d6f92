"""The TUI's e, p and z with Pilot against both sandboxes: the row follows the namespace watch."""

from __future__ import annotations

import pytest

from tests.tui_support import app_for, loaded, status, table, wait_for

SIZE = (140, 36)
PREVIEWS = [
    {"repo": "acme/storefront", "number": 101, "state": "ready", "expires_in": "2d"},
    {"repo": "acme/storefront", "number": 104, "state": "empty", "phase": "failed", "phase_reason": "apply: refused"},
    {"repo": "acme/storefront", "number": 105, "state": "asleep"},
    {"repo": "acme/storefront", "number": 106, "state": "ready", "pinned": True},
]


@pytest.fixture
def stack(sandbox, make_kube):
    return sandbox, make_kube({"previews": PREVIEWS})


def cell(pilot, key: str) -> str:
    return table(pilot).get_cell(key, "preview").plain


def select(pilot, key: str) -> None:
    grid = table(pilot)
    grid.move_cursor(row=grid.get_row_index(key))


async def test_new_states_pin_and_countdown_show_in_the_rows(stack):
    github, kube = stack
    async with app_for(github, kube=kube).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "⎈ live" in status(pilot) and cell(pilot, "acme/storefront#106") != "—")
        assert cell(pilot, "acme/storefront#104").startswith("✖ failed")
        assert cell(pilot, "acme/storefront#105").startswith("☾ asleep")
        assert cell(pilot, "acme/storefront#106").startswith("● stale ⚑")
        assert cell(pilot, "acme/storefront#101").startswith("● stale 1d")


async def test_e_extends_p_pins_and_z_sleeps_then_l_wakes(stack):
    github, kube = stack
    async with app_for(github, kube=kube).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "⎈ live" in status(pilot) and cell(pilot, "acme/storefront#101") != "—")
        select(pilot, "acme/storefront#101")
        await pilot.press("e")
        await wait_for(pilot, lambda: cell(pilot, "acme/storefront#101").startswith("● stale 4d"))
        await pilot.press("p")
        await wait_for(pilot, lambda: cell(pilot, "acme/storefront#101").startswith("● stale ⚑"))
        await pilot.press("p")
        await wait_for(pilot, lambda: cell(pilot, "acme/storefront#101").startswith("● stale 4d"))
        await pilot.press("z")
        await wait_for(pilot, lambda: cell(pilot, "acme/storefront#101").startswith("☾ asleep"))
        await pilot.press("l")
        # the wake scales the Deployment back and the sandbox's kubelet starts the pod: slow under a loaded CI
        await wait_for(pilot, lambda: cell(pilot, "acme/storefront#101").startswith("● stale"), timeout=40)
        select(pilot, "acme/storefront#103")
        await pilot.press("z")
        await wait_for(pilot, lambda: any("has no preview to put to sleep" in str(n.message)
                                          for n in pilot.app._notifications))


async def test_r_shows_the_reap_plan_and_asks_once(sandbox, make_kube):
    from prdeck.screens.confirm import ConfirmScreen

    kube = make_kube({"previews": [
        {"repo": "acme/storefront", "number": 101, "state": "ready"},
        {"repo": "acme/storefront", "number": 102, "state": "ready", "expires_in": "-2h"},
        {"repo": "acme/storefront", "number": 90, "state": "ready"},
    ]})
    async with app_for(sandbox, kube=kube).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: "⎈ live" in status(pilot) and cell(pilot, "acme/storefront#102") != "—")
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        question = str(pilot.app.screen.query_one("#confirm-question").render())
        assert "Reap 2 previews?" in question and "acme/storefront#102" in question and "expired" in question
        assert "acme/storefront#90" in question and "acme/storefront#101" not in question
        await pilot.press("y")
        await wait_for(pilot, lambda: cell(pilot, "acme/storefront#102") in ("—", "◌ terminating")
                       and any("2 of 2 removed" in str(n.message) for n in pilot.app._notifications), timeout=20)
        assert cell(pilot, "acme/storefront#101").startswith("● ")
