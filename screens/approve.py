"""Approve a fork PR's launch: names the fork and the exact head SHA, lists the files that run at build time."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from prdeck.services.models import LaunchCheck
from prdeck.tui.view.safe_text import printable


def approval_text(check: LaunchCheck) -> Text:
    text = Text.assemble(
        (f"{printable(str(check.repo))}#{check.number}", "bold magenta"),
        " comes from the fork ",
        (printable(str(check.head_repo)), "bold yellow"),
        ".\nLaunching builds and runs its code at\n\n  ",
        (check.head_sha, "bold"),
        "\n\n",
    )
    if check.build_files:
        text.append("Files it changes that run code at build time:\n", style="bold")
        for path in check.build_files[:12]:
            text.append(f"  {printable(path)}\n")
        if len(check.build_files) > 12:
            text.append(f"  … and {len(check.build_files) - 12} more\n")
    else:
        text.append("It changes no Dockerfile, compose file, script or CI config.\n", style="dim")
    text.append("The spec is read from the base branch; secrets are withheld unless the config allows them.")
    return text


class ApproveScreen(ModalScreen[bool]):
    """``y`` approves exactly this SHA (a new push needs a new approval); any other key cancels."""

    def __init__(self, check: LaunchCheck) -> None:
        super().__init__()
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(approval_text(self.check), id="confirm-question")
            yield Static(Text.assemble(("y", "bold"), " to approve and launch, any other key cancels"),
                         id="confirm-keys")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(event.key == "y")
