"""The ``prdeck`` command line: parse, run a command from :mod:`tui.commands`, print its result.

Errors from the services become one line on stderr and exit status 1 (2 for usage errors), never a
traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services import __version__
from services.config import Config, config_path, load_config
from services.errors import PrdeckError, UsageError
from services.github import GitHubService
from services.previews import Deck
from services.repos import parse_repo, resolve_repos
from services.session import connect_github
from tui import commands, render
from tui.safe_text import printable


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--repo",
        metavar="OWNER/NAME",
        default=default,
        help="repository to work on (default: config `repos`, else the git origin here)",
    )
    parser.add_argument(
        "--github-url",
        metavar="URL",
        default=default,
        help="GitHub API URL, e.g. https://ghe.example.com/api/v3 (default: config)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="config file (default: $PRDECK_CONFIG, else the platform config dir)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prdeck",
        description="Pull requests and their preview environments, from the terminal. "
        "Without a command, opens the TUI (or, when output is not a terminal, lists like `prdeck ls`).",
    )
    parser.add_argument("--version", action="version", version=f"prdeck {__version__}")
    _global_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ls = sub.add_parser(
        "ls",
        parents=[common],
        help="list open pull requests",
        description="List the open pull requests of the repository (or repositories).",
    )
    ls.add_argument("--json", action="store_true", help="print a JSON array, one object per pull request")

    login = sub.add_parser(
        "login",
        parents=[common],
        help="store a GitHub token in the system keyring",
        description="Check a GitHub token against /user and store it in the system keyring.",
    )
    login.add_argument("--with-token", action="store_true", help="read the token from standard input")
    sub.add_parser(
        "logout",
        parents=[common],
        help="remove the stored GitHub token",
        description="Remove the GitHub token for the API host from the system keyring.",
    )

    config = sub.add_parser(
        "config",
        parents=[common],
        help="show the configuration",
        description="Show where the config file is, or the effective settings.",
    )
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_sub.add_parser("path", parents=[common], help="print the config file's path")
    config_sub.add_parser("show", parents=[common], help="print every setting, documented, with its source")

    sandbox = sub.add_parser(
        "sandbox",
        parents=[common],
        help="run the GitHub emulator on 127.0.0.1",
        description="Run prdeck's GitHub API emulator until interrupted (Ctrl+C).",
    )
    sandbox.add_argument("--seed", metavar="FILE", help="seed JSON (default: the demo seed)")
    sandbox.add_argument("--info", metavar="FILE", help="write URLs, token and env variables here as JSON")
    sandbox.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")

    sub.add_parser(
        "demo",
        parents=[common],
        help="try prdeck against a built-in sandbox, no account needed",
        description="Start the sandbox with demo data and show its pull requests.",
    )
    return parser


def _load(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    if args.github_url:
        config = config.with_override("github.api_url", args.github_url.rstrip("/"), "--github-url")
    return config


def _ls(args: argparse.Namespace) -> int:
    config = _load(args)
    repos = resolve_repos(args.repo, config["repos"])
    with connect_github(config) as github:
        result = commands.list_pulls(github, repos)
    if getattr(args, "json", False):
        print(render.pulls_json(result))
    else:
        render.pulls_table(result, sys.stdout)
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
    print(render.login_text(commands.login(config, token)))
    return 0


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass


def _sandbox(args: argparse.Namespace) -> int:
    from services.sandbox.github import GitHubSandbox  # aiohttp and graphql-core load only when needed
    from services.sandbox.seed import default_seed, read_seed

    seed = read_seed(args.seed) if args.seed else default_seed()
    with GitHubSandbox(seed, port=args.port) as sandbox:
        info = sandbox.info()
        if args.info:
            path = Path(args.info)
            path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
            path.chmod(0o600)
        print(f"GitHub sandbox at {info['github_url']} (git at {info['git_url']}), signed in as {info['login']}.")
        print("Point prdeck at it with:")
        for name, value in info["env"].items():
            print(f"  export {name}={value}")
        print("Ctrl+C stops it.", flush=True)
        _wait_for_interrupt()
    return 0


def _demo(args: argparse.Namespace) -> int:
    """The sandbox with demo data, in the TUI (or printed, when output is not a terminal)."""
    from services.sandbox.github import GitHubSandbox
    from services.sandbox.seed import default_seed

    with GitHubSandbox(default_seed()) as sandbox:
        repos = [parse_repo(name) for name in sandbox.repo_names()]
        github = GitHubService(sandbox.api_url, sandbox.token)
        if not sys.stdout.isatty():
            with github:
                render.pulls_table(commands.list_pulls(github, repos), sys.stdout)
            print("\n(demo data from prdeck's built-in GitHub sandbox; run `prdeck sandbox` to keep one running)")
            return 0
        _run_tui(Deck(github, repos), refresh_seconds=60)
    return 0


def _run_tui(deck: Deck, refresh_seconds: float) -> None:
    deck.prefetch()  # the first page is on the wire while Textual loads
    from tui.app import build_app  # Textual loads only for the TUI

    try:
        build_app(deck, refresh_seconds).run()
    finally:
        deck.close()


def _tui(args: argparse.Namespace) -> int:
    if not sys.stdout.isatty():
        return _ls(args)
    config = _load(args)
    repos = resolve_repos(args.repo, config["repos"])
    _run_tui(Deck(connect_github(config), repos), config["ui.refresh_seconds"])
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command is None:
        return _tui(args)
    if command == "ls":
        return _ls(args)
    if command == "login":
        return _login(args)
    if command == "logout":
        print(render.logout_text(commands.logout(_load(args))))
        return 0
    if command == "config":
        if args.config_command == "path":
            print(config_path(args.config))
        else:
            print(render.config_text(commands.config_report(_load(args))))
        return 0
    if command == "sandbox":
        return _sandbox(args)
    return _demo(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("repo", "github_url", "config", "json", "with_token"):
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


def run() -> Any:
    sys.exit(main())
