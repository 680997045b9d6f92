"""Print command results for people (a table) or for scripts (JSON)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TextIO

from rich.console import Console
from rich.text import Text

from prdeck.services.config import KEYS
from prdeck.services.deck import PreviewStatus
from prdeck.services.models import LogLine
from prdeck.tui.cli.commands import ConfigReport, ListResult, LoginResult, LogoutResult
from prdeck.tui.cli.ls_table import table_lines
from prdeck.tui.view.formatting import relative_age
from prdeck.tui.view.pull_cells import pod_condition, preview_summary
from prdeck.tui.view.safe_text import dumps, printable


def pulls_json(result: ListResult) -> str:
    """``{"pulls": [...], "orphans": [...], "cluster": {...}, "github_budget": {...}}``: each pull has a
    ``preview`` object or null; ``github_budget`` (GraphQL points ``remaining`` of ``limit`` until ``reset_at``)
    is null when GitHub sent no figures."""
    previews = {row.key: row.preview for row in result.rows if not row.orphan}
    pulls = []
    for pull in result.pulls:
        preview = previews.get(f"{pull.repo}#{pull.number}")
        pulls.append({**pull.to_json(), "preview": preview.to_json() if preview else None})
    orphans = [
        {"repo": row.pull.repo.full_name if row.preview.known else None,
         "number": row.pull.number if row.preview.known else None, **row.preview.to_json()}
        for row in result.rows
        if row.orphan and row.preview is not None
    ]
    problem = result.cluster_problem
    cluster = {"ok": problem is None, "problem": f"{problem.title}: {problem.detail}" if problem else None}
    budget = result.budget.to_json() if result.budget else None
    return dumps({"pulls": pulls, "orphans": orphans, "cluster": cluster, "github_budget": budget})


def pulls_table(result: ListResult, out: TextIO, *, now: datetime | None = None) -> None:
    """A table of open pull requests (see :mod:`prdeck.tui.cli.ls_table`): fitted to a terminal, whole off one."""
    tty = out.isatty()
    console = Console(file=out, highlight=False, soft_wrap=True, width=None if tty else 100_000)
    now = now or datetime.now(UTC)
    several = len({pull.repo for pull in result.pulls}) > 1
    with_previews = bool(result.rows) or result.cluster_problem is not None
    if result.pulls:
        for line in table_lines(result.pulls, result.rows, with_previews=with_previews, several=several, now=now,
                                width=console.width if tty else None):
            console.print(line)
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


def cluster_note(result: ListResult) -> str | None:
    """One line on stderr when previews could not be shown, and what to do."""
    problem = result.cluster_problem
    if problem is None:
        return None
    orphans = sum(1 for row in result.rows if row.orphan)
    more = f"; {orphans} orphaned preview(s)" if orphans else ""
    return f"prdeck: previews unknown: {printable(problem.title)}: {printable(problem.detail)}{more}"


def orphans_text(result: ListResult) -> str | None:
    orphans = [row for row in result.rows if row.orphan and row.preview is not None]
    if not orphans:
        return None
    lines = [f"{len(orphans)} orphaned preview(s) (pull request closed or missing; `prdeck destroy` removes them):"]
    for row in orphans:
        assert row.preview is not None
        lines.append(f"  {printable(row.key)}  {row.preview.namespace}  {printable(preview_summary(row.preview))}")
    return "\n".join(lines)


def status_text(result: PreviewStatus, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    lines = [f"{result.repo}#{result.number}"]
    detail = result.detail
    if detail is not None:
        origin = f"fork of {printable(detail.head_owner or '?')}" if detail.fork else "same repository"
        lines.append(f"  head     {detail.head_sha[:12]}  ({origin})")
    preview = result.preview
    if preview is None:
        lines.append(f"  preview  none (namespace {result.namespace} has no prdeck pods)")
        return "\n".join(lines)
    lines.append(f"  preview  {printable(preview_summary(preview))}")
    lines.append(f"  namespace {preview.namespace}")
    if preview.url:
        lines.append(f"  url      {printable(preview.url)}")
    if preview.deployed_sha:
        lines.append(f"  deployed {preview.deployed_sha[:12]}")
    if preview.pinned:
        lines.append("  expires  never (pinned)")
    elif preview.expires_at:
        left = preview.expires_at - now
        when = f"in {relative_age(now - left, now).removesuffix(' ago')}" if left.total_seconds() > 0 else "now"
        lines.append(f"  expires  {preview.expires_at.isoformat().replace('+00:00', 'Z')} ({when})")
    lines.append("  pods")
    for pod in preview.pods:
        state = pod_condition(pod)
        extra = f", {pod.restarts} restarts" if pod.restarts else ""
        lines.append(
            f"    {printable(pod.name)}  {pod.phase}  {printable(state)}{extra}  [{', '.join(pod.containers)}]"
        )
    if result.events:
        lines.append("  events")
        for event in result.events:
            age = relative_age(event.time, now) if event.time else "?"
            lines.append(
                f"    {age:>8}  {event.kind:<7} {printable(event.reason):<18} {printable(event.object)}: "
                f"{printable(event.message, max_length=160)}"
            )
    return "\n".join(lines)


def status_json(result: PreviewStatus) -> str:
    preview = result.preview
    return dumps(
        {
            "repo": str(result.repo),
            "number": result.number,
            "head_sha": result.detail.head_sha if result.detail else None,
            "preview": None
            if preview is None
            else {
                **preview.to_json(),
                "pods": [
                    {
                        "name": p.name,
                        "phase": p.phase,
                        "ready": p.ready,
                        "reason": p.reason,
                        "restarts": p.restarts,
                        "containers": list(p.containers),
                    }
                    for p in preview.pods
                ],
                "events": [
                    {
                        "time": e.time.isoformat().replace("+00:00", "Z") if e.time else None,
                        "type": e.kind,
                        "reason": e.reason,
                        "object": e.object,
                        "message": e.message,
                    }
                    for e in result.events
                ],
            },
        }
    )


def log_line(line: LogLine, *, prefix: bool, timestamps: bool) -> str:
    """One log line for the terminal: controls escaped, optional ``pod/container`` prefix and timestamp."""
    parts = []
    if timestamps:
        parts.append(line.timestamp)
    if prefix:
        parts.append(f"[{line.prefix}]")
    parts.append(printable(line.text, max_length=10_000))
    return " ".join(parts)
