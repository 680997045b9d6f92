"""The header line: repositories, counts, sort order and the connection state."""

from __future__ import annotations

from typing import assert_never

from rich.text import Text
from textual.widgets import Static

from prdeck.services.deck import Budget
from prdeck.tui.view.cluster_link import ClusterLink, ClusterState
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
    cluster: ClusterLink,
    budget: Text | None = None,
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
    text.append_text(cluster_text(cluster))
    if budget is not None:
        text.append("   ")
        text.append_text(budget)
    return text


def budget_text(budget: Budget | None, stretched_to: float | None) -> Text | None:
    """GitHub's points left, shown only below a quarter of the limit (with the slower refresh, if any)."""
    if budget is None or not budget.low:
        return None
    text = Text(f"GitHub ▾ {budget.remaining}/{budget.limit} pts until {budget.reset_at.astimezone():%H:%M}",
                style="yellow")
    if stretched_to is not None:
        text.append(f" · refresh {stretched_to:.0f}s")
    return text


def cluster_text(link: ClusterLink) -> Text:
    """The cluster's part of the header: live, connecting, failing (it retries), or none and why."""
    match link.state:
        case ClusterState.LIVE:
            return Text("⎈ live", style="green")
        case ClusterState.CONNECTING:
            return Text("⎈ connecting…", style="yellow")
        case ClusterState.FAILING:
            return Text(f"⎈ ✖ {printable(link.why('cluster failing'))} — retrying", style="bold red")
        case ClusterState.NONE:
            return Text(f"⎈ no previews: {printable(link.why('no cluster'))}", style="dim")
        case unknown:
            assert_never(unknown)


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
