"""Seed files for the GitHub sandbox: validate the JSON and load it into :class:`GitHubState`.

Shape (see the README): ``{"users": [...], "repos": [{"name", "default_branch", "files", "pulls": [...]}],
"generate": [{"repo", "pulls", "ci_cycle"?}]}`` (``ci_cycle``: the CI states generated pull requests take in
turn). A seed error names the entry and the key that is wrong.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from prdeck.services.errors import UsageError
from prdeck.services.sandbox.github.state import GitHubState, User

CI_STATES = {"SUCCESS", "FAILURE", "PENDING", "ERROR", None}
REVIEW_STATES = {"APPROVED", "CHANGES_REQUESTED", "REVIEW_REQUIRED", None}
PULL_STATES = {"open", "closed", "merged"}


def default_seed() -> dict[str, Any]:
    """The demo seed shipped with prdeck: a small web app with a dozen pull requests."""
    return json.loads(files(__package__).joinpath("seeds/demo.json").read_text(encoding="utf-8"))


def read_seed(path: str | Path) -> dict[str, Any]:
    try:
        seed = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"Cannot read seed file {path}", exc.strerror or str(exc)) from exc
    except json.JSONDecodeError as exc:
        raise UsageError(f"Seed file {path} is not valid JSON", str(exc)) from exc
    if not isinstance(seed, dict):
        raise UsageError(f"Invalid seed file {path}", "the top level must be a JSON object")
    return seed


def _fail(where: str, message: str) -> UsageError:
    return UsageError("Invalid seed", f"{where}: {message}")


def _timestamp(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise _fail(where, f"updated_at must be an ISO-8601 time, got {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ago(value: Any, where: str) -> datetime | None:
    """``"90m"``, ``"3h"``, ``"2d"``: a time relative to loading, so demo data never ages."""
    if value is None:
        return None
    text = str(value)
    units = {"m": 60, "h": 3600, "d": 86400}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise _fail(where, f"updated_ago must look like 90m, 3h or 2d, got {value!r}")
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=int(text[:-1]) * units[text[-1]])


def pull_spec(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _fail(where, "a pull request must be an object")
    for key in ("number", "title", "author", "branch"):
        if key not in raw:
            raise _fail(where, f"missing '{key}'")
    if not isinstance(raw["number"], int) or raw["number"] < 1:
        raise _fail(where, "number must be a positive integer")
    if raw.get("ci") not in CI_STATES:
        raise _fail(where, f"ci must be one of SUCCESS, FAILURE, PENDING, ERROR or null, got {raw.get('ci')!r}")
    if raw.get("review") not in REVIEW_STATES:
        raise _fail(
            where, f"review must be APPROVED, CHANGES_REQUESTED, REVIEW_REQUIRED or null, got {raw.get('review')!r}"
        )
    if raw.get("state", "open") not in PULL_STATES:
        raise _fail(where, f"state must be open, closed or merged, got {raw.get('state')!r}")
    if not isinstance(raw.get("files", {}), dict) or not isinstance(raw.get("labels", []), list):
        raise _fail(where, "files must be an object and labels a list")
    return {
        **raw,
        "title": str(raw["title"]),
        "author": str(raw["author"]),
        "branch": str(raw["branch"]),
        "updated_at": _timestamp(raw.get("updated_at"), where) or _ago(raw.get("updated_ago"), where),
    }


def load_seed(state: GitHubState, seed: dict[str, Any]) -> User:
    """Fill ``state`` from a seed; return the user whose token the sandbox hands out."""
    users = seed.get("users") or [{"login": "sandbox-maintainer"}]
    main_user: User | None = None
    for index, raw in enumerate(users):
        if not isinstance(raw, dict) or not raw.get("login"):
            raise _fail(f"users[{index}]", "each user needs a login")
        token = raw.get("token") or f"prdeck_sandbox_{secrets.token_hex(16)}"
        user = state.add_user(raw["login"], token, tuple(raw.get("scopes", ("repo", "read:org"))))
        main_user = main_user or user
    assert main_user is not None
    for index, raw_repo in enumerate(seed.get("repos") or []):
        where = f"repos[{index}]"
        if not isinstance(raw_repo, dict) or "/" not in str(raw_repo.get("name", "")):
            raise _fail(where, "each repo needs a name like owner/name")
        collaborators = set(raw_repo.get("collaborators") or [main_user.login])
        repo = state.add_repo(
            raw_repo["name"],
            raw_repo.get("default_branch", "main"),
            raw_repo.get("files") or {},
            private=bool(raw_repo.get("private")),
            collaborators=collaborators,
            description=str(raw_repo.get("description", "")),
        )
        specs = [pull_spec(raw, f"{where}.pulls[{i}]") for i, raw in enumerate(raw_repo.get("pulls") or [])]
        numbers = [spec["number"] for spec in specs]
        if len(numbers) != len(set(numbers)):
            raise _fail(where, "pull request numbers must be unique")
        for pull, spec in zip(state.open_pulls(repo, specs), specs, strict=True):
            if spec.get("state") in ("closed", "merged"):
                pull.state = "closed"
                pull.merged = spec["state"] == "merged"
                pull.closed_at = pull.updated_at
                pull.merged_at = pull.updated_at if pull.merged else None
    for index, raw in enumerate(seed.get("generate") or []):
        _generate(state, raw, f"generate[{index}]")
    return main_user


def _generate(state: GitHubState, raw: Any, where: str) -> None:
    if not isinstance(raw, dict) or not isinstance(raw.get("pulls"), int) or raw["pulls"] < 0:
        raise _fail(where, 'expected {"repo": "owner/name", "pulls": N}')
    owner, _, name = str(raw.get("repo", "")).partition("/")
    repo = state.repo(owner, name)
    if repo is None:
        repo = state.add_repo(f"{owner}/{name}", "main", {}, collaborators={next(iter(state.users))})
    start = state.next_number(repo)
    base_time = datetime.now(UTC).replace(microsecond=0)
    ci_cycle = raw.get("ci_cycle") or ["SUCCESS", "SUCCESS", "FAILURE", "PENDING", None]
    if not isinstance(ci_cycle, list) or any(state not in CI_STATES for state in ci_cycle):
        raise _fail(where, "ci_cycle must be a list of SUCCESS, FAILURE, PENDING, ERROR or null")
    specs = [
        {
            "number": number,
            "title": f"Synthetic change {number}: update component {number % 37}",
            "author": f"contributor{number % 23}",
            "branch": f"synthetic/change-{number}",
            "fork": number % 5 == 0,
            "draft": number % 11 == 0,
            "labels": ["synthetic"] + (["bug"] if number % 3 == 0 else []),
            "ci": ci_cycle[number % len(ci_cycle)],
            "review": "APPROVED" if number % 4 == 0 else "REVIEW_REQUIRED",
            "updated_at": base_time - timedelta(minutes=number),
        }
        for number in range(start, start + raw["pulls"])
    ]
    state.open_pulls(repo, specs)
