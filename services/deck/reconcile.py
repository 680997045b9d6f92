"""Reconcile (README, "Reconcile"): the previews should be exactly those of the open pull requests that match the
selectors, at their heads. Argo CD's pull-request generator, done by prdeck, for cron or CI.

The plan is pure, from the open pull requests (one GraphQL query per 100 per repository; one more per PR with
``--base``) and the previews (two list calls on the cluster):

- launch: a wanted PR without a preview, or whose preview runs another commit (stale), or lost its pods;
- destroy: a preview of one of the configured repositories whose PR is not wanted (closed, merged, a draft with
  ``--no-drafts``, without a selected label, on another base);
- skip: a fork PR is wanted only when its head SHA is the one a maintainer approved (the preview's
  ``prdeck.dev/approved-sha``); without that approval it is never launched, and a preview it has is left alone
  until someone approves the new head. Previews being deleted, asleep on purpose or with a launch under way are
  left alone too.

A second run right after a successful one finds nothing to do. Previews of unknown repositories are reap's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prdeck.services.deck.bulk import BulkResult, launch_parallel, run_each
from prdeck.services.models import Preview, PullRequest, RepoRef

if TYPE_CHECKING:
    from prdeck.services.deck.caps import Caps
    from prdeck.services.github.service import GitHubService
    from prdeck.services.kube.service import ClusterService

UNDER_WAY = frozenset({"queued", "building", "pushing", "deploying", "terminating"})
NEEDS_LAUNCH = frozenset({"empty", "failed", "interrupted"})
"""Without pods: a failed or cut-off launch; a wanted PR's preview in these states is launched again."""


@dataclass(frozen=True)
class Selectors:
    labels: tuple[str, ...] = ()
    """Every one of these labels (case-insensitive)."""
    drafts: bool = True
    base: str | None = None
    associations: tuple[str, ...] = ()
    """The authors' relations to the repository to keep (OWNER, MEMBER, COLLABORATOR, ...); empty: any."""


@dataclass(frozen=True)
class ReconcileItem:
    action: str
    """launch, destroy or skip."""
    repo: RepoRef
    number: int
    reason: str
    namespace: str | None = None
    head_sha: str | None = None
    approved_sha: str | None = None

    @property
    def key(self) -> str:
        return f"{self.repo}#{self.number}"

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "repo": self.repo.full_name, "number": self.number,
                "namespace": self.namespace, "head_sha": self.head_sha, "reason": self.reason}


@dataclass(frozen=True)
class ReconcilePlan:
    items: tuple[ReconcileItem, ...]
    kept: int

    def of(self, action: str) -> list[ReconcileItem]:
        return [item for item in self.items if item.action == action]

    @property
    def changes(self) -> list[ReconcileItem]:
        return [item for item in self.items if item.action != "skip"]

    def to_json(self) -> dict[str, Any]:
        return {**{action: [item.to_json() for item in self.of(action)] for action in ("launch", "destroy", "skip")},
                "kept": self.kept}


def unwanted(pull: PullRequest, selectors: Selectors, base: str | None) -> str | None:
    """Why ``pull`` does not match the selectors (None: it does); ``base`` its base branch when asked for."""
    if pull.draft and not selectors.drafts:
        return "a draft (--no-drafts)"
    have = {label.lower() for label in pull.labels}
    missing = [label for label in selectors.labels if label.lower() not in have]
    if missing:
        return f"without the label {missing[0]!r}"
    if selectors.base is not None and base != selectors.base:
        return f"based on {base!r}, not {selectors.base!r}"
    if selectors.associations and pull.association.upper() not in selectors.associations:
        return f"by a {(pull.association or 'unknown').lower().replace('_', ' ')} (--association)"
    return None


