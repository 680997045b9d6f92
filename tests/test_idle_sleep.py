"""Reap's idle sleep (issue 15, the idle-sleep part of items 3 and 4): previews not launched or woken for longer than
``--sleep-idle`` (or ``preview.idle_sleep_hours``) are scaled to zero, as part of the reap plan; pinned, asleep and
removed ones are not; a wake counts as activity."""

from __future__ import annotations

import json

import pytest

from prdeck.services.sandbox.seed import default_seed
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import run_prdeck
from tests.kube_support import eventually, fast_seed

PREVIEWS = [
    {"repo": "acme/storefront", "number": 101, "state": "ready", "idle_for": "2d"},  # goes to sleep
    {"repo": "acme/storefront", "number": 102, "state": "ready", "idle_for": "2d", "pinned": True},  # pinned: no
    {"repo": "acme/storefront", "number": 103, "state": "ready", "idle_for": "1h"},  # not idle long enough
    {"repo": "acme/storefront", "number": 104, "state": "asleep", "idle_for": "2d"},  # asleep already
    {"repo": "acme/storefront", "number": 106, "state": "ready", "idle_for": "2d", "expires_in": "-1h"},  # removed
]


@pytest.fixture(scope="module")
def stack():
    seed = fast_seed(default_seed())
    seed["previews"] = PREVIEWS
    with SandboxStack(seed) as running:
        yield running


def env(stack: SandboxStack, tmp_path, **config: int) -> dict[str, str]:
    path = tmp_path / "prdeck.toml"
    path.write_text("[preview]\n" + "".join(f"{key} = {value}\n" for key, value in config.items()))
    return {**stack.info()["env"], "PRDECK_REPOS": "acme/storefront", "PRDECK_CONFIG": str(path)}


def reap(environment: dict[str, str], *extra: str) -> tuple[int, dict]:
    done = run_prdeck("reap", "--json", *extra, env=environment, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def numbers(items: list[dict]) -> list[int]:
    return sorted(item["number"] for item in items)


def test_reap_puts_idle_previews_to_sleep_and_a_wake_counts_as_activity(stack, tmp_path):
    plain = env(stack, tmp_path)
    code, plan = reap(plain, "--dry-run")  # without --sleep-idle or the config key: no idle sleep
    assert plan["sleep"] == [] and numbers(plan["remove"]) == [106]
    code, plan = reap(plain, "--dry-run", "--sleep-idle", "12h")
    assert numbers(plan["sleep"]) == [101] and numbers(plan["remove"]) == [106], plan
    assert plan["sleep"][0]["reason"] == "idle: not launched or woken for more than 12h"
    text = run_prdeck("reap", "--dry-run", "--sleep-idle", "12h", env=plain)
    assert "1 to remove, 4 kept, 1 of them to put to sleep:" in text.stdout, text.stdout
    assert "  sleep  acme/storefront#101" in text.stdout

    code, done = reap(plain, "--yes", "--sleep-idle", "12h")
    assert code == 0 and done["slept"] == ["prdeck-acme-storefront-pr-101"], done
    assert done["removed"] == ["prdeck-acme-storefront-pr-106"]
    eventually(lambda: "preview  asleep" in run_prdeck("status", "101", env=plain).stdout, timeout=20)
    code, again = reap(plain, "--sleep-idle", "12h", "--yes")  # right after: nothing left
    assert code == 0 and again["sleep"] == [] and again["remove"] == [] and again["slept"] == []

    configured = env(stack, tmp_path, idle_sleep_hours=12)
    assert run_prdeck("wake", "101", env=configured).returncode == 0
    eventually(lambda: "preview  asleep" not in run_prdeck("status", "101", env=configured).stdout, timeout=20)
    code, plan = reap(configured, "--dry-run")  # just woken: active, not idle
    assert plan["sleep"] == [], plan
    code, plan = reap(configured, "--dry-run", "--sleep-idle", "1m")  # the flag wins over the config key
    assert 101 not in numbers(plan["sleep"]) and 103 in numbers(plan["sleep"]), plan
