"""The header on a narrow terminal: whole phrases go, least useful first; nothing is cut mid-phrase."""

from __future__ import annotations

from prdeck.services.errors import PrdeckError
from prdeck.tui.view.cluster_link import ClusterLink
from prdeck.tui.view.connection import Connection
from prdeck.tui.view.header_fit import fit_header
from prdeck.tui.view.pull_query import Counts
from prdeck.tui.widgets.status_bar import status_text

REPOS = ["acme/storefront", "acme/docs"]
COUNTS = Counts(open=14, drafts=2, failing=4, previews=8)


def header(width: int, cluster: ClusterLink | None = None, query: str = "") -> str:
    link = cluster or ClusterLink().connecting().live()
    pieces = status_text(REPOS, COUNTS, 3, "updated", query, Connection().succeeded(), None, link)
    line = fit_header(pieces, width).plain
    assert len(line) <= width
    return line


def test_a_wide_terminal_shows_everything():
    assert header(200) == ("prdeck acme/storefront, acme/docs   14 open · 2 drafts · 4 failing · 8 previews   "
                           "sort: updated   ● live   ⎈ live")


def test_a_narrow_terminal_drops_whole_phrases_and_keeps_the_failing_count():
    line = header(80)
    assert "14 open" in line and "4 failing" in line and "● live" in line and "⎈ live" in line
    assert "2 drafts" not in line and "sort" not in line
    assert not line.endswith("· 8") and "…" not in line, "never cut mid-phrase"
    tiny = header(40)
    assert tiny.startswith("prdeck 2 repos") or "…" in tiny


def test_no_cluster_shortens_to_no_previews_before_the_counts_go():
    link = ClusterLink().none(PrdeckError("No Kubernetes cluster configured", "set cluster.kubeconfig"))
    line = header(120, link)
    assert "2 drafts" in line and "8 previews" in line and line.endswith("⎈ no previews")


def test_a_filter_keeps_its_count_of_rows_shown():
    assert "(3 shown)" in header(80, query="docs")


def test_previews_say_loading_until_the_cluster_answers():
    connecting = header(200, ClusterLink().connecting())
    assert "previews loading…" in connecting and "8 previews" not in connecting
    assert "8 previews" in header(200, ClusterLink().connecting().live())
