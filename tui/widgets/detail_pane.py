"""The detail pane under the table: what the row shows, plus the description fetched on demand."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from services.models import PullDetail, PullRequest
from tui.formatting import relative_age
from tui.safe_text import printable

BODY_LINES = 30


def detail_text(pull: PullRequest, detail: PullDetail | None, error: str | None = None) -> Text:
    now = datetime.now(UTC)
    text = Text()
    text.append(printable(pull.title), style="bold")
    text.append(f"  {printable(pull.repo)}#{pull.number}\n", style="dim")
    text.append("author ", style="dim")
    text.append(printable(pull.author))
    text.append("   branch ", style="dim")
    text.append(printable(pull.branch), style="cyan")
    if detail is not None:
        text.append(f" → {printable(detail.base_branch)}", style="cyan")
    text.append("   head ", style="dim")
    text.append(pull.head_sha[:12])
    text.append("\n")
    if pull.fork:
        owner = detail.head_owner if detail and detail.head_owner else pull.author
        text.append(f"fork of {printable(owner)}: untrusted code", style="yellow")
    else:
        text.append("same repository", style="dim")
    text.append("   labels ", style="dim")
    text.append(", ".join(printable(label) for label in pull.labels) or "none")
    text.append(f"   CI {(pull.ci or 'none').lower()}   review {(pull.review or 'none').lower()}")
    text.append(f"   draft {'yes' if pull.draft else 'no'}   updated {relative_age(pull.updated_at, now)}\n\n")
    if error is not None:
        text.append(f"Could not load the description: {printable(error)}", style="red")
    elif detail is None:
        text.append("loading the description…", style="dim italic")
    else:
        lines = detail.body.splitlines()
        body = "\n".join(printable(line) for line in lines[:BODY_LINES]) or "(no description)"
        text.append(body)
        if len(lines) > BODY_LINES:
            text.append(f"\n… {len(lines) - BODY_LINES} more lines on GitHub (press O)", style="dim")
    return text


class DetailPane(VerticalScroll):
    """Hidden until a row is chosen with Enter."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="detail-body")

    def show(self, text: Text) -> None:
        self.query_one("#detail-body", Static).update(text)
