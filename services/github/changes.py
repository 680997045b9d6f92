"""Incremental refresh: after one full load, ask GitHub only for what changed, and keep the list exact.

A full load reads every open pull request (100 a page, about 2 points a page). A refresh then sends one
GraphQL request for all repositories (:func:`changes_query`):

- each repository's pull requests in any state, ``orderBy: UPDATED_AT DESC``, read until one is older than
  the newest ``updatedAt`` already known, or than GitHub's clock (``Date``) when the full load began, whichever
  is later, less :data:`OVERLAP` (answers served by a lagging replica).
  Opening, closing, merging, reopening, retitling, pushing, labelling, reviewing and draft toggling all bump
  ``updatedAt``; a closed or merged one leaves the list, an open one replaces its row;
- the ``statusCheckRollup`` of up to 100 head commits by node ID (``nodes(ids:)``, which costs nothing in
  GitHub's point formula): a CI status changes nothing on the pull request itself. First the heads whose CI
  is still running (or not started yet, after a recent push), then a rotating sweep over all the others, so
  with up to 100 open pull requests every rollup is checked on every refresh, and a finished rollup that
  changes again (a re-run) is seen within one sweep. More than 100 running heads take extra requests.

With five repositories and ``first: 10`` that request is 5 x (1 + 10 + 10) = 105 connection requests, which
GitHub rounds to 1 point. A full reload still runs on ``r`` and every :data:`FULL_RELOAD_SECONDS`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from prdeck.services.github.graphql import load_query
from prdeck.services.github.service import GitHubService, github_errors, head_commit_id, pull_from_node
from prdeck.services.models import PullRequest, RepoRef

CHANGES_PAGE = 10
"""Pull requests per repository per changes page: 1 point for five repositories (see the module docstring)."""
MAX_IDS = 100
"""GitHub's limit of IDs in one ``nodes(ids:)``."""
OVERLAP = timedelta(seconds=60)
"""How far before the newest known ``updatedAt`` a refresh reads again (replica lag on GitHub's side)."""
FULL_RELOAD_SECONDS = 30 * 60
RUNNING = frozenset({"PENDING", "EXPECTED"})
RECENT = timedelta(hours=1)
"""A head with no CI at all is watched this long after its pull request's update (CI may not have started)."""

_BLOCK_START = "  repo0: repository("


@cache
def changes_query(repositories: int) -> str:
    """``pull_request_changes.graphql`` with its ``repo0`` block repeated for ``repositories`` repositories."""
    text = load_query("pull_request_changes")
    start = text.index(_BLOCK_START)
    end = text.index("\n  }\n", start) + len("\n  }\n")
    block = text[start:end]
    blocks = "".join(_numbered(block, i) for i in range(repositories))
    variables = ", ".join(_numbered("$owner0: String!, $name0: String!, $after0: String", i)
                          for i in range(repositories))
    head = text[:start].replace(", $owner0: String!, $name0: String!, $after0: String",
                                f", {variables}" if variables else "")
    tail = text[end:]
    if not repositories:  # the rollups alone: no page size, no pull request fragment
        head = head.replace("$first: Int!, ", "")
        tail = tail[:tail.index("\nfragment ")] + "\n"
    return head + blocks + tail


