"""Issue 12, finding 6: two repositories shared one namespace, and a repository spelled in another case was
another repository. Each test failed on the code before the fix.

Before: ``acme/store-front`` and ``acme-store/front`` both mapped to ``prdeck-acme-store-front-pr-1`` (launching
one replaced the other; destroying one deleted the other's); ``--repo Octo/App`` hid every preview of
``octo/app``; ``launch OCTO/APP#1`` relabelled octo/app#1's namespace as another repository's.
"""

from __future__ import annotations

import itertools
import json
import random
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prdeck.services.models import RepoRef
from prdeck.services.naming import (
    DNS_LABEL_MAX,
    is_dns_label,
    namespace_for,
    preview_host_label,
    preview_labels,
    repo_key,
    repo_label,
)
from prdeck.services.sandbox.images import free_port
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import run_prdeck
from tests.launch_support import app_seed

STORE_FRONT, STORE = RepoRef("acme", "store-front"), RepoRef("acme-store", "front")
_LABEL_VALUE_MAX = 63


# the naming rule ---------------------------------------------------------------------------------------


def test_the_pair_from_the_audit_gets_two_namespaces_and_plain_names_stay_readable() -> None:
    assert namespace_for(STORE_FRONT, 1) != namespace_for(STORE, 1)
    assert preview_host_label(STORE_FRONT, 1) != preview_host_label(STORE, 1)
    assert repo_label(STORE_FRONT) != repo_label(STORE)
    assert repo_key(STORE_FRONT) != repo_key(STORE)
    for repo in (STORE_FRONT, STORE):
        name = namespace_for(repo, 1)
        assert is_dns_label(name) and name.startswith("prdeck-acme-store-front--") and name.endswith("-pr-1")
    # owner and name of letters and digits only: nothing to tell apart, no hash (existing previews keep theirs)
    assert namespace_for(RepoRef("acme", "storefront"), 101) == "prdeck-acme-storefront-pr-101"
    assert namespace_for(RepoRef("octo", "app"), 1) == "prdeck-octo-app-pr-1"
    assert preview_host_label(RepoRef("acme", "shop"), 7) == "pr-7-acme-shop"
    assert repo_label(RepoRef("acme", "storefront")) == "acme.storefront"
    assert repo_label(RepoRef("acme", "store-front.js")) == "acme.store-front.js"


def test_a_repository_is_the_same_whatever_its_case() -> None:
    upper, lower = RepoRef("Octo", "App"), RepoRef("octo", "app")
    assert upper == lower and hash(upper) == hash(lower) and {upper: 1}[lower] == 1
    assert str(upper) == "Octo/App"  # the spelling it was given is kept for display
    assert namespace_for(RepoRef("OCTO", "APP"), 1) == namespace_for(lower, 1) == "prdeck-octo-app-pr-1"
    assert preview_labels(upper, 1) == preview_labels(lower, 1)
    assert repo_label(upper) == "octo.app"
    mixed = RepoRef("Acme", "Store-Front")
    assert namespace_for(mixed, 3) == namespace_for(STORE_FRONT, 3)
    assert repo_label(mixed) == repo_label(STORE_FRONT)
    assert sorted([RepoRef("b", "x"), RepoRef("A", "y"), RepoRef("a", "x")]) == [
        RepoRef("a", "x"), RepoRef("A", "y"), RepoRef("b", "x")]


def _short_names() -> list[str]:
    """Every 1-3 character name over letters of both cases, a digit and the punctuation GitHub allows."""
    alphabet = "aBz0-._"
    names = ("".join(chars) for size in (1, 2, 3) for chars in itertools.product(alphabet, repeat=size))
    return [name for name in names if name not in (".", "..")]


def _long_names(rng: random.Random, count: int) -> list[RepoRef]:
    """Long owners and names (up to GitHub's 39 and 100), so the 63-character shortening is exercised."""
    letters = string.ascii_letters + string.digits + "-._"
    repos = []
    for _ in range(count):
        owner = "".join(rng.choice(string.ascii_lowercase + "-") for _ in range(rng.randint(1, 39))).strip("-") or "o"
        name = "".join(rng.choice(letters) for _ in range(rng.randint(1, 100)))
        repos.append(RepoRef(owner, name if name not in (".", "..") else "n"))
    return repos


def _generated() -> list[RepoRef]:
    short = _short_names()
    rng = random.Random(12)
    repos = [RepoRef(owner, name) for owner in short[:40] for name in short]  # every name under 40 owners
    repos += [RepoRef(owner, name) for owner in short for name in short[:40]]
    repos += _long_names(rng, 3000)
    # the readable look-alike of every hashed name: a repository named like another's namespace with the hash
    for repo in list(repos[:: 50]):
        head, _, digest = repo_key(repo).partition("--")
        if digest:
            repos.append(RepoRef(head.replace("-", "") or "x", digest))
    return repos


