"""Several pull requests in one command: ``prdeck destroy 101 102 --yes``, ``prdeck launch 101 102``,
``prdeck extend/pin/unpin/sleep/wake 101 102``.

They run side by side, ``preview.max_parallel_launches`` at a time; each gets a line (``ok`` or ``FAIL``, the PR,
what happened), or with ``--json`` an array of result objects. Exit status 1 when any failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable

from prdeck.services.deck import Deck
from prdeck.services.deck.bulk import BulkResult, BulkStep, launch_parallel, run_each
from prdeck.services.errors import UsageError
from prdeck.services.models import LaunchEvent, RepoRef
from prdeck.tui.cli import commands
from prdeck.tui.view.safe_text import printable


def targets(deck: Deck, refs: list[str]) -> list[tuple[RepoRef, int]]:
    """The pull requests the arguments name, each once, in order (a bad one is a usage error before any acts)."""
    return list(dict.fromkeys(commands.pull_of(deck, ref) for ref in refs))


def result_line(result: BulkResult) -> str:
    return f"{'ok  ' if result.ok else 'FAIL'} {result.key}  {printable(result.text)}"


def run(deck: Deck, args: argparse.Namespace, step: BulkStep, *, parallel: int | None = None) -> int:
    """``step`` on every PR of ``args.pull``; a line per PR as each ends (stdout), or the JSON array at the end."""
    found = targets(deck, args.pull)
    lock = threading.Lock()

    def said(result: BulkResult) -> None:
        if not args.json:
            with lock:
                print(result_line(result), flush=True)

    results = run_each(args.command, found, step, parallel or deck.caps.max_parallel_launches, said)
    if args.json:
        print(json.dumps([result.to_json() for result in results], indent=2))
    failed = sum(not result.ok for result in results)
    if len(results) > 1 and not args.json:
        print(f"{len(results) - failed} of {len(results)} done" + (f", {failed} failed." if failed else "."),
              file=sys.stderr)
    return 1 if failed else 0


def destroy(deck: Deck, args: argparse.Namespace) -> int:
    """Destroy several previews after one question listing them (or ``--yes``)."""
    found = targets(deck, args.pull)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("Refusing to destroy without confirmation", "input is not a terminal; add --yes")
        print(f"Destroy {len(found)} previews?")
        for repo, number in found:
            print(f"  {repo}#{number}")
        if input("[y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing destroyed.")
            return 1

    def step(repo: RepoRef, number: int) -> tuple[str, str | None]:
        preview = deck.find_preview(repo, number)
        for _line in deck.destroy(preview):
            pass
        return f"destroyed ({preview.namespace})", preview.namespace

    return run(deck, args, step)


def launch(deck: Deck, args: argparse.Namespace, wait: bool, err: Callable[[str], None]) -> int:
    """Launch several PRs; their progress goes to stderr, a line each prefixed by the PR."""

    def step(repo: RepoRef, number: int) -> tuple[str, str | None]:
        def show(event: LaunchEvent) -> None:
            if event.kind == "step" and event.state != "running":
                err(f"[{repo}#{number}] {event.step} {event.state}" + (f": {printable(event.text)}" if event.text
                                                                        else ""))
            elif event.step == "queue":  # waiting for one of the preview.max_parallel_launches places
                err(f"[{repo}#{number}] {printable(event.text)}")

        result = deck.launch(repo, number, show, approved_sha=None, wait=wait, rollout_timeout=args.timeout)
        state = "ready" if wait else "deploying"
        return f"{state}: {result.url or 'no public URL (prdeck open relays it)'}", result.namespace

    return run(deck, args, step, parallel=launch_parallel(len(args.pull)))
