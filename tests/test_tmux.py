"""`prdeck demo` in a real terminal (tmux): start, wait for the table, press keys, read the screen."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.conftest import PRDECK


class Tmux:
    def __init__(self, name: str) -> None:
        self.base = ["tmux", "-L", name]
        self.name = name

    def run(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, check=True).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str) -> None:
        """Send keys; after Escape, pause like a person would (a key right after ESC reads as Alt+key)."""
        for key in keys:
            self.run("send-keys", "-t", self.name, key)
            if key == "Escape":
                time.sleep(0.3)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.name, "-l", text)

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared on screen:\n{self.screen()}")

    def wait_until(self, check: Callable[[str], bool], what: str, timeout: float = 20) -> str:
        """The first screen ``check`` accepts (a screen caught mid-repaint is simply looked at again)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"never on screen: {what}\n{self.screen()}")

    def alive(self) -> bool:
        return subprocess.run([*self.base, "has-session", "-t", self.name], capture_output=True).returncode == 0


@pytest.fixture
def tmux():
    session = Tmux(f"prdeck-test-{os.getpid()}")
    yield session
    subprocess.run([*session.base, "kill-server"], capture_output=True)


def test_demo_in_a_real_terminal(tmux):
    # COLUMNS (set for every test) would override the pane's size
    tmux.run("new-session", "-d", "-s", tmux.name, "-x", "160", "-y", "45", f"env -u COLUMNS -u LINES {PRDECK} demo")
    screen = tmux.wait_for("Add product search box")
    assert "14 open · 2 drafts · 4 failing" in screen
    assert "fix: handle [/] in parser [bold]" in screen
    tmux.keys("j", "j", "j", "Enter")
    tmux.wait_for("From a fork: needs approval before a preview.")
    assert "untrusted code" in tmux.screen()
    tmux.keys("Escape", "/")
    tmux.type("docs")
    screen = tmux.wait_for("(3 shown)")
    assert "Add product search box" not in screen
    tmux.keys("Escape")
    tmux.wait_for("Add product search box")
    tmux.keys("s")
    tmux.wait_for("sort: number")
    tmux.keys("?")
    tmux.wait_for("cycle the sort order")
    tmux.keys("Escape", "q")
    deadline = time.monotonic() + 20  # a loaded machine: quitting stops watches and closes clients
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tmux.alive(), "q quits the app and ends the session"


def test_demo_at_80x24_shows_every_number_and_whole_preview_state(tmux):
    """Issue 16: at 80x24 the # and the whole preview state of every row are on screen, no sideways scrolling."""
    import re

    tmux.run("new-session", "-d", "-s", tmux.name, "-x", "80", "-y", "24", f"env -u COLUMNS -u LINES {PRDECK} demo")
    screen = tmux.wait_for("ImagePull", timeout=30)  # the failed preview, its reason in full (ErrImagePull, then
    lines = screen.splitlines()                     # ImagePullBackOff: the sandbox's kubelet retries like one)
    assert lines[0].rstrip().endswith("⎈ live") and "4 failing" in lines[0], "the header is whole phrases"
    assert lines[1].split()[:3] == ["Repo", "#", "Title"] and lines[1].rstrip().endswith("Preview")
    rows = [line for line in lines[2:] if re.match(r"^ (storefro\S*|docs) +\d+ ", line)]
    assert len(rows) == 15, screen
    states = {int(line.split()[1]): line for line in rows}
    assert re.search(r"✖ failed (ErrImagePull|ImagePullBackOff)$", states[103].rstrip()), states[103]
    assert "● stale " in states[106] and "● expiring " in states[112] and "● ready " in states[90]
    assert re.search(r"(◐ deploying not ready|● ready )", states[102]), states[102]
    tmux.keys("l")
    tmux.wait_for("Launch acme/storefront#101")
    tmux.wait_for("pods: ready", timeout=30)
    tmux.wait_for("esc Close", timeout=30)  # the launch ended: Esc closes the panel
    tmux.wait_until(lambda screen: screen.count("█ │") >= 5, "the output box showing several lines at 80x24")
    tmux.keys("Escape", "q")
