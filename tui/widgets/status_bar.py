"""The header line: repositories, counts, sort order and the connection state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from prdeck.tui.view.connection import Connection
from prdeck.tui.view.pull_query import Counts
from prdeck.tui.view.safe_text import printable


def status_text(
    repos: list[str],
    counts: Counts | None,
    shown: int,
    sort: str,
    query: str,
    connection: Connection,
    retry_in: float | None,
    cluster: tuple[str, str | None] = ("none", None),
) -> Text:
    text = Text.assemble(("prdeck ", "bold"), (printable(", ".join(repos)), "magenta"))
    if counts is not None:
        text.append(f"   {counts.open} open · {counts.drafts} drafts · ")
        text.append(f"{counts.failing} failing", style="red" if counts.failing else "")
        text.append(f" · {counts.previews} previews")
        if query:
            text.append(f"   filter: {printable(query)} ({shown} shown)", style="yellow")
        text.append(f"   sort: {sort}", style="dim")
    text.append("   ")
    text.append_text(connection_text(connection, retry_in))
    text.append("   ")
    text.append_text(cluster_text(*cluster))
    return text


def cluster_text(state: str, problem: str | None) -> Text:
    """The cluster's part of the header: live, connecting, failing (it retries), or none and why."""
    if state == "live":
        return Text("⎈ live", style="green")
    if state == "connecting":
        return Text("⎈ connecting…", style="yellow")
    if state == "failing":
        return Text(f"⎈ ✖ {printable(problem or 'cluster failing')} — retrying", style="bold red")
    return Text(f"⎈ no previews: {printable(problem or 'no cluster')}", style="dim")


def connection_text(connection: Connection, retry_in: float | None) -> Text:
    if connection.state == "loading":
        return Text("◌ loading…", style="yellow")
    if connection.state == "live":
        return Text("● live", style="green")
    error = connection.error
    title = error.title if error else "GitHub failed"
    when = "press r to retry" if retry_in is None else f"retrying in {retry_in:.0f}s"
    return Text(f"✖ {printable(title)} — {when}", style="bold red")


class StatusBar(Static):
    """One line at the top; the screen passes it fresh text whenever something changes."""

    text = Text()

    def show(self, text: Text) -> None:
        self.text = text
        self.update(text)
