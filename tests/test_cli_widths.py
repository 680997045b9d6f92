"""`prdeck ls` in a real terminal (a pty) at 80, 120 and 160 columns, and piped: the preview state never cut."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import termios

import pytest

from prdeck.services.sandbox.seed import default_seed
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import PRDECK, run_prdeck
from tests.kube_support import fast_seed

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
from prdeck.tui.view.pull_cells import PREVIEW_REASON_WIDTH  # noqa: E402

HOST_STATES = ("ready", "stale", "expiring")
STATES = ("ready", "stale", "expiring", "deploying", "failed", "terminating", "queued", "building", "pushing",
          "interrupted", "asleep", "empty")


@pytest.fixture(scope="module")
def stack():
    with SandboxStack(fast_seed(default_seed())) as running:
        yield running


def env(stack: SandboxStack) -> dict[str, str]:
    return {**stack.info()["env"], "PRDECK_REPOS": "acme/storefront,acme/docs"}


def in_terminal(columns: int, *args: str, extra: dict[str, str]) -> str:
    """Run prdeck with its output on a pseudo-terminal ``columns`` wide; the screen's text without colours."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environ = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    process = subprocess.Popen([PRDECK, *args], stdout=slave, stderr=slave, stdin=subprocess.DEVNULL,
                               env={**environ, **extra, "TERM": "xterm-256color"})
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    assert process.wait(timeout=60) == 0, output
    return ANSI.sub("", output.decode()).replace("\r\n", "\n")


def previews_by_number(stack: SandboxStack) -> dict[int, dict]:
    listing = json.loads(run_prdeck("ls", "--json", env=env(stack)).stdout)
    return {pull["number"]: pull["preview"] for pull in listing["pulls"] if pull["preview"]}


def table_rows(text: str) -> dict[int, str]:
    rows = {}
    for line in text.splitlines():
        match = re.match(r"^\S+\s+(\d+)\s", line)
        if match:
            rows[int(match.group(1))] = line
    return rows


@pytest.mark.parametrize("columns", [80, 120, 160])
def test_ls_in_a_terminal_fits_and_keeps_the_number_and_the_whole_preview_state(stack, columns):
    text = in_terminal(columns, "ls", extra=env(stack))
    table = text.split("\n14 open pull requests")[0]
    assert max(len(line) for line in table.splitlines()) <= columns, table
    assert table.splitlines()[0].split()[:2] == ["REPO", "#"]
    rows = table_rows(table)
    assert len(rows) == 14, table
    previews = previews_by_number(stack)
    assert previews, "the sandbox has previews"
    for number in previews:  # the pods move on between the two commands: the state is read from the table itself
        shown = rows[number].split("  ")[-1].strip()
        state, _, rest = shown.partition(" ")
        assert state in STATES, (columns, rows[number])
        reason = (previews[number].get("reason") or "") if isinstance(previews[number], dict) else ""
        if state not in HOST_STATES and len(reason) <= PREVIEW_REASON_WIDTH:
            assert rest and "…" not in rest, f"a reason is shown whole: {rows[number]!r}"
    if columns < 100:  # the compact layout, whatever fits
        assert "AUTHOR" not in table and "BRANCH" not in table
    elif columns >= 160:
        assert "AUTHOR" in table and "BRANCH" in table
    else:  # at 120 the widest layout fits or not by a few cells of the reasons of that moment (ErrImagePull and
        # ImagePullBackOff alternate): one layout or the other, never half of one
        assert ("AUTHOR" in table) == ("BRANCH" in table), table


def test_ls_piped_cuts_nothing(stack):
    result = run_prdeck("ls", env=env(stack))
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout, "off a terminal nothing is cut"
    assert "acme/storefront" in result.stdout and "Translate product names (日本語)" in result.stdout
    header = result.stdout.splitlines()[0].split()
    assert header == ["REPO", "#", "TITLE", "AUTHOR", "BRANCH", "CI", "REVIEW", "UPDATED", "PREVIEW"]
    rows = table_rows(result.stdout)
    assert "pr-101-storefront.localhost" in rows[101] and "feature/dark-mode" in rows[103]
