"""``prdeck reconcile``: the previews become those of the open PRs that match the selectors (README, "Reconcile"),
for cron or a CI job. No question is asked: ``--dry-run`` shows the plan first."""

from __future__ import annotations

import argparse
import json
from typing import Any

from prdeck.services.deck import Deck
from prdeck.services.deck.bulk import BulkResult
from prdeck.services.deck.reconcile import ReconcilePlan, Selectors
from prdeck.tui.cli.bulk import result_line
from prdeck.tui.view.safe_text import printable


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    reconcile = sub.add_parser(
        "reconcile", parents=[common], help="launch the previews open PRs should have, destroy the others",
        description="Make the previews those of the open pull requests that match the selectors, at their heads: "
        "launch missing or stale ones, destroy those no longer wanted (of the configured repositories only). "
        "Fork PRs only at the head SHA a maintainer approved. Exit status 1 when something failed.",
    )
    reconcile.add_argument("--label", action="append", default=[], metavar="LABEL",
                           help="only PRs with this label (repeat: with every one of them)")
    reconcile.add_argument("--no-drafts", action="store_true", help="leave out draft PRs")
    reconcile.add_argument("--base", metavar="BRANCH", help="only PRs into this base branch")
    reconcile.add_argument("--association", action="append", default=[], metavar="ASSOCIATION",
                           type=_association, help="only PRs whose author is this to the repository (OWNER, MEMBER, "
                           "COLLABORATOR, CONTRIBUTOR, ...; repeat or separate with commas for several)")
    reconcile.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    reconcile.add_argument("--json", action="store_true", help="print the plan (and the results) as JSON")


ASSOCIATIONS = ("OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER",
                "MANNEQUIN", "NONE")


def _association(text: str) -> tuple[str, ...]:
    names = tuple(part.strip().upper().replace("-", "_") for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in ASSOCIATIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"{text!r}: use {', '.join(ASSOCIATIONS)}")
    return names


def plan_text(plan: ReconcilePlan) -> str:
    if not plan.changes:
        lines = [f"Nothing to do ({plan.kept} preview{'s' if plan.kept != 1 else ''} up to date)."]
    else:
        lines = [f"{len(plan.of('launch'))} to launch, {len(plan.of('destroy'))} to destroy, {plan.kept} up to date:"]
    for item in plan.items:
        lines.append(f"  {item.action:<8} {printable(item.key):<32} {printable(item.reason)}")
    return "\n".join(lines)


def run(deck: Deck, args: argparse.Namespace) -> int:
    selectors = Selectors(tuple(args.label), drafts=not args.no_drafts, base=args.base,
                          associations=tuple(name for names in args.association for name in names))
    plan = deck.reconcile_plan(selectors)
    if args.dry_run or not plan.changes:
        print(json.dumps({**plan.to_json(), "results": [], "dry_run": bool(args.dry_run)}, indent=2) if args.json
              else plan_text(plan))
        return 0
    if not args.json:
        print(plan_text(plan), flush=True)

    def said(result: BulkResult) -> None:
        if not args.json:
            print(result_line(result), flush=True)

    results = deck.reconcile(plan, said)
    if args.json:
        print(json.dumps({**plan.to_json(), "results": [r.to_json() for r in results], "dry_run": False}, indent=2))
    return 1 if any(not result.ok for result in results) else 0
