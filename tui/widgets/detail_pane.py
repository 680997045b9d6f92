"""The detail pane under the table: what the row shows, plus the description fetched on demand."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from prdeck.services.deck import PreviewDetail, Row
from prdeck.services.models import Preview, PullDetail, PullRequest
from prdeck.tui.view.formatting import expiry_text, relative_age
from prdeck.tui.view.pull_cells import PIN, PREVIEW_STYLES, REVIEW_TEXT, pod_condition, preview_summary
from prdeck.tui.view.safe_text import printable

BODY_LINES = 30


def detail_text(pull: PullRequest, detail: PullDetail | None, error: str | None = None) -> Text:
    now = datetime.now(UTC)
    text = Text()
    if pull.fork:  # the safety line comes first, so a long title never pushes it below the fold
        owner = detail.head_owner if detail and detail.head_owner else pull.author
        text.append(f"fork of {printable(owner)}: untrusted code\n", style="bold yellow")
    text.append(printable(pull.title), style="bold")
    text.append(f"  {printable(str(pull.repo))}#{pull.number}\n", style="dim")
    text.append("author ", style="dim")
    text.append(printable(pull.author))
    text.append("   branch ", style="dim")
    text.append(printable(pull.branch), style="cyan")
    if detail is not None:
        text.append(f" → {printable(detail.base_branch)}", style="cyan")
    text.append("   head ", style="dim")
    text.append(pull.head_sha[:12])
    text.append("\n")
    text.append("fork" if pull.fork else "same repository", style="yellow" if pull.fork else "dim")
    text.append("   labels ", style="dim")
    text.append(", ".join(printable(label) for label in pull.labels) or "none")
    text.append(f"   CI {(pull.ci or 'none').lower()}   review {REVIEW_TEXT.get(pull.review or '', ('none', ''))[0]}")
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


def preview_text(preview: Preview | None, detail: PreviewDetail | None, error: str | None = None) -> Text:
    """The preview part of the pane: state, URL, pods and their states, the newest events."""
    text = Text("\n")
    if preview is None:
        text.append("no preview", style="dim")
        return text
    text.append("preview ", style="dim")
    text.append(printable(preview_summary(preview)), style=PREVIEW_STYLES.get(preview.state, ""))
    text.append(f"   namespace {preview.namespace}", style="dim")
    if preview.url:
        text.append(f"   {printable(preview.url)}", style="underline")
    if preview.deployed_sha:
        text.append(f"   deployed {preview.deployed_sha[:12]}", style="dim")
    if preview.pinned:
        text.append(f"   {PIN} pinned: never expires", style="bold cyan")
    elif preview.expires_at is not None:
        text.append(f"   expires {expiry_text(preview.expires_at, with_date=False)}", style="dim")
    text.append("\n")
    if error is not None:
        text.append(f"Could not load pods and events: {printable(error)}", style="red")
        return text
    if detail is None:
        text.append("loading pods and events…", style="dim italic")
        return text
    now = datetime.now(UTC)
    for pod in detail.preview.pods:
        state = pod_condition(pod)
        text.append(f"  pod {printable(pod.name)} ", style="bold")
        text.append(f"{pod.phase} · {printable(state)}", style="green" if pod.ready else "yellow")
        if pod.restarts:
            text.append(f" · {pod.restarts} restarts", style="red")
        text.append(f"  [{', '.join(printable(c) for c in pod.containers)}]\n", style="dim")
    for event in detail.events[-8:]:
        age = relative_age(event.time, now) if event.time else "?"
        text.append(f"  {age:>8} ", style="dim")
        text.append(f"{printable(event.reason)} ", style="red" if event.kind == "Warning" else "")
        text.append(f"{printable(event.object)}: {printable(event.message, max_length=200)}\n", style="dim")
    return text


class DetailPane(VerticalScroll):
    """Hidden until a row is chosen with Enter; shows the row, then its description, pods and events."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.row: Row | None = None
        self._pull: PullDetail | None = None
        self._pull_error: str | None = None
        self._preview: PreviewDetail | None = None
        self._preview_error: str | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="detail-body")

    def show_row(self, row: Row) -> None:
        """A new row (or a fresher copy of the same one: loaded parts are kept)."""
        if self.row is None or self.row.key != row.key:
            self._pull = self._preview = None
            self._pull_error = self._preview_error = None
        self.row = row
        self._paint()

    def pull_loaded(self, detail: PullDetail) -> None:
        self._pull = detail
        self._paint()

    def preview_loaded(self, detail: PreviewDetail) -> None:
        self._preview = detail
        self._paint()

    def failed(self, part: str, error: str) -> None:
        if part == "preview":
            self._preview_error = error
        else:
            self._pull_error = error
        self._paint()

    def _paint(self) -> None:
        if self.row is None:
            return
        text = (
            detail_text(self.row.pull, self._pull, self._pull_error)
            if not self.row.orphan
            else Text(
                f"{self.row.key}: the pull request is closed or gone; its preview is still running.", style="yellow"
            )
        )
        text.append_text(preview_text(self.row.preview, self._preview, self._preview_error))
        self.query_one("#detail-body", Static).update(text)
