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
from typing import TYPE_CHECKING, Any

from prdeck.services import __version__
from prdeck.services.config import Config, config_path, load_config
from prdeck.services.deck.deck import Deck
from prdeck.services.deck.wiring import connect_cluster, connect_github, launches_for
from prdeck.services.errors import PrdeckError, UsageError
from prdeck.services.github.repos import resolve_repos
from prdeck.services.github.service import GitHubService
from prdeck.services.models import RepoRef
from prdeck.tui.cli import commands, output
from prdeck.tui.cli import launch as cli_launch
from prdeck.tui.view.safe_text import printable

if TYPE_CHECKING:
    from prdeck.services.kube.service import ClusterService
    from prdeck.services.launch.launches import Launches


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
    ls.add_argument(
        "--json", action="store_true", help='print JSON: {"pulls": [...], "orphans": [...], "cluster": {...}}'
    )

    status = sub.add_parser(
        "status",
        parents=[common],
        help="show a pull request's preview: state, URL, pods, events",
        description="Show the preview environment of one pull request (PR: 101, owner/name#101 or its URL).",
    )
    status.add_argument("pull", metavar="PR")
    status.add_argument("--json", action="store_true", help="print JSON")

    logs = sub.add_parser(
        "logs",
        parents=[common],
        help="print a preview's logs (all containers, interleaved)",
        description="Print the logs of every container of a pull request's preview, prefixed pod/container.",
    )
    logs.add_argument("pull", metavar="PR")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines until Ctrl+C")
    logs.add_argument("--tail", type=int, metavar="N", help="only the last N lines of each container")
    logs.add_argument("--since", metavar="DURATION", help="only lines newer than this: 30s, 10m, 2h")
    logs.add_argument("-c", "--container", metavar="NAME", help="only this container")
    logs.add_argument("--timestamps", action="store_true", help="prefix each line with its time")
    logs.add_argument("-p", "--previous", action="store_true", help="the previous run of a restarted container")

    destroy = sub.add_parser(
        "destroy",
        parents=[common],
        help="delete a pull request's preview (its namespace)",
        description="Delete the preview namespace of a pull request and wait until it is gone.",
    )
    destroy.add_argument("pull", metavar="PR")
    destroy.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")

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
        help="run the GitHub and Kubernetes emulators on 127.0.0.1",
        description="Run prdeck's GitHub and Kubernetes API emulators until interrupted (Ctrl+C).",
    )
    sandbox.add_argument("--seed", metavar="FILE", help="seed JSON (default: the demo seed)")
    sandbox.add_argument("--info", metavar="FILE", help="write URLs, token and env variables here as JSON")
    sandbox.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")

    cli_launch.add_parsers(sub, common)
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


def _deck(args: argparse.Namespace) -> tuple[Deck, Config]:
    config = _load(args)
    repos = resolve_repos(args.repo, config["repos"])
    github = connect_github(config)
    return Deck(github, repos, *_cluster_for(config, github)), config


def _cluster_for(
    config: Config, github: GitHubService
) -> tuple[ClusterService | None, PrdeckError | None, Launches | None]:
    """The configured cluster (or why there is none) and the launch bookkeeping that goes with it."""
    cluster, problem = connect_cluster(config)
    return cluster, problem, launches_for(config, github, cluster, _sandbox_builder())


def _sandbox_builder() -> Any:
    """`prdeck sandbox` without Docker exports PRDECK_SANDBOX_BUILDS=simulate: builds are simulated then."""
    if os.environ.get(cli_launch.SANDBOX_BUILDS) != "simulate":
        return None
    from prdeck.services.sandbox.images import sandbox_builder

    return sandbox_builder(simulate=True)


def _ls(args: argparse.Namespace) -> int:
    deck, _ = _deck(args)
    try:
        result = commands.list_with_previews(deck)
    finally:
        deck.close()
    if getattr(args, "json", False):
        print(output.pulls_json(result))
        return 0
    output.pulls_table(result, sys.stdout)
    if orphans := output.orphans_text(result):
        print(orphans)
    if note := output.cluster_note(result):
        print(note, file=sys.stderr)
    return 0


def _status(args: argparse.Namespace) -> int:
    deck, _ = _deck(args)
    try:
        repo, number = commands.parse_pull_ref(args.pull, list(deck.repos))
        result = commands.status(deck, repo, number)
    finally:
        deck.close()
    print(output.status_json(result) if args.json else output.status_text(result))
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

    deck, _ = _deck(args)
    stop = threading.Event()
    try:
        repo, number = commands.parse_pull_ref(args.pull, list(deck.repos))
        preview = commands.find_preview(deck, repo, number)
        request = LogRequest(args.follow, args.tail, _duration(args.since), args.container, args.previous)
        several = len({(pod.name, c) for pod in preview.pods for c in pod.containers}) > 1 and not args.container
        for line in deck.logs(preview, request, stop):
            print(output.log_line(line, prefix=several, timestamps=args.timestamps), flush=args.follow)
    finally:
        stop.set()
        deck.close()
    return 0


