"""Print command results for people (a table) or for scripts (JSON)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from services.config import KEYS
from tui.commands import ConfigReport, ListResult, LoginResult, LogoutResult
from tui.formatting import relative_age
from tui.safe_text import dumps, printable

CI_STYLES = {"SUCCESS": "green", "FAILURE": "red", "ERROR": "red", "PENDING": "yellow", "EXPECTED": "yellow"}
REVIEW_LABELS = {"APPROVED": "approved", "CHANGES_REQUESTED": "changes", "REVIEW_REQUIRED": "required"}


def pulls_json(result: ListResult) -> str:
    return dumps([pull.to_json() for pull in result.pulls])


def pulls_table(result: ListResult, out: TextIO, *, now: datetime | None = None) -> None:
    """A table of open pull requests; every remote string goes through :func:`printable` and ``Text``."""
    width = None if out.isatty() else int(os.environ.get("COLUMNS", "160"))
    console = Console(file=out, highlight=False, soft_wrap=False, width=width)
    now = now or datetime.now(UTC)
    several = len({pull.repo for pull in result.pulls}) > 1
    table = Table(box=None, pad_edge=False, header_style="bold", expand=False)
    if several:
        table.add_column("REPO", no_wrap=True, overflow="ellipsis", max_width=24)
    table.add_column("#", justify="right", no_wrap=True, min_width=3)
    table.add_column("TITLE", no_wrap=True, overflow="ellipsis", ratio=1, min_width=16, max_width=70)
    table.add_column("AUTHOR", no_wrap=True, overflow="ellipsis", min_width=6, max_width=16)
    table.add_column("BRANCH", no_wrap=True, overflow="ellipsis", min_width=8, max_width=24)
    table.add_column("CI", no_wrap=True, min_width=7)
    table.add_column("REVIEW", no_wrap=True, min_width=8)
    table.add_column("", no_wrap=True, min_width=10)
    table.add_column("UPDATED", no_wrap=True, justify="right", min_width=8)
    for pull in result.pulls:
        flags = " ".join(flag for flag, on in (("draft", pull.draft), ("fork", pull.fork)) if on)
        cells = [
            Text(str(pull.number)),
            Text(printable(pull.title, max_length=200)),
            Text(printable(pull.author, max_length=60)),
            Text(printable(pull.branch, max_length=120), style="cyan"),
            Text((pull.ci or "—").lower(), style=CI_STYLES.get(pull.ci or "", "dim")),
            Text(REVIEW_LABELS.get(pull.review or "", "—")),
            Text(flags, style="dim"),
            Text(relative_age(pull.updated_at, now), style="dim"),
        ]
        if several:
            cells.insert(0, Text(printable(pull.repo)))
        table.add_row(*cells)
    if result.pulls:
        console.print(table)
    names = ", ".join(str(repo) for repo in result.repos)
    console.print(
        Text(f"{len(result.pulls)} open pull request{'s' if len(result.pulls) != 1 else ''} in {names}", style="dim")
    )


def login_text(result: LoginResult) -> str:
    scopes = ", ".join(result.identity.scopes) or "none reported (fine-grained token)"
    return (
        f"Logged in to {result.host} as {printable(result.identity.login)} (scopes: {scopes}).\n"
        f"The token is stored in the system keyring (service 'prdeck', user '{result.host}')."
    )


def logout_text(result: LogoutResult) -> str:
    if result.removed:
        return f"Removed the token for {result.host} from the system keyring."
    return f"No token for {result.host} was stored in the system keyring; nothing to remove."


def config_text(report: ConfigReport) -> str:
    config = report.config
    state = "" if config.exists else "  (does not exist; defaults apply)"
    lines = [f"# config file: {config.path}{state}", ""]
    for key in KEYS:
        source = config.sources[key.name]
        origin = "default" if source == "default" else ("config file" if source == "file" else f"${source}")
        lines.append(f"# {key.doc}")
        lines.append(f"{key.name} = {_toml_value(config[key.name])}    # from {origin}")
        lines.append("")
    token = f"from {report.token_source} (value hidden)" if report.token_source else "none found"
    lines.append(f"# GitHub token for {config.api_url}: {token}")
    if report.keyring_problem:
        lines.append(f"# keyring: {report.keyring_problem}; GH_TOKEN / GITHUB_TOKEN still work")
    return "\n".join(lines)


def _toml_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, str):
        return dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)
