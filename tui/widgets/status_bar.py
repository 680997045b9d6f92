"""The header line: repositories, counts, sort order and the connection state."""

from __future__ import annotations

from typing import assert_never

from rich.text import Text
from textual.widget import Widget

from prdeck.services.deck import Budget
from prdeck.tui.view.cluster_link import ClusterLink, ClusterState
from prdeck.tui.view.connection import Connection
from prdeck.tui.view.header_fit import Piece, fit_header
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
) -> list[Piece]:
    """The header's phrases; :func:`fit_header` drops the least useful ones on a narrow terminal."""
    names = printable(", ".join(repos))
    pieces = [Piece(Text.assemble(("prdeck ", "bold"), (names, "magenta")),
                    drop=5, short=Text.assemble(("prdeck ", "bold"), (f"{len(repos)} repos", "magenta")))]
    if counts is not None:
        failing = Text(f"{counts.failing} failing", style="red" if counts.failing else "")
        previews = "previews loading…" if cluster.state is ClusterState.CONNECTING else f"{counts.previews} previews"
        pieces += [
            Piece(Text(f"{counts.open} open")),
            Piece(Text(f"{counts.drafts} drafts"), " · ", drop=2),
            Piece(failing, " · "),
            Piece(Text(previews), " · ", drop=4),
        ]
        if query:
            pieces.append(Piece(Text(f"filter: {printable(query)} ({shown} shown)", style="yellow"),
                                short=Text(f"({shown} shown)", style="yellow"), drop=6))
        pieces.append(Piece(Text(f"sort: {sort}", style="dim"), drop=3))
    pieces.append(Piece(connection_text(connection, retry_in)))
    pieces.append(Piece(cluster_text(cluster), short=cluster_text(cluster, short=True), drop=1))
    if budget is not None:  # GitHub's points are running out: this one stays on a narrow terminal
        pieces.append(Piece(budget))
    return pieces


def budget_text(budget: Budget | None, stretched_to: float | None) -> Text | None:
    """GitHub's points left, shown only below a quarter of the limit (with the slower refresh, if any)."""
    if budget is None or not budget.low:
        return None
    text = Text(f"GitHub ▾ {budget.remaining}/{budget.limit} pts until {budget.reset_at.astimezone():%H:%M}",
                style="yellow")
    if stretched_to is not None:
        text.append(f" · refresh {stretched_to:.0f}s")
    return text


def cluster_text(link: ClusterLink, short: bool = False) -> Text:
    """The cluster's part of the header: live, connecting, failing (it retries), or none and why (not when short)."""
    if short and link.state in (ClusterState.FAILING, ClusterState.NONE):
        failing = link.state is ClusterState.FAILING
        return Text("⎈ ✖ failing" if failing else "⎈ no previews", style="bold red" if failing else "dim")
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


class StatusBar(Widget):
    """One line at the top; the screen passes it fresh phrases whenever something changes."""

    DEFAULT_CSS = "StatusBar { height: 1; }"
    text = Text()
    """The whole line, as on a terminal wide enough for it."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._pieces: list[Piece] = []

    def show(self, pieces: list[Piece]) -> None:
        self._pieces = pieces
        self.text = fit_header(pieces, 10_000)
        self.refresh()

    def render(self) -> Text:
        return fit_header(self._pieces, max(self.content_region.width, 1))
