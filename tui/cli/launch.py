"""``prdeck launch``, ``prdeck render`` and ``prdeck open``: the launch pipeline from the command line."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prdeck.services.deck import Deck
from prdeck.services.errors import NotFound, UsageError
from prdeck.services.models import LaunchEvent
from prdeck.tui.cli import commands
from prdeck.tui.cli.interruption import Interruption, safe_printer
from prdeck.tui.cli.yaml_out import dump_all
from prdeck.tui.view.safe_text import printable

if TYPE_CHECKING:
    from prdeck.services.launch.results import LaunchFailed

SANDBOX_BUILDS = "PRDECK_SANDBOX_BUILDS"


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    launch = sub.add_parser(
        "launch", parents=[common], help="build, push and deploy a pull request's preview",
        description="Fetch the PR head, build its images, push them, apply the preview and report to GitHub.",
    )
    launch.add_argument("pull", metavar="PR", nargs="+",
                        help="one or more (run side by side, preview.max_parallel_launches at a time)")
    launch.add_argument("--wait", action="store_true", help="wait until the preview is ready (the default for a TTY)")
    launch.add_argument("--timeout", type=int, metavar="S", help="rollout timeout in seconds (config: 300)")
    launch.add_argument("--json", action="store_true",
                        help="print the result as JSON (steps, images, URL); several PRs: an array, one per PR")
    launch.add_argument("--approve-sha", metavar="SHA", help="approve a fork PR's head SHA (refused if it moved)")
    render_parser = sub.add_parser(
        "render", parents=[common], help="print the objects a launch would apply (YAML, no side effects)",
        description="Read the preview spec and print the Kubernetes objects a launch would apply.",
    )
    render_parser.add_argument("pull", metavar="PR")
    render_parser.add_argument("--spec", metavar="FILE", help="a local compose file or manifests folder instead")
    render_parser.add_argument("--show-secrets", action="store_true",
                               help="print the values of Secrets (preview.secrets) instead of <hidden>")
    open_parser = sub.add_parser(
        "open", parents=[common], help="open a pull request's preview in the browser",
        description="Open the preview in the browser: its Ingress URL, or (without a domain) a port-forward relay on "
                    "127.0.0.1 that this command keeps open until Ctrl+C.",
    )
    open_parser.add_argument("pull", metavar="PR")
    open_parser.add_argument("--print", action="store_true",
                             help="print the preview's lasting URL (its Ingress) instead; an error when it has none")
    open_parser.add_argument("--forward", action="store_true",
                             help="with --print: open a relay, print its URL and keep it until Ctrl+C")


def _progress_printer(say: Callable[[str], None]) -> Callable[[LaunchEvent], None]:
    last_fraction = [-1.0]

    def show(event: LaunchEvent) -> None:
        if event.kind == "step" and event.state == "running":
            say(f"==> {event.step}")
        elif event.kind == "step":
            took = f" in {event.seconds:.1f}s" if event.seconds is not None else ""
            extra = f": {printable(event.text)}" if event.text else ""
            say(f"    {event.step} {event.state}{took}{extra}")
        elif event.kind == "progress" and event.fraction is not None:
            if event.fraction - last_fraction[0] >= 0.25 or event.fraction >= 1:
                last_fraction[0] = event.fraction
                say(f"    push {min(event.fraction, 1.0):4.0%}")
        elif event.kind in ("warning", "note"):
            say(f"    {event.kind}: {printable(event.text)}")
        elif event.kind == "line":
            say(f"    {printable(event.text)}")

    return show


def run_launch(deck: Deck, args: argparse.Namespace) -> int:
    if args.timeout is not None and not 10 <= args.timeout <= 3600:
        raise UsageError("--timeout must be between 10 and 3600 seconds")
    if len(args.pull) > 1:
        return _run_several(deck, args)
    pull = args.pull[0]
    repo, number = commands.pull_of(deck, pull)
    from prdeck.services.launch.results import LaunchCancelled, LaunchFailed  # the launch machinery: only here

    interruption = Interruption(deck)
    err = safe_printer(sys.stderr, interruption.pipe_closed)
    out = safe_printer(sys.stdout, interruption.pipe_closed)
    wait = args.wait or sys.stdout.isatty()
    with interruption.handling():
        try:
            result = deck.launch(repo, number, _progress_printer(err), approved_sha=args.approve_sha, wait=wait,
                                 rollout_timeout=args.timeout)
        except LaunchFailed as failure:
            _report_failure(failure, err, out if args.json else None)
            raise
        except LaunchCancelled as exc:
            if not interruption.exit_code:
                raise  # a destroy stopped it: an error like any other
            err(f"prdeck: interrupted: {printable(exc.detail or exc.title)}. The launch is recorded as interrupted "
                "(GitHub: error); launch again to finish it.")
            return interruption.exit_code
    if args.json:
        out(json.dumps(result.to_json(), indent=2))
    else:
        built = "built" if result.built else "reused (already in the registry)"
        state = "is ready" if wait else ("is deploying (not waited for: add --wait; GitHub gets its final status "
                                         "from the next prdeck that sees it ready: ls, status or the app)")
        where = result.url or f"no public URL without cluster.domain; `prdeck open {pull}` relays it here"
        out(f"Preview of {repo}#{number} {state}: {where}")
        out(f"  commit {result.sha[:12]}, images {built}, {result.seconds:.1f}s, namespace {result.namespace}")
        if result.stale:
            out("  stale: the PR got a new commit during the launch; launch again to update it")
    return interruption.exit_code


def _run_several(deck: Deck, args: argparse.Namespace) -> int:
    from prdeck.tui.cli import bulk

    if args.approve_sha:
        raise UsageError("--approve-sha approves one fork PR's head", "launch that PR on its own")
    interruption = Interruption(deck)
    err = safe_printer(sys.stderr, interruption.pipe_closed)
    with interruption.handling():
        code = bulk.launch(deck, args, args.wait or sys.stdout.isatty(), err)
    return interruption.exit_code or code


def _report_failure(failure: LaunchFailed, err: Callable[[str], None], out: Callable[[str], None] | None) -> None:
    """What the TUI's panel shows of a failed step (the pod's reason, recent events, the log tail), on stderr; with
    ``--json`` also a JSON object on stdout, so a script gets a result either way."""
    if failure.output:
        err(f"    {failure.step} output (last {len(failure.output)} lines):")
        for line in failure.output:
            err(f"      {printable(line)}")
    if out is not None:
        out(json.dumps({"ok": False, "step": failure.step, "error": failure.cause.title,
                        "detail": failure.cause.detail, "output": list(failure.output)}, indent=2))


def run_render(deck: Deck, args: argparse.Namespace) -> int:
    repo, number = commands.pull_of(deck, args.pull)
    spec_file = None
    if args.spec:
        spec_file = Path(args.spec).resolve()
        if not spec_file.exists():
            raise UsageError(f"No such file: {args.spec}")
    rendered = deck.render(repo, number, spec_file)
    for warning in rendered.warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)
    objects = list(rendered.objects) if args.show_secrets else [hide_secret_values(o) for o in rendered.objects]
    print(dump_all(objects), end="")
    return 0


HIDDEN = "<hidden>"


def hide_secret_values(obj: dict[str, Any]) -> dict[str, Any]:
    """A Secret with every value replaced by ``<hidden>`` (the keys stay, to show what the preview gets);
    any other object unchanged. `prdeck render` output lands in terminals, logs and bug reports."""
    if obj.get("kind") != "Secret":
        return obj
    hidden = {**obj}
    for field in ("data", "stringData"):
        if isinstance(obj.get(field), dict):
            hidden[field] = dict.fromkeys(obj[field], HIDDEN)
    return hidden


def run_open(deck: Deck, args: argparse.Namespace) -> int:
    """``open``: the browser, and a relay kept until Ctrl+C when the preview has no Ingress of its own.

    ``--print`` prints only a URL that outlives the command (the Ingress), and says why when there is none;
    ``--print --forward`` prints a relay's URL and keeps the relay until Ctrl+C (for scripts and other browsers).
    """
    repo, number = commands.pull_of(deck, args.pull)
    preview = deck.find_preview(repo, number)
    lasting = deck.lasting_url(preview)
    if args.print and not args.forward:
        if lasting is None:
            raise NotFound(
                f"{repo}#{number} has no lasting URL",
                "its preview has no Ingress on a real domain (cluster.domain); `prdeck open "
                f"{number}` opens it through a relay kept until Ctrl+C, `--print --forward` prints the relay's URL",
            )
        print(lasting, flush=True)
        return 0
    url = deck.open_url(preview)
    if args.print:
        print(url, flush=True)
    elif not webbrowser.open(url):
        print(f"No browser found; the preview is at {url}", flush=True)
    if lasting is None:
        print(f"Relaying {url} to {preview.namespace} (port-forward); Ctrl+C stops.", file=sys.stderr, flush=True)
        stop = threading.Event()
        try:
            while not stop.wait(3600):
                pass
        except KeyboardInterrupt:
            pass
    return 0
