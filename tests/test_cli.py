"""The `prdeck` command line, run as a user runs it."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time

import pytest

from tests.conftest import PRDECK, pull, run_prdeck, seed_with

JSON_KEYS = {
    "repo",
    "number",
    "title",
    "author",
    "branch",
    "head_sha",
    "fork",
    "draft",
    "labels",
    "ci",
    "review",
    "updated_at",
    "url",
    "preview",
}


def _env(box):
    return {"PRDECK_GITHUB_URL": box.api_url, "GITHUB_TOKEN": box.token}


def test_ls_json_returns_every_open_pull_with_exactly_the_documented_keys(sandbox):
    result = run_prdeck("ls", "--json", "--repo", "acme/storefront", env=_env(sandbox))
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    rows = listing["pulls"]
    assert listing["orphans"] == [] and listing["cluster"]["ok"] is False, "no kubeconfig in this test"
    assert "No Kubernetes cluster configured" in listing["cluster"]["problem"]
    assert sorted(row["number"] for row in rows) == list(range(101, 113))
    assert all(set(row) == JSON_KEYS for row in rows)
    dark = next(row for row in rows if row["number"] == 103)
    assert dark["fork"] is True and dark["labels"] == ["feature", "ui"] and dark["ci"] == "PENDING"
    assert dark["updated_at"].endswith("Z") and len(dark["head_sha"]) == 40


def test_ls_several_repos_from_the_environment(sandbox):
    result = run_prdeck("ls", "--json", env={**_env(sandbox), "PRDECK_REPOS": "acme/docs,acme/storefront"})
    assert {row["repo"] for row in json.loads(result.stdout)["pulls"]} == {"acme/docs", "acme/storefront"}


def test_bare_prdeck_lists_like_ls(sandbox):
    result = run_prdeck("--repo", "acme/docs", env=_env(sandbox))
    assert result.returncode == 0
    assert "Document the preview workflow" in result.stdout and "2 open pull requests in acme/docs" in result.stdout


HOSTILE_TITLE = "fix [/] [bold]x\x1b[2J\x1b]0;pwned\x07 \u202eevil\u202c 🎉 " + "y" * 10_000


@pytest.fixture
def hostile(make_sandbox):
    return make_sandbox(seed_with([pull(1, title=HOSTILE_TITLE, labels=["[red]"], author="eve")]))


def test_hostile_text_is_exact_in_json_and_harmless_on_the_terminal(hostile):
    as_json = run_prdeck("ls", "--json", "--repo", "octo/app", env=_env(hostile))
    assert as_json.returncode == 0, as_json.stderr
    (row,) = json.loads(as_json.stdout)["pulls"]
    assert row["title"] == HOSTILE_TITLE and row["labels"] == ["[red]"]
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in as_json.stdout
    table = run_prdeck("ls", "--repo", "octo/app", env=_env(hostile))
    assert table.returncode == 0, table.stderr
    assert "\x1b" not in table.stdout and "\u202e" not in table.stdout and "\x07" not in table.stdout
    assert "fix [/] [bold]x\\x1b[2J" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 400, "a remote string is capped (200 cells)"


def test_errors_are_one_line_with_exit_1(sandbox):
    unknown = run_prdeck("ls", "--repo", "acme/missing", env=_env(sandbox))
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.startswith("prdeck: Not found while listing pull requests of acme/missing")
    assert unknown.stderr.count("\n") == 1
    bad_token = run_prdeck("ls", "--repo", "acme/docs", env={**_env(sandbox), "GITHUB_TOKEN": "nope"})
    assert bad_token.returncode == 1 and "401 Bad credentials" in bad_token.stderr
    down = run_prdeck("ls", "--repo", "a/b", "--github-url", "http://127.0.0.1:9/api/v3", env={"GITHUB_TOKEN": "x"})
    assert down.returncode == 1 and down.stderr.startswith("prdeck: Cannot reach GitHub at http://127.0.0.1:9")
    assert "Traceback" not in unknown.stderr + bad_token.stderr + down.stderr


def test_rate_limit_says_when_it_resets(sandbox):
    from tests.conftest import admin

    admin(sandbox, "rate-limit", {"login": "demo-maintainer", "resource": "graphql", "remaining": 0})
    result = run_prdeck("ls", "--repo", "acme/docs", env=_env(sandbox))
    assert result.returncode == 1
    assert "prdeck: GitHub rate limit exhausted: it resets at " in result.stderr
    assert re.search(r"resets at \d\d:\d\d:\d\d \(in \d+ (min|s)\), then try again", result.stderr), result.stderr


def test_wording_of_missing_things(sandbox):
    nope = run_prdeck("ls", "--repo", "acme/nope", env=_env(sandbox))
    assert ".;" not in nope.stderr and "'acme/nope'; check the name" in nope.stderr


def test_usage_errors_exit_2():
    assert run_prdeck("ls", "--repo", "not-a-repo").returncode == 2
    assert run_prdeck("frobnicate").returncode == 2
    assert run_prdeck("config").returncode == 2


@pytest.mark.parametrize(
    "command", [[], ["ls"], ["login"], ["logout"], ["config"], ["config", "show"], ["sandbox"], ["demo"]]
)
def test_help_everywhere(command):
    result = run_prdeck(*command, "--help")
    assert result.returncode == 0 and result.stdout.startswith("usage: prdeck")


def test_version():
    assert run_prdeck("--version").stdout.strip() == "prdeck 0.1.0"


def test_global_options_after_the_command(sandbox):
    result = run_prdeck(
        "ls", "--json", "--github-url", sandbox.api_url, "--repo", "acme/docs", env={"GITHUB_TOKEN": sandbox.token}
    )
    assert result.returncode == 0, result.stderr


def test_demo_needs_no_config_or_token():
    result = run_prdeck("demo")
    assert result.returncode == 0, result.stderr
    assert "fix: handle [/] in parser [bold]" in result.stdout
    assert "14 open pull requests in acme/storefront, acme/docs" in result.stdout


def test_sandbox_command_writes_info_and_serves_until_interrupted(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps({**seed_with([pull(1), pull(2, state="merged")]), "generate": [{"repo": "octo/big", "pulls": 120}]})
    )
    info_path = tmp_path / "info.json"
    process = subprocess.Popen(
        [PRDECK, "sandbox", "--seed", str(seed), "--info", str(info_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not info_path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        info = json.loads(info_path.read_text())  # written whole (atomically): a poller never reads it half done
        assert info_path.stat().st_mode & 0o777 == 0o600, "the info file holds a token"
        assert set(info) >= {"github_url", "graphql_url", "git_url", "github_admin_url", "token", "env"}
        assert info["env"]["PRDECK_GITHUB_URL"] == info["github_url"]
        listed = run_prdeck("ls", "--json", env=info["env"])
        assert listed.returncode == 0, listed.stderr
        rows = json.loads(listed.stdout)["pulls"]
        assert {row["repo"] for row in rows} == {"octo/app", "octo/big"}
        assert len(rows) == 121, "the merged pull request is not open"
        fetched = subprocess.run(
            ["git", "ls-remote", f"{info['git_url']}octo/app.git", "refs/pull/2/head"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "refs/pull/2/head" in fetched.stdout
    finally:
        out, err = _interrupt(process)
    assert process.returncode == 0, err
    assert "export GITHUB_TOKEN=" in out


def _interrupt(process: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGINT, and if that does not end it, SIGKILL: a failing test must not leave a sandbox running."""
    process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate(timeout=15)
        return out, err + "\n(test: still running 15 s after SIGINT; killed)"


def test_sandbox_stops_on_sigint_when_started_with_sigint_ignored(tmp_path):
    """A shell starts a script's background job (`prdeck sandbox &`) with SIGINT ignored; Ctrl+C must still work."""
    info_path = tmp_path / "info.json"
    process = subprocess.Popen(
        [PRDECK, "sandbox", "--info", str(info_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 30
        while not info_path.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert info_path.exists(), process.stderr.read() if process.poll() is not None else "no info file"
    finally:
        _, err = _interrupt(process)
    assert process.returncode == 0, err


def test_sandbox_rejects_an_invalid_seed(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(seed_with([pull(1, ci="GREEN")])))
    result = run_prdeck("sandbox", "--seed", str(seed))
    assert result.returncode == 2
    assert "repos[0].pulls[0]: ci must be one of SUCCESS" in result.stderr
    seed.write_text("{not json")
    assert "is not valid JSON" in run_prdeck("sandbox", "--seed", str(seed)).stderr