def plan_reconcile(pulls: Iterable[PullRequest], previews: Iterable[Preview], repos: Sequence[RepoRef],
                   selectors: Selectors, base_of: Callable[[PullRequest], str | None] = lambda _pull: None,
                   ) -> ReconcilePlan:
    ours = {(p.repo, p.number): p for p in previews if p.known and p.repo in repos}
    items: list[ReconcileItem] = []
    kept = 0
    seen: set[tuple[RepoRef, int]] = set()
    for pull in pulls:
        key = (pull.repo, pull.number)
        seen.add(key)
        preview = ours.get(key)
        why = unwanted(pull, selectors, base_of(pull) if selectors.base is not None else None)
        namespace = preview.namespace if preview is not None else None
        if why is not None:
            if preview is not None and preview.state != "terminating":
                items.append(ReconcileItem("destroy", pull.repo, pull.number, why, namespace))
            continue
        approved = preview.approved_sha if preview is not None else None
        if pull.fork and approved != pull.head_sha:
            reason = ("fork: its head is not approved (launch it once with --approve-sha)" if preview is None else
                      f"fork: the new head {pull.head_sha[:12]} is not approved; its preview is left as it is")
            items.append(ReconcileItem("skip", pull.repo, pull.number, reason, namespace, pull.head_sha))
            continue
        if preview is None:
            items.append(ReconcileItem("launch", pull.repo, pull.number, "no preview", None, pull.head_sha, approved))
        elif preview.state in UNDER_WAY or preview.state == "asleep":
            what = "asleep (prdeck wake wakes it)" if preview.state == "asleep" else f"{preview.state}: left alone"
            items.append(ReconcileItem("skip", pull.repo, pull.number, what, namespace, pull.head_sha))
        elif preview.state in NEEDS_LAUNCH or preview.deployed_sha != pull.head_sha:
            reason = (f"{preview.state}, no pods" if preview.state in NEEDS_LAUNCH else
                      f"stale: runs {(preview.deployed_sha or '?')[:12]}, the head is {pull.head_sha[:12]}")
            items.append(ReconcileItem("launch", pull.repo, pull.number, reason, namespace, pull.head_sha, approved))
        else:
            kept += 1
    for key, preview in sorted(ours.items(), key=lambda entry: (str(entry[0][0]), entry[0][1])):
        if key not in seen and preview.state != "terminating":
            items.append(ReconcileItem("destroy", preview.repo, preview.number, "the pull request is not open",
                                       preview.namespace))
    return ReconcilePlan(tuple(items), kept)


class ReconcileActions:
    """Mixed into :class:`prdeck.services.deck.deck.Deck` (which provides the attributes declared here)."""

    _github: GitHubService
    repos: tuple[RepoRef, ...]
    caps: Caps

    def _require_cluster(self) -> ClusterService:
        raise NotImplementedError

    def reconcile_plan(self, selectors: Selectors) -> ReconcilePlan:
        """What reconcile would do; nothing changes (two list calls on the cluster, one GraphQL query per 100 open
        PRs, and with ``selectors.base`` one per open PR)."""
        previews = self._require_cluster().previews()
        pulls = [pull for repo in self.repos for page in self._github.open_pull_pages(repo) for pull in page]
        return plan_reconcile(pulls, previews, self.repos, selectors,
                              lambda pull: self._github.pull_detail(pull.repo, pull.number).base_branch)

    def reconcile(self, plan: ReconcilePlan,
                  on_result: Callable[[BulkResult], None] = lambda _result: None) -> list[BulkResult]:
        """Carry ``plan`` out: the destroys first (they free places under ``preview.max_previews``), then the
        launches (waited for), ``preview.max_parallel_launches`` at a time; a result per PR."""
        deck: Any = self  # the Deck this is mixed into: its launch, find_preview and destroy
        items = {(item.repo, item.number): item for item in plan.changes}

        def destroy(repo: RepoRef, number: int) -> tuple[str, str | None]:
            preview = deck.find_preview(repo, number)
            for _line in deck.destroy(preview):
                pass
            return f"destroyed ({items[repo, number].reason})", preview.namespace

        def launch(repo: RepoRef, number: int) -> tuple[str, str | None]:
            item = items[repo, number]
            result = deck.launch(repo, number, lambda _event: None, expected_sha=item.head_sha,
                                 approved_sha=item.approved_sha)
            return f"launched {result.sha[:12]}: {result.url or 'no public URL'}", result.namespace

        destroys = [(item.repo, item.number) for item in plan.of("destroy")]
        launches = [(item.repo, item.number) for item in plan.of("launch")]  # the deck's queue keeps the cap
        return [*run_each("destroy", destroys, destroy, self.caps.max_parallel_launches, on_result),
                *run_each("launch", launches, launch, launch_parallel(len(launches)), on_result)]
