"""The ``prdeck`` command line: parse, run a command from :mod:`prdeck.tui.cli.commands`, print its result.

Errors from the services become one line on stderr and exit status 1 (2 for usage errors), never a
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from prdeck.services.config import Config, config_path, load_config
from prdeck.services.deck import Deck, open_deck
from prdeck.services.errors import PrdeckError, UsageError
from prdeck.services.github.repos import repos_for
from prdeck.services.models import RepoRef
from prdeck.tui.cli import commands, interruption
from prdeck.tui.cli import launch as cli_launch
from prdeck.tui.cli import lifecycle as cli_lifecycle
from prdeck.tui.cli.parser import build_parser
from prdeck.tui.view.safe_text import printable


def _output() -> ModuleType:
    """The formatting of lists and reports, with rich: loaded only by the commands that print them (``launch``
    starts without it)."""
    from prdeck.tui.cli import output

    return output


def _load(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    if args.github_url:
        config = config.with_override("github.api_url", args.github_url.rstrip("/"), "--github-url")
    return config


def _deck(args: argparse.Namespace) -> Deck:
    config = _load(args)
    return open_deck(config, repos_for(config, args.repo), builder=_sandbox_builder())


def _sandbox_builder() -> Any:
    """`prdeck sandbox` without Docker exports PRDECK_SANDBOX_BUILDS=simulate: builds are simulated then."""
    if os.environ.get(cli_launch.SANDBOX_BUILDS) != "simulate":
        return None
    from prdeck.services.sandbox.images import sandbox_builder

    return sandbox_builder(simulate=True)


def _print_list(result: commands.ListResult) -> None:
    _output().pulls_table(result, sys.stdout)
    if orphans := _output().orphans_text(result):
        print(orphans)


def _ls(args: argparse.Namespace) -> int:
    deck = _deck(args)
    try:
        result = commands.list_with_previews(deck)
    finally:
        deck.close()
    if getattr(args, "json", False):
        print(_output().pulls_json(result))
        return 0
    _print_list(result)
    if note := _output().cluster_note(result):
        print(note, file=sys.stderr)
    return 0


def _status(args: argparse.Namespace) -> int:
    deck = _deck(args)
    try:
        repo, number = commands.pull_of(deck, args.pull)
        result = deck.status(repo, number)
    finally:
        deck.close()
    print(_output().status_json(result) if args.json else _output().status_text(result))
    return 0


def _duration(text: str | None) -> int | None:
    if text is None:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
    except (ValueError, IndexError, KeyError) as exc:
        raise UsageError(f"Not a duration: {text!r}", "use 30s, 10m, 2h or 1d") from exc


def _logs(args: argparse.Namespace) -> int:
    from prdeck.services.models import LogRequest

    deck = _deck(args)
    stop = threading.Event()
    try:
        repo, number = commands.pull_of(deck, args.pull)
        preview = deck.find_preview(repo, number)
        request = LogRequest(args.follow, args.tail, _duration(args.since), args.container, args.previous)
        if args.follow:
            interruption.interruptible()
        several = len({(pod.name, c) for pod in preview.pods for c in pod.containers}) > 1 and not args.container
        with contextlib.closing(deck.logs(preview, request, stop)) as lines:  # closing joins the readers
            for line in lines:
                if line.notice:  # prdeck's own word about the stream: not part of the log
                    print(f"prdeck: {printable(line.text)}", file=sys.stderr, flush=True)
                    continue
                print(_output().log_line(line, prefix=several, timestamps=args.timestamps), flush=args.follow)
    finally:
        stop.set()
        deck.close()
    return 0


def _destroy(args: argparse.Namespace) -> int:
    deck = _deck(args)
    if len(args.pull) > 1 or args.json:
        from prdeck.tui.cli import bulk

        try:
            return bulk.destroy(deck, args)
        finally:
            deck.close()
    try:
        repo, number = commands.pull_of(deck, args.pull[0])
        preview = deck.find_preview(repo, number)
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError("Refusing to destroy without confirmation", "input is not a terminal; add --yes")
            answer = input(f"Destroy the preview of {repo}#{number} (namespace {preview.namespace})? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing destroyed.")
                return 1
        for progress in deck.destroy(preview):
            print(progress, flush=True)
    finally:
        deck.close()
    print(f"Preview of {repo}#{number} destroyed.")
    return 0


def _login(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.with_token:
        token = sys.stdin.read()
    elif sys.stdin.isatty():
        print(f"Paste a GitHub token for {config.api_url} (needs the `repo` scope; input is hidden).", file=sys.stderr)
        token = getpass.getpass("Token: ")
    else:
        raise UsageError("No terminal to read the token from", "pipe it in with `prdeck login --with-token`")
    print(_output().login_text(commands.login(config, token)))
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from prdeck.services.sandbox.seed import default_seed, read_seed  # aiohttp and graphql-core load only when needed
    from prdeck.services.sandbox.stack import SandboxStack

    interruption.interruptible()

    seed = read_seed(args.seed) if args.seed else default_seed()
    with SandboxStack(seed, github_port=args.port, builds="auto") as sandbox, \
            contextlib.suppress(KeyboardInterrupt):  # Ctrl+C at any moment once it runs is the way to stop it
        info = sandbox.info()
        if args.info:
            _write_private_atomically(Path(args.info), json.dumps(info, indent=2) + "\n")
        print(f"GitHub sandbox at {info['github_url']} (git at {info['git_url']}), signed in as {info['login']}.")
        print(f"Kubernetes sandbox at {info['kube_url']} (kubeconfig {info['kubeconfig']}).")
        builds = {"docker": f"built by Docker, pushed to the registry at {info['registry']}",
                  "simulate": "simulated (no Docker engine, busybox-static or docker-registry here)"}
        print(f"Preview images: {builds.get(info['builds'], 'off')}.")
        print("Point prdeck at it with:")
        for name, value in info["env"].items():
            print(f"  export {name}={value}")
        print("Ctrl+C stops it.", flush=True)
        interruption.wait_for_interrupt()
    return 0


def _write_private_atomically(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only, so that a reader never sees the file half written.

    Scripts poll for the ``--info`` file to appear; it holds a token, so it is never world-readable either.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        handle.write(text)
    tmp.replace(path)


def _demo(args: argparse.Namespace) -> int:
    """The sandbox with demo data, in the TUI (or printed, when output is not a terminal)."""
    from prdeck.services.sandbox.images import sandbox_builder
    from prdeck.services.sandbox.seed import default_seed
    from prdeck.services.sandbox.stack import SandboxStack

    with SandboxStack(default_seed(), builds="auto") as sandbox:
        config = Config.defaults().with_values(sandbox.config_values(), "prdeck demo")
        repos = [RepoRef.parse(name) for name in sandbox.github.repo_names()]
        deck = open_deck(config, repos, token=sandbox.github.token,
                         builder=sandbox_builder(simulate=sandbox.builds != "docker"))
        if not sys.stdout.isatty():
            try:
                result = commands.list_with_previews(deck)
            finally:
                deck.close()
            _print_list(result)
            print("\n(demo data from prdeck's built-in sandboxes; run `prdeck sandbox` to keep them running)")
            return 0
        return _run_tui(deck, refresh_seconds=60)


def _run_tui(deck: Deck, refresh_seconds: float, log_lines: int = 10_000) -> int:
    """Run the app; its exit status (143 after SIGTERM)."""
    deck.prefetch()  # the first page is on the wire while Textual loads
    from prdeck.tui.app import build_app  # Textual loads only for the TUI

    app = build_app(deck, refresh_seconds, log_lines=log_lines)
    try:
        app.run()
    finally:
        deck.close()
    return app.return_code or 0


def _tui(args: argparse.Namespace) -> int:
    if not sys.stdout.isatty():
        return _ls(args)
    config = _load(args)
    return _run_tui(tui_deck(config, args.repo), config["ui.refresh_seconds"], config["ui.log_lines"])


def tui_deck(config: Config, repo: str | None) -> Deck:
    """The deck `prdeck` opens the TUI on: GitHub now, the cluster (and launching) once the first frame is up."""
    return open_deck(config, repos_for(config, repo), cluster="later", builder=_sandbox_builder())


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command is None:
        return _tui(args)
    if command == "ls":
        return _ls(args)
    if command == "login":
        return _login(args)
    if command == "logout":
        print(_output().logout_text(commands.logout(_load(args))))
        return 0
    if command == "config":
        if args.config_command == "path":
            print(config_path(args.config))
        else:
            print(_output().config_text(commands.config_report(_load(args))))
        return 0
    if command == "sandbox":
        return _sandbox(args)
    if command == "status":
        return _status(args)
    if command == "logs":
        return _logs(args)
    if command == "destroy":
        return _destroy(args)
    if command in ("launch", "render", "open", *cli_lifecycle.COMMANDS):
        deck = _deck(args)
        try:
            handler = {"launch": cli_launch.run_launch, "render": cli_launch.run_render, "open": cli_launch.run_open}
            return handler.get(command, cli_lifecycle.run)(deck, args)
        finally:
            deck.close()
    return _demo(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("repo", "github_url", "config", "json", "with_token", "approve_sha", "timeout", "spec"):
        if not hasattr(args, name):
            setattr(args, name, None)
    try:
        return _dispatch(args)
    except PrdeckError as exc:
        message = exc.title + (f": {exc.detail}" if exc.detail else "")
        print(f"prdeck: {printable(message)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("prdeck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug in prdeck: one line, the traceback only on request
        if os.environ.get("PRDECK_DEBUG"):
            raise
        print(f"prdeck: internal error ({type(exc).__name__}: {printable(str(exc))}); this is a bug in prdeck. "
              "Run again with PRDECK_DEBUG=1 to see the traceback.", file=sys.stderr)
        return 1


SKIP_TEARDOWN = frozenset({"launch", "render", "ls", "status", "demo", None})
"""Commands that close what they opened before returning (None: the TUI): the interpreter's own teardown (collecting
every module loaded, 0.3-0.6 s, after the app's screen is already restored) adds nothing after them, so the process
ends at once."""


def run() -> Any:
    code = main()
    if build_parser().parse_known_args()[0].command in SKIP_TEARDOWN:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)
