"""Reap: what leaks goes, from cron, CI or the TUI (README, "Reaping").

The plan is pure: from the previews (two list calls on the cluster) and the open pull requests (one GraphQL query
per 100 per repository) it picks, among the previews of the deck's repositories and those of no known repository:

- the previews of pull requests that are not open (closed, merged or gone), pinned or not;
- expired previews that are not pinned;
- with ``older_than``: unpinned previews whose namespace is older than that;
- namespaces without pods (``empty``, a failed launch's) older than the grace period, and those of an unknown
  repository older than it (someone may be launching one right now).

Carrying it out deletes each namespace (404 and 409 "being deleted" count as done: two reaps at once both finish),
marks the PR's GitHub deployments inactive, deletes its registry tags ``pr-<n>-*``, and forgets its launch
journal entries. Nothing without prdeck's labels is ever listed, so nothing else can be touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prdeck.services.errors import PrdeckError
from prdeck.services.models import Preview, RepoRef

NO_PODS_STATES = frozenset({"empty", "failed", "interrupted"})
"""Without pods, these are leftovers; ``building``/``pushing`` are launches under way, ``asleep`` is on purpose."""
PARALLEL = 8


@dataclass(frozen=True)
class ReapPolicy:
    """Config ``preview.empty_grace_hours`` and the registry whose tags go (None: tags stay, with a warning)."""

    grace: timedelta = timedelta(hours=1)
    registry: Any = None
    """A :class:`prdeck.services.launch.registry_tags.RegistryTarget`, or None."""
    idle: timedelta | None = None
    """``preview.idle_sleep_hours``: previews not launched or woken for this long are put to sleep (None: never)."""


@dataclass(frozen=True)
class ReapItem:
    preview: Preview
    reason: str

    def to_json(self) -> dict[str, Any]:
        known = self.preview.known
        return {"repo": self.preview.repo.full_name if known else None,
                "number": self.preview.number if known else None, "namespace": self.preview.namespace,
                "state": self.preview.state, "pinned": self.preview.pinned, "reason": self.reason}


@dataclass(frozen=True)
class ReapPlan:
    remove: tuple[ReapItem, ...]
    kept: int
    sleep: tuple[ReapItem, ...] = ()
    """Kept previews idle for longer than the idle time: scaled to zero (kept, and counted in ``kept``)."""

    @property
    def empty(self) -> bool:
        return not self.remove and not self.sleep

    def to_json(self) -> dict[str, Any]:
        return {"remove": [item.to_json() for item in self.remove], "sleep": [item.to_json() for item in self.sleep],
                "kept": self.kept}


@dataclass
class ReapResult:
    plan: ReapPlan
    removed: list[str] = field(default_factory=list)
    """Namespaces deleted (or found being deleted by someone else)."""
    deployments: int = 0
    slept: list[str] = field(default_factory=list)
    """Namespaces put to sleep for being idle."""
    tags: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**self.plan.to_json(), "removed": self.removed, "deployments_inactive": self.deployments,
                "slept": self.slept, "tags_deleted": self.tags, "warnings": self.warnings, "errors": self.errors}


def _age(preview: Preview, now: datetime) -> timedelta | None:
    return now - preview.created_at if preview.created_at is not None else None


def _reason(preview: Preview, open_pulls: set[tuple[RepoRef, int]], now: datetime, policy: ReapPolicy,
            older_than: timedelta | None) -> str | None:
    age = _age(preview, now)
    if not preview.known:
        return "unknown pull request (no readable repository)" if age is not None and age > policy.grace else None
    if (preview.repo, preview.number) not in open_pulls:
        return "pull request not open (closed, merged or gone)"
    if preview.pinned:
        return None
    if preview.expires_at is not None and preview.expires_at <= now:
        return "expired"
    if older_than is not None and age is not None and age > older_than:
        return f"older than {_span(older_than)}"
    if not preview.pods and preview.state in NO_PODS_STATES and age is not None and age > policy.grace:
        return f"{preview.state} (no pods) for more than {_span(policy.grace)}"
    return None


def _span(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d" if hours and hours % 24 == 0 else f"{hours}h" if hours else f"{delta.seconds // 60}m"


def plan_reap(previews: Iterable[Preview], repos: Iterable[RepoRef], open_pulls: set[tuple[RepoRef, int]],
              now: datetime, policy: ReapPolicy, older_than: timedelta | None = None) -> ReapPlan:
    """What goes (pure): previews of ``repos`` and of no known repository; terminating ones are already going.
    With ``policy.idle``, kept previews idle for longer are put to sleep."""
    wanted = set(repos)
    remove, sleep, kept = [], [], 0
    for preview in previews:
        if preview.state == "terminating" or (preview.known and preview.repo not in wanted):
            continue
        reason = _reason(preview, open_pulls, now, policy, older_than)
        if reason is not None:
            remove.append(ReapItem(preview, reason))
            continue
        kept += 1
        if policy.idle is not None and _idle(preview, now, policy.idle):
            sleep.append(ReapItem(preview, f"idle: not launched or woken for more than {_span(policy.idle)}"))
    return ReapPlan(tuple(remove), kept, tuple(sleep))


NOT_IDLE_STATES = frozenset({"asleep", "terminating", "queued", "building", "pushing"})


def _idle(preview: Preview, now: datetime, idle: timedelta) -> bool:
    """Running pods, not pinned, and its last launch or wake (else its namespace's creation) longer ago."""
    last = preview.active_at or preview.created_at
    return (preview.known and not preview.pinned and bool(preview.pods) and preview.state not in NOT_IDLE_STATES
            and last is not None and now - last > idle)


def carry_out(plan: ReapPlan, delete_namespace: Callable[[str], None],
              mark_inactive: Callable[[RepoRef, int, Callable[[str], None]], int],
              delete_tags: Callable[[list[tuple[RepoRef, int]], Callable[[str], None]], list[str]],
              forget: Callable[[str], None], on_line: Callable[[str], None] = lambda _l: None,
              sleep: Callable[[str], int] | None = None) -> ReapResult:
    """Remove what the plan says (namespaces in parallel), then tell GitHub and the registry; never raises for
    one preview: its failure is in ``errors`` and the others go on."""
    result = ReapResult(plan)

    def one(item: ReapItem) -> None:
        preview = item.preview
        try:
            delete_namespace(preview.namespace)
        except PrdeckError as exc:  # one preview's failure does not stop the others
            result.errors.append(f"{preview.namespace}: {exc.title}. {exc.detail}".strip())
            return
        result.removed.append(preview.namespace)
        forget(preview.namespace)
        on_line(f"deleted {preview.namespace} ({item.reason})")
        if preview.known:
            result.deployments += mark_inactive(preview.repo, preview.number, result.warnings.append)

    def asleep(item: ReapItem) -> None:
        try:
            if sleep is not None:
                sleep(item.preview.namespace)
        except PrdeckError as exc:
            result.errors.append(f"{item.preview.namespace}: {exc.title}. {exc.detail}".strip())
            return
        result.slept.append(item.preview.namespace)
        on_line(f"put {item.preview.namespace} to sleep ({item.reason})")

    with ThreadPoolExecutor(PARALLEL, thread_name_prefix="prdeck-reap") as pool:
        list(pool.map(one, plan.remove))
        list(pool.map(asleep, plan.sleep if sleep is not None else ()))
    result.slept.sort()
    gone = {item.preview.namespace for item in plan.remove} & set(result.removed)
    pulls = sorted({(item.preview.repo, item.preview.number) for item in plan.remove
                    if item.preview.known and item.preview.namespace in gone})
    if pulls:
        result.tags = delete_tags(pulls, result.warnings.append)
        for tag in result.tags:
            on_line(f"deleted registry tag {tag}")
    result.removed.sort()
    return result
