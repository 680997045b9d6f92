"""The ``prdeck`` argument parser: every command, its options and its help text."""

from __future__ import annotations

import argparse

from prdeck.services import __version__
from prdeck.tui.cli import launch as cli_launch
from prdeck.tui.cli import lifecycle as cli_lifecycle
from prdeck.tui.cli import reap as cli_reap
from prdeck.tui.cli import reconcile as cli_reconcile


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
        "--json",
        action="store_true",
        help='print JSON: {"pulls": [...], "orphans": [...], "cluster": {...}, "github_budget": {...}}',
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
        help="delete pull requests' previews (their namespaces)",
        description="Delete the preview namespace of each pull request and wait until it is gone; several PRs "
        "run side by side (preview.max_parallel_launches at a time) after one question.",
    )
    destroy.add_argument("pull", metavar="PR", nargs="+", help="one or more (run side by side, one question)")
    destroy.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    destroy.add_argument("--json", action="store_true", help="print a JSON array: one result object per PR")

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
    cli_lifecycle.add_parsers(sub, common)
    cli_reap.add_parser(sub, common)
    cli_reconcile.add_parser(sub, common)
    sub.add_parser(
        "demo",
        parents=[common],
        help="try prdeck against a built-in sandbox, no account needed",
        description="Start the sandbox with demo data and show its pull requests.",
    )
    return parser