def _destroy(args: argparse.Namespace) -> int:
    deck, _ = _deck(args)
    try:
        repo, number = commands.parse_pull_ref(args.pull, list(deck.repos))
        preview = commands.find_preview(deck, repo, number)
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
    print(output.login_text(commands.login(config, token)))
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
    from prdeck.services.sandbox.seed import default_seed, read_seed  # aiohttp and graphql-core load only when needed
    from prdeck.services.sandbox.stack import SandboxStack

    seed = read_seed(args.seed) if args.seed else default_seed()
    with SandboxStack(seed, github_port=args.port, builds="auto") as sandbox:
        info = sandbox.info()
        if args.info:
            path = Path(args.info)
            path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
            path.chmod(0o600)
        print(f"GitHub sandbox at {info['github_url']} (git at {info['git_url']}), signed in as {info['login']}.")
        print(f"Kubernetes sandbox at {info['kube_url']} (kubeconfig {info['kubeconfig']}).")
        builds = {"docker": f"built by Docker, pushed to the registry at {info['registry']}",
                  "simulate": "simulated (no Docker engine, busybox-static or docker-registry here)"}
        print(f"Preview images: {builds.get(info['builds'], 'off')}.")
        print("Point prdeck at it with:")
        for name, value in info["env"].items():
            print(f"  export {name}={value}")
        print("Ctrl+C stops it.", flush=True)
        _wait_for_interrupt()
    return 0


def _demo(args: argparse.Namespace) -> int:
    """The sandbox with demo data, in the TUI (or printed, when output is not a terminal)."""
    from prdeck.services.kube.client import load_api_client
    from prdeck.services.kube.service import ClusterService
    from prdeck.services.sandbox.seed import default_seed
    from prdeck.services.sandbox.stack import SandboxStack, sandbox_launches

    with SandboxStack(default_seed(), builds="auto") as sandbox:
        repos = [RepoRef.parse(name) for name in sandbox.github.repo_names()]
        github = GitHubService(sandbox.github.api_url, sandbox.github.token)
        cluster = ClusterService(load_api_client(str(sandbox.kube.kubeconfig), None))
        deck = Deck(github, repos, cluster, launches=sandbox_launches(sandbox, github, cluster))
        if not sys.stdout.isatty():
            try:
                result = commands.list_with_previews(deck)
            finally:
                deck.close()
            output.pulls_table(result, sys.stdout)
            if orphans := output.orphans_text(result):
                print(orphans)
            print("\n(demo data from prdeck's built-in sandboxes; run `prdeck sandbox` to keep them running)")
            return 0
        _run_tui(deck, refresh_seconds=60)
    return 0


def _run_tui(deck: Deck, refresh_seconds: float, log_lines: int = 10_000) -> None:
    deck.prefetch()  # the first page is on the wire while Textual loads
    from prdeck.tui.app import build_app  # Textual loads only for the TUI

    try:
        build_app(deck, refresh_seconds, log_lines=log_lines).run()
    finally:
        deck.close()


def _tui(args: argparse.Namespace) -> int:
    if not sys.stdout.isatty():
        return _ls(args)
    config = _load(args)
    _run_tui(tui_deck(config, args.repo), config["ui.refresh_seconds"], config["ui.log_lines"])
    return 0


def tui_deck(config: Config, repo: str | None) -> Deck:
    """The deck `prdeck` opens the TUI on: GitHub now, the cluster (and launching) once the first frame is up."""
    deck = Deck(connect_github(config), resolve_repos(repo, config["repos"]))
    deck.connect_cluster_later(lambda: _cluster_for(config, deck.github))
    return deck


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command is None:
        return _tui(args)
    if command == "ls":
        return _ls(args)
    if command == "login":
        return _login(args)
    if command == "logout":
        print(output.logout_text(commands.logout(_load(args))))
        return 0
    if command == "config":
        if args.config_command == "path":
            print(config_path(args.config))
        else:
            print(output.config_text(commands.config_report(_load(args))))
        return 0
    if command == "sandbox":
        return _sandbox(args)
    if command == "status":
        return _status(args)
    if command == "logs":
        return _logs(args)
    if command == "destroy":
        return _destroy(args)
    if command in ("launch", "render", "open"):
        deck, _ = _deck(args)
        try:
            handler = {"launch": cli_launch.run_launch, "render": cli_launch.run_render, "open": cli_launch.run_open}
            return handler[command](deck, args)
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


def run() -> Any:
    sys.exit(main())
