"""``prdeck extend``, ``pin``, ``unpin``, ``sleep`` and ``wake``: a preview's life from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from prdeck.services.deck import Deck
from prdeck.services.deck.lifecycle import duration
from prdeck.services.models import Preview, RepoRef
from prdeck.tui.cli import commands
from prdeck.tui.view.formatting import expiry_text

COMMANDS = ("extend", "pin", "unpin", "sleep", "wake", "reap", "reconcile")


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    extend = sub.add_parser(
        "extend", parents=[common], help="push a preview's expiry back (by preview.ttl_hours, or --for)",
        description="Extend a pull request's preview: it expires later by the TTL (preview.ttl_hours) or --for, "
        "counted from its current expiry (or from now, once past).",
    )
    extend.add_argument("pull", metavar="PR", nargs="+", help="one or more")
    extend.add_argument("--json", action="store_true", help="print a JSON array: one result object per PR")
    extend.add_argument("--for", dest="for_", metavar="DURATION", help="how much longer: 90m, 24h, 3d, 1w")
    for name, text in (("pin", "keep a preview until unpinned (it never expires; reap leaves it alone)"),
                       ("unpin", "let a pinned preview expire again (a TTL from now at the earliest)"),
                       ("sleep", "scale a preview's workloads to zero; its namespace, objects and URL stay"),
                       ("wake", "scale an asleep preview back up (no build: the same images)")):
        parser = sub.add_parser(name, parents=[common], help=text, description=text[0].upper() + text[1:] + ".")
        parser.add_argument("pull", metavar="PR", nargs="+", help="one or more")
        parser.add_argument("--json", action="store_true", help="print a JSON array: one result object per PR")


def run(deck: Deck, args: argparse.Namespace) -> int:
    """Run one of :data:`COMMANDS` on the preview the PR names (found where it is, by its labels)."""
    if args.command == "reap":
        from prdeck.tui.cli.reap import run as run_reap

        return run_reap(deck, args)
    if args.command == "reconcile":
        from prdeck.tui.cli.reconcile import run as run_reconcile

        return run_reconcile(deck, args)
    if len(args.pull) > 1 or args.json:
        from prdeck.tui.cli import bulk

        def step(repo: RepoRef, number: int) -> tuple[str, str | None]:
            preview = deck.find_preview(repo, number)
            return _act(deck, preview, args), preview.namespace

        return bulk.run(deck, args, step)
    repo, number = commands.pull_of(deck, args.pull[0])
    preview = deck.find_preview(repo, number)
    print(f"Preview of {repo}#{number} ({preview.namespace}) {_act(deck, preview, args)}.")
    return 0


def _act(deck: Deck, preview: Preview, args: argparse.Namespace) -> str:
    if args.command == "extend":
        expires = deck.extend(preview, duration(args.for_) if args.for_ else None)
        return f"expires {expiry_text(expires)}" + (" (pinned: never, until unpinned)" if preview.pinned else "")
    if args.command == "pin":
        deck.pin(preview)
        return "pinned: it never expires; `prdeck unpin` lets it expire again"
    if args.command == "unpin":
        return f"unpinned: expires {expiry_text(deck.unpin(preview))}"
    if args.command == "sleep":
        return f"asleep: {_count(deck.sleep(preview))} scaled to zero; `prdeck wake` brings it back"
    return f"waking: {_count(deck.wake(preview))} scaled back (no rebuild)"


def _count(workloads: int) -> str:
    return f"{workloads} workload{'s' if workloads != 1 else ''}"
