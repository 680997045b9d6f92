"""Bulk actions: several PRs in one `prdeck` command (each reported, side by side up to the launch cap), and the
TUI's marked rows acted on after one question."""

from __future__ import annotations

import json

import pytest

from prdeck.services.models import RepoRef
from prdeck.services.sandbox.seed import default_seed
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import run_prdeck
from tests.kube_support import eventually, fast_seed

STORE = RepoRef("acme", "storefront")
READY = list(range(101, 113))  # twelve ready previews: 101-110 go in the TUI test, 111 and 112 stay


def _seed() -> dict:
    seed = fast_seed(default_seed())
    seed["previews"] = [{"repo": "acme/storefront", "number": n, "state": "ready", "expires_in": "3d"}
                        for n in READY]
    return seed


@pytest.fixture(scope="module")
def stack():
    with SandboxStack(_seed()) as running:
        yield running


def env(stack: SandboxStack) -> dict[str, str]:
    return {**stack.info()["env"], "PRDECK_REPOS": "acme/storefront"}


def _namespaces(stack: SandboxStack) -> set[str]:
    from kubernetes import client

    from tests.kube_support import api

    core = client.CoreV1Api(api(stack.kube))
    return {ns.metadata.name for ns in core.list_namespace(label_selector="app.kubernetes.io/managed-by=prdeck").items}


def test_the_lifecycle_commands_take_several_prs_and_report_each(stack):
    pinned = run_prdeck("pin", "111", "112", "7", env=env(stack))
    assert pinned.returncode == 1, pinned.stderr  # there is no #7: that one fails, the others are done
    lines = sorted(pinned.stdout.splitlines())
    assert len(lines) == 3, pinned.stdout
    assert lines[0].startswith("FAIL acme/storefront#7  acme/storefront#7 does not exist"), lines
    assert lines[1].startswith("ok   acme/storefront#111  pinned") and lines[2].startswith("ok   acme/storefront#112")
    assert "2 of 3 done, 1 failed." in pinned.stderr
    unpinned = run_prdeck("unpin", "111", "112", "--json", env=env(stack))
    assert unpinned.returncode == 0, unpinned.stderr
    results = json.loads(unpinned.stdout)
    assert [(r["number"], r["ok"], r["action"], r["namespace"]) for r in results] == [
        (111, True, "unpin", "prdeck-acme-storefront-pr-111"), (112, True, "unpin", "prdeck-acme-storefront-pr-112")]
    assert all(r["result"].startswith("unpinned: expires") for r in results)
    status = json.loads(run_prdeck("status", "111", "--json", env=env(stack)).stdout)["preview"]
    assert status["pinned"] is False


def test_destroy_takes_several_prs_after_one_question(stack):
    refused = run_prdeck("destroy", "111", "112", env=env(stack))  # no terminal to ask on
    assert refused.returncode == 2 and "add --yes" in refused.stderr
    assert {"prdeck-acme-storefront-pr-111", "prdeck-acme-storefront-pr-112"} <= _namespaces(stack)
    bad = run_prdeck("destroy", "111", "nope", "--yes", env=env(stack))  # a bad reference: nothing is done
    assert bad.returncode == 2 and "Not a pull request: 'nope'" in bad.stderr
    done = run_prdeck("destroy", "111", "112", "8", "--yes", "--json", env=env(stack))
    assert done.returncode == 1, done.stderr
    results = {r["number"]: r for r in json.loads(done.stdout)}
    assert results[111]["ok"] and results[112]["ok"] and not results[8]["ok"]
    assert results[111]["result"] == "destroyed (prdeck-acme-storefront-pr-111)"
    assert results[8]["error"].startswith("acme/storefront#8 does not exist")
    eventually(lambda: not {"prdeck-acme-storefront-pr-111", "prdeck-acme-storefront-pr-112"} & _namespaces(stack))


# the TUI: marked rows ----------------------------------------------------------------------------------------
SIZE = (140, 36)
TUI_PREVIEWS = [{"repo": "acme/storefront", "number": n, "state": "ready", "expires_in": "2d"} for n in READY]


