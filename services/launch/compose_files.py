"""Files a compose file names, read from the same commit's tree: the project's ``.env`` and ``env_file:``.

Paths are relative to the compose file's folder, as in Compose, and must stay inside the repository — except in a
Uffizzi file under ``.github/uffizzi/``: Uffizzi's workflows rendered those (``envsubst``) at the repository root
and ran them there, so their paths are relative to the root.
"""

from __future__ import annotations

import posixpath
from typing import Any

from prdeck.services.launch.compose_dotenv import parse_dotenv
from prdeck.services.launch.compose_interpolate import Lookup
from prdeck.services.launch.spec_types import TreeReader, problem

UFFIZZI_FOLDER = ".github/uffizzi/"


def project_dir(compose_path: str) -> str:
    """The folder relative paths of ``compose_path`` start from (see above)."""
    return "" if compose_path.startswith(UFFIZZI_FOLDER) else posixpath.dirname(compose_path)


def repository_path(compose_path: str, relative: str) -> str | None:
    """``relative`` (from the compose file's project folder) as a path from the repository root; None when it is
    absolute or leaves the repository."""
    if relative.startswith("/") or relative.startswith("~"):
        return None
    joined = posixpath.normpath(posixpath.join(project_dir(compose_path), relative))
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def project_dotenv(tree: TreeReader, compose_path: str, lookup: Lookup) -> dict[str, str]:
    """The ``.env`` next to the compose file (empty when there is none): Compose's default variables, below
    everything the caller passes."""
    path = posixpath.normpath(posixpath.join(posixpath.dirname(compose_path), ".env"))  # next to the file
    text = tree.read(path)
    if text is None:
        return {}
    try:
        return parse_dotenv(text, lookup, [])
    except ValueError as exc:
        raise problem(path, "", str(exc)) from exc


def env_file_values(tree: TreeReader, compose_path: str, where: str, value: Any, lookup: Lookup,
                    missing: list[str]) -> dict[str, str]:
    """The variables of a service's ``env_file`` (a path, a list of paths or of ``{path, required}``), later
    files winning; a required file the commit lacks is an error naming it."""
    entries = value if isinstance(value, list) else [value]
    result: dict[str, str] = {}
    for entry in entries:
        required = True
        if isinstance(entry, dict):
            required = entry.get("required", True)
            entry = entry.get("path")
        if not isinstance(entry, str) or not isinstance(required, bool):
            raise problem(compose_path, f"{where}.env_file", "entries are paths or {path, required} mappings")
        path = repository_path(compose_path, entry)
        if path is None:
            raise problem(compose_path, f"{where}.env_file", f"{entry!r} is outside the repository; prdeck reads "
                          "env files from the pull request's commit only")
        text = tree.read(path)
        if text is None:
            if required:
                raise problem(compose_path, f"{where}.env_file", f"{path} is not in the commit (add it, or mark "
                              "it required: false)")
            continue
        try:
            result.update(parse_dotenv(text, lookup, missing))
        except ValueError as exc:
            raise problem(path, "", str(exc)) from exc
    return result
