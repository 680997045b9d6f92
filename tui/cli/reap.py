"""``prdeck reap``: remove what leaks (README, "Reaping"), for a terminal, cron or a scheduled CI job."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from prdeck.services.deck import Deck
from prdeck.services.deck.lifecycle import duration
from prdeck.services.deck.reap import ReapPlan, ReapResult
from prdeck.services.errors import UsageError
from prdeck.tui.view.safe_text import printable


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    reap = sub.add_parser(
        "reap", parents=[common], help="remove previews of closed PRs, expired ones, orphans, empty namespaces",
        description="Remove the previews of pull requests that are not open, expired unpinned previews, orphans "
        "and namespaces without pods older than preview.empty_grace_hours; mark their GitHub deployments inactive "
        "and delete their registry tags. Exit status 0: nothing left to reap; 1: something failed.",
    )
    reap.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    reap.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation (cron, CI)")
    reap.add_argument("--json", action="store_true", help="print the plan (and what was done) as JSON")
    reap.add_argument("--older-than", metavar="DURATION",
                      help="also remove unpinned previews whose namespace is older than this: 7d, 48h")
    reap.add_argument("--sleep-idle", metavar="DURATION",
                      help="put to sleep unpinned previews not launched or woken for this long: 12h, 2d "
                      "(config: preview.idle_sleep_hours)")


def plan_text(plan: ReapPlan) -> str:
    if plan.empty:
        return f"Nothing to reap ({plan.kept} preview{'s' if plan.kept != 1 else ''} kept)."
    asleep = f", {len(plan.sleep)} of them to put to sleep" if plan.sleep else ""
    lines = [f"{len(plan.remove)} to remove, {plan.kept} kept{asleep}:"]
    for verb, items in (("remove", plan.remove), ("sleep", plan.sleep)):
        for item in items:
            name = printable(item.preview.key)
            lines.append(f"  {verb:<6} {name:<32} {item.preview.namespace:<48} {item.preview.state:<11} "
                         f"{printable(item.reason)}")
    return "\n".join(lines)


def run(deck: Deck, args: argparse.Namespace) -> int:
    older = duration(args.older_than) if args.older_than else None
    idle = duration(args.sleep_idle) if args.sleep_idle else None
    plan = deck.reap_plan(older, idle)
    if args.dry_run or plan.empty:
        shape = plan.to_json() if args.dry_run else ReapResult(plan).to_json()  # the same keys as after a reap
        print(json.dumps({**shape, "dry_run": bool(args.dry_run)}, indent=2) if args.json else plan_text(plan))
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("Refusing to reap without confirmation", "input is not a terminal; add --yes")
        print(plan_text(plan))
        question = f"Remove {len(plan.remove)}" + (f", put {len(plan.sleep)} to sleep" if plan.sleep else "")
        if input(f"{question}? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing removed.")
            return 1
    elif not args.json:
        print(plan_text(plan), flush=True)
    result = deck.reap(plan, on_line=(lambda _line: None) if args.json else
                       (lambda line: print(printable(line), flush=True)))
    if args.json:
        print(json.dumps({**result.to_json(), "dry_run": False}, indent=2))
    else:
        for warning in result.warnings:
            print(f"warning: {printable(warning)}", file=sys.stderr)
        for error in result.errors:
            print(f"prdeck: {printable(error)}", file=sys.stderr)
        slept = f"{len(result.slept)} put to sleep; " if plan.sleep else ""
        print(f"Reaped {len(result.removed)} of {len(plan.remove)}; {slept}{result.deployments} GitHub deployment(s) "
              f"marked inactive; {len(result.tags)} registry tag(s) deleted.")
    return 1 if result.errors else 0