def _numbered(text: str, index: int) -> str:
    return text.replace("repo0:", f"repo{index}:").replace("$owner0", f"$owner{index}").replace(
        "$name0", f"$name{index}").replace("$after0", f"$after{index}")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class PullTracker:
    """The open pull requests of some repositories, kept current by :meth:`refresh` after :meth:`full_pages`."""

    def __init__(self, github: GitHubService, repos: Sequence[RepoRef], *, overlap: timedelta = OVERLAP) -> None:
        self._github = github
        self._overlap = overlap
        self.repos = tuple(repos)
        self._pulls: dict[RepoRef, dict[int, PullRequest]] = {}
        self._heads: dict[tuple[RepoRef, int], str] = {}
        self._newest: dict[RepoRef, datetime] = {}
        self._sweep = 0
        self.loaded_at: datetime | None = None
        """When the last full load finished (None: never)."""
        self.last_cost: int | None = None
        """Points the last incremental refresh cost (GitHub's ``rateLimit.cost``, summed over its requests)."""
        self.last_requests = 0
        self._lock = threading.Lock()  # a refresh left running by a cancelled worker vs the next load

    @property
    def loaded(self) -> bool:
        return self.loaded_at is not None

    def due_for_full(self, now: datetime) -> bool:
        return self.loaded_at is None or (now - self.loaded_at).total_seconds() >= FULL_RELOAD_SECONDS

    def pulls(self) -> list[PullRequest]:
        """Every open pull request, repositories in the configured order, each newest update first."""
        return [pull for repo in self.repos for pull in _ordered(self._pulls.get(repo, {}).values())]

    # full load ----------------------------------------------------------------------------------------
    def full_pages(self) -> Iterator[list[PullRequest]]:
        """Read everything again, page by page; the tracker switches to the new state once all pages are in."""
        pulls: dict[RepoRef, dict[int, PullRequest]] = {}
        heads: dict[tuple[RepoRef, int], str] = {}
        began: datetime | None = None
        for repo in self.repos:
            pulls[repo] = {}
            for page in self._github.open_pull_pages(repo, heads):
                began = began or self._github.server_time
                pulls[repo].update((pull.number, pull) for pull in page)
                yield page
        # Every change before the first answer is in what was read; later ones are for the next refresh.
        floor = began or _EPOCH
        with self._lock:
            self._pulls, self._heads = pulls, heads
            self._newest = {repo: max([floor, *(p.updated_at for p in pulls[repo].values())])
                            for repo in self.repos}
            self.loaded_at = datetime.now(UTC)

    # incremental refresh ------------------------------------------------------------------------------
    def refresh(self) -> list[PullRequest]:
        """Apply what changed since the last load or refresh; returns :meth:`pulls`."""
        if not self.loaded:
            for _ in self.full_pages():
                pass
            return self.pulls()
        with self._lock:
            return self._refresh()

    def _refresh(self) -> list[PullRequest]:
        chunks = self._head_chunks(datetime.now(UTC))
        pending: dict[RepoRef, str | None] = {repo: None for repo in self.repos}  # repo -> after cursor
        since = {repo: self._newest[repo] - self._overlap for repo in self.repos}
        seen = dict(self._newest)  # committed per repository once its pages are all read (a failure re-reads)
        cost = requests = 0
        first_heads = chunks.pop(0) if chunks else []
        while pending or first_heads or chunks:
            heads = first_heads or (chunks.pop(0) if chunks else [])
            first_heads = []
            data = self._changes(list(pending.items()), heads)
            requests += 1
            cost += int((data.get("rateLimit") or {}).get("cost") or 0)
            self._apply_rollups(data["heads"])
            for index, (repo, _after) in enumerate(list(pending.items())):
                more = self._apply_changes(repo, data[f"repo{index}"]["pullRequests"], since[repo], seen)
                if more is None:
                    self._newest[repo] = seen[repo]
                    del pending[repo]
                else:
                    pending[repo] = more
        self.last_cost, self.last_requests = cost, requests
        return self.pulls()

    def _changes(self, repos: list[tuple[RepoRef, str | None]], heads: list[str]) -> dict[str, Any]:
        variables: dict[str, Any] = {"heads": heads} | ({"first": CHANGES_PAGE} if repos else {})
        for index, (repo, after) in enumerate(repos):
            variables |= {f"owner{index}": repo.owner, f"name{index}": repo.name, f"after{index}": after}
        names = ", ".join(str(repo) for repo, _ in repos) or "CI states"
        with github_errors(self._github.api_url, f"refreshing {names}"):
            return self._github.graphql(changes_query(len(repos)), variables)

    def _apply_changes(
        self, repo: RepoRef, connection: dict[str, Any], since: datetime, seen: dict[RepoRef, datetime]
    ) -> str | None:
        """Fold one page of changed pull requests in (``seen``: the newest ``updatedAt`` read); returns the cursor
        of the next page to read, if any."""
        known = self._pulls.setdefault(repo, {})
        older_seen = False
        for node in connection["nodes"]:
            updated = _parse_time(node["updatedAt"])
            if updated < since:
                older_seen = True
                break
            seen[repo] = max(seen[repo], updated)
            number = node["number"]
            if node["state"] == "OPEN":
                known[number] = pull_from_node(repo, node)
                commit_id = head_commit_id(node)
                if commit_id is not None:
                    self._heads[repo, number] = commit_id
            else:
                known.pop(number, None)
                self._heads.pop((repo, number), None)
        page = connection["pageInfo"]
        return page["endCursor"] if page["hasNextPage"] and not older_seen else None

    def _apply_rollups(self, nodes: list[dict[str, Any] | None]) -> None:
        states = {node["id"]: (node.get("statusCheckRollup") or {}).get("state") for node in nodes if node}
        for (repo, number), commit_id in self._heads.items():
            if commit_id in states:
                pull = self._pulls[repo][number]
                if pull.ci != states[commit_id]:
                    self._pulls[repo][number] = _with_ci(pull, states[commit_id])

    def _head_chunks(self, now: datetime) -> list[list[str]]:
        """Head commit IDs to check, 100 a request: the running ones, then the sweep fills the last request."""
        watched: list[str] = []
        others: list[str] = []
        for (repo, number), commit_id in self._heads.items():
            pull = self._pulls[repo][number]
            running = pull.ci in RUNNING or (pull.ci is None and now - pull.updated_at < RECENT)
            (watched if running else others).append(commit_id)
        chunks = [watched[i:i + MAX_IDS] for i in range(0, len(watched), MAX_IDS)] or [[]]
        room = MAX_IDS - len(chunks[-1])
        if others and room:
            start = self._sweep % len(others)
            swept = (others[start:] + others[:start])[:room]
            self._sweep = start + len(swept)
            chunks[-1] = chunks[-1] + swept
        return [chunk for chunk in chunks if chunk]


_EPOCH = datetime.fromtimestamp(0, UTC)


def _ordered(pulls: Any) -> list[PullRequest]:
    return sorted(pulls, key=lambda pull: (pull.updated_at, pull.number), reverse=True)


def _with_ci(pull: PullRequest, ci: str | None) -> PullRequest:
    return replace(pull, ci=ci)