def _cell(pilot, key: str) -> str:
    from tests.tui_support import table

    return table(pilot).get_cell(key, "preview").plain


async def _ready(pilot) -> None:
    from tests.tui_support import loaded, status, wait_for

    await loaded(pilot)
    await wait_for(pilot, lambda: "⎈ live" in status(pilot)
                   and all(_cell(pilot, f"acme/storefront#{n}") != "—" for n in READY))


async def _mark(pilot, numbers) -> None:
    from tests.tui_support import table

    for number in numbers:
        grid = table(pilot)
        grid.move_cursor(row=grid.get_row_index(f"acme/storefront#{number}"))
        await pilot.press("space")


async def test_bulk_destroy_of_ten_marked_rows_asks_once(sandbox, make_kube):
    from prdeck.screens.confirm import ConfirmScreen
    from tests.tui_support import app_for, table, wait_for

    kube = make_kube({"previews": TUI_PREVIEWS})
    questions: list[str] = []
    async with app_for(sandbox, kube=kube).run_test(size=SIZE) as pilot:
        await _ready(pilot)
        ten = READY[:10]
        await _mark(pilot, ten)
        assert table(pilot).marked == {f"acme/storefront#{n}" for n in ten}
        assert str(table(pilot).render_line(1 + table(pilot).get_row_index("acme/storefront#101")).text)[0] == "✓"
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        question = str(pilot.app.screen.query_one("#confirm-question").render())
        questions.append(question)
        assert "Destroy 10 previews?" in question
        assert all(f"acme/storefront#{n}  prdeck-acme-storefront-pr-{n}" in question for n in ten), question
        assert "#111" not in question and "#112" not in question
        await pilot.press("y")
        await wait_for(pilot, lambda: any("10 of 10 done" in str(n.message) for n in pilot.app._notifications),
                       timeout=30)
        assert not isinstance(pilot.app.screen, ConfirmScreen)  # one question, not one per preview
        assert table(pilot).marked == frozenset()
        await wait_for(pilot, lambda: all(_cell(pilot, f"acme/storefront#{n}") in ("—", "◌ terminating")
                                          for n in ten), timeout=20)
        assert _cell(pilot, "acme/storefront#111").startswith("● ")
        assert _cell(pilot, "acme/storefront#112").startswith("● ")


async def test_star_marks_every_row_shown_and_esc_unmarks_them(sandbox, make_kube):
    from prdeck.screens.confirm import ConfirmScreen
    from tests.tui_support import app_for, table, wait_for

    kube = make_kube({"previews": TUI_PREVIEWS})
    async with app_for(sandbox, kube=kube).run_test(size=SIZE) as pilot:
        await _ready(pilot)
        grid = table(pilot)
        await pilot.press("asterisk")
        assert grid.marked == set(grid.keys) and len(grid.keys) > len(READY)
        await pilot.press("asterisk")
        assert grid.marked == frozenset()
        await _mark(pilot, [111, 112])
        await pilot.press("escape")
        assert grid.marked == frozenset()
        await _mark(pilot, [101])
        after = grid.selected_key  # the cursor moved on: a second space marks the next row
        await pilot.press("space")
        assert grid.marked == {"acme/storefront#101", after}
        await _mark(pilot, [101])  # again: unmarked
        await pilot.press("escape")
        await _mark(pilot, [111, 112])
        grid.move_cursor(row=grid.get_row_index("acme/docs#8"))  # no preview
        await pilot.press("space")
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        question = str(pilot.app.screen.query_one("#confirm-question").render())
        assert "Pin 2 previews?" in question and "1 marked row left out: without a preview." in question, question
        await pilot.press("y")
        await wait_for(pilot, lambda: _cell(pilot, "acme/storefront#111").startswith("● stale ⚑")
                       and _cell(pilot, "acme/storefront#112").startswith("● stale ⚑"), timeout=20)
        assert "⚑" not in _cell(pilot, "acme/storefront#101")