@pytest.mark.parametrize("prefix", ["prdeck", "p", "a-twenty-char-prefix"])
def test_no_two_repositories_share_a_namespace_and_every_name_is_a_dns_label(prefix: str) -> None:
    """Property over ~40,000 generated repositories (all short names, long random ones, look-alikes)."""
    seen: dict[str, tuple[str, str]] = {}
    hosts: dict[str, tuple[str, str]] = {}
    labels: dict[str, tuple[str, str]] = {}
    for repo in _generated():
        identity = repo.identity
        for number in (1, 9_999_999):
            name = namespace_for(repo, number, prefix)
            assert is_dns_label(name) and len(name) <= DNS_LABEL_MAX, (repo, name)
            assert seen.setdefault(name, (*identity, str(number))) == (*identity, str(number)), (repo, name)
            host = preview_host_label(repo, number)
            assert is_dns_label(host), (repo, host)
            assert hosts.setdefault(host, (*identity, str(number))) == (*identity, str(number)), (repo, host)
        label = repo_label(repo)
        assert len(label) <= _LABEL_VALUE_MAX and label == label.lower(), (repo, label)
        assert labels.setdefault(label, identity) == identity, (repo, label)
    assert len(labels) > 30_000


def test_a_name_is_a_pure_function_of_the_repository() -> None:
    """Every maintainer's prdeck, whatever repositories it is configured with, computes the same namespace."""
    for repo in _long_names(random.Random(7), 200):
        again = RepoRef(repo.owner.upper(), repo.name.swapcase())
        assert namespace_for(repo, 5) == namespace_for(again, 5)
        assert repo_label(repo) == repo_label(again)


# end to end, against both sandboxes ---------------------------------------------------------------------


def _seed() -> dict[str, Any]:
    """Three repositories with the app of the launch tests: the pair, and octo/app with a live preview of #1."""
    seed = app_seed(free_port())
    (app,) = seed["repos"]
    seed["repos"] = [{**app, "name": name} for name in ("acme/store-front", "acme-store/front", "octo/app")]
    seed["previews"] = [{"repo": "octo/app", "number": 1, "state": "ready"}]
    return seed


@pytest.fixture(scope="module")
def stack() -> Iterator[SandboxStack]:
    with SandboxStack(_seed(), builds="simulate") as running:
        yield running


def _env(stack: SandboxStack, tmp: Path, repos: str) -> dict[str, str]:
    (tmp / "config.toml").write_text("", encoding="utf-8")
    return {**{k: str(v) for k, v in stack.info()["env"].items()}, "PRDECK_REPOS": repos,
            "PRDECK_CONFIG": str(tmp / "config.toml"), "XDG_STATE_HOME": str(tmp / "state"),
            "XDG_CACHE_HOME": str(tmp / "cache")}


def _prdeck(env: dict[str, str], *args: str) -> Any:
    done = run_prdeck(*args, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


def _previews(env: dict[str, str], *extra: str) -> dict[tuple[str, int], dict[str, Any]]:
    listing = _prdeck(env, *extra, "ls", "--json")
    return {(row["repo"], row["number"]): row["preview"] for row in listing["pulls"]}


@pytest.mark.timeout(300)
def test_two_repositories_with_the_same_slug_keep_their_own_previews(stack: SandboxStack, tmp_path: Path) -> None:
    env = _env(stack, tmp_path, "acme/store-front,acme-store/front")
    first = _prdeck(env, "launch", "acme/store-front#1", "--wait", "--json")
    second = _prdeck(env, "launch", "acme-store/front#1", "--wait", "--json")
    assert first["namespace"] != second["namespace"]

    previews = _previews(env)
    assert previews[("acme/store-front", 1)]["namespace"] == first["namespace"]
    assert previews[("acme-store/front", 1)]["namespace"] == second["namespace"]

    gone = _prdeck(env, "destroy", "acme/store-front#1", "--yes")
    assert f"namespace {first['namespace']} is gone" in gone
    left = _previews(env)
    assert left[("acme/store-front", 1)] is None
    kept = left[("acme-store/front", 1)]
    assert kept is not None and kept["namespace"] == second["namespace"] and kept["state"] != "terminating"
    status = _prdeck(env, "status", "acme-store/front#1", "--json")
    assert status["preview"]["namespace"] == second["namespace"]


@pytest.mark.timeout(300)
def test_a_repository_spelled_in_another_case_is_the_same_repository(stack: SandboxStack, tmp_path: Path) -> None:
    env = _env(stack, tmp_path, "octo/app")
    seeded = _previews(env, "--repo", "Octo/App")
    assert (("octo/app", 1) in seeded) and seeded[("octo/app", 1)] is not None, seeded
    assert seeded[("octo/app", 1)]["namespace"] == "prdeck-octo-app-pr-1"

    result = _prdeck(env, "launch", "OCTO/APP#1", "--wait", "--json")
    assert result["namespace"] == "prdeck-octo-app-pr-1"
    after = _previews(env)  # as the maintainer who configured `octo/app` sees it
    assert after[("octo/app", 1)] is not None and after[("octo/app", 1)]["namespace"] == "prdeck-octo-app-pr-1"
    listing = _prdeck(env, "ls", "--json")
    assert listing["orphans"] == []  # not a second repository's preview
    status = _prdeck(env, "--repo", "OcTo/aPp", "status", "1", "--json")
    assert status["preview"]["namespace"] == "prdeck-octo-app-pr-1"
