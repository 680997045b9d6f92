"""Inputs that used to end in a traceback (or prdeck's "internal error" line) or in a misleading message: each is
now one line on stderr saying what happened and what to do, exit status 1 — and nothing else leaks to stderr."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prdeck.services.launch.builder import Builder
from prdeck.services.launch.journal import LaunchJournal
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import free_port
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import admin, run_prdeck
from tests.launch_support import app_seed

pytestmark = pytest.mark.timeout(180)


def one_clear_line(done: Any, *expected: str, status: int = 1, progress: bool = False) -> str:
    """The command failed with ``status`` and said so in one line of its own (no traceback, no "internal error");
    with ``progress`` (launch), after its progress lines."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == status, (done.returncode, done.stderr)
    assert lines and (progress or len(lines) == 1) and lines[-1].startswith("prdeck: "), done.stderr
    assert not any(line.startswith("prdeck: ") for line in lines[:-1]), done.stderr
    assert "internal error" not in lines[-1] and "Traceback" not in done.stderr
    for text in expected:
        assert text in lines[-1], lines[-1]
    return lines[-1]


# GitHub answering with a redirect elsewhere or an HTML page ----------------------------------------------------
class NotGitHub(http.server.BaseHTTPRequestHandler):
    """A proxy, a captive portal or a moved server: redirects to another host, or a 200 HTML page."""

    answer = 200

    def _reply(self) -> None:
        if self.answer == 200:
            body = b"<!DOCTYPE html><html><body>Sign in to the proxy</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(self.answer)
        self.send_header("Location", f"http://localhost:9/elsewhere{self.path}")  # another host: never contacted
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _reply

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def not_github(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("Handler", (NotGitHub,), {"answer": request.param})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("not_github", [301, 302, 307, 200], indirect=True)
def test_github_redirecting_elsewhere_or_sending_html_is_one_line(not_github: str) -> None:
    env = {"GITHUB_TOKEN": "t0ken"}
    listed = run_prdeck("ls", "--repo", "octo/app", "--github-url", not_github, env=env)
    one_clear_line(listed, not_github, "github.api_url")
    signed_in = run_prdeck("login", "--with-token", "--github-url", not_github, input="t0ken\n", env=env)
    one_clear_line(signed_in, not_github, "github.api_url")


# specs: one line naming the file, never a traceback --------------------------------------------------------------
@pytest.fixture(scope="module")
def stack() -> Iterator[SandboxStack]:
    with SandboxStack(app_seed(free_port()), builds="simulate") as running:
        yield running


def stack_env(stack: SandboxStack, tmp: Path) -> dict[str, str]:
    return {**{k: str(v) for k, v in stack.info()["env"].items()}, "XDG_STATE_HOME": str(tmp / "state"),
            "XDG_CACHE_HOME": str(tmp / "cache")}


COMPOSE = "services:\n  web:\n    image: busybox:1.36\n{extra}x-prdeck:\n  ingress: {{service: web, port: 80}}\n"


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("compose.yml", COMPOSE.format(extra="    deploy: {resources: {limits: {cpus: .inf}}}\n").encode(),
     "services.web.deploy.resources.limits"),
    ("compose.yml", COMPOSE.format(extra="    deploy: {resources: {limits: {cpus: .nan}}}\n").encode(),
     "services.web.deploy.resources.limits"),
    ("compose.yml", b"[" * 10_000, "nests"),
    ("compose.yml", COMPOSE.format(extra="    environment: {NAME: caf\xe9}\n").encode("latin-1"), "not UTF-8"),
    ("compose.yml", b"services: [1]\n", "services"),
    ("compose.yml", COMPOSE.format(extra="    healthcheck: [1]\n").encode(), "services.web.healthcheck"),
])
def test_a_bad_local_spec_is_one_line(stack: SandboxStack, tmp_path: Path, name: str, content: bytes,
                                      expected: str) -> None:
    spec = tmp_path / name
    spec.write_bytes(content)
    one_clear_line(run_prdeck("render", "1", "--spec", str(spec), env=stack_env(stack, tmp_path)), expected)


@pytest.mark.parametrize("manifest", [
    "apiVersion: v1\nkind: Service\nmetadata: [1]\nspec: {ports: [{port: 80}]}\n",
    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [1]}\n",
    "apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: [1]}\nspec: {ports: [{port: 80}]}\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {metadata: [1], spec: "
    "{containers: [{name: web, image: busybox}]}}}\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {spec: {containers: [1]}}}\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {spec: {containers: "
    "[{name: web, image: busybox, env: [1]}]}}}\n",
])
def test_a_manifest_of_the_wrong_shape_is_one_line(stack: SandboxStack, tmp_path: Path, manifest: str) -> None:
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "app.yaml").write_text(manifest)
    one_clear_line(run_prdeck("render", "1", "--spec", str(folder), env=stack_env(stack, tmp_path)),
                   "Invalid preview spec manifests/app.yaml")


# fork approvals and spec problems say what they are ---------------------------------------------------------------
@pytest.fixture(scope="module")
def fork_stack() -> Iterator[SandboxStack]:
    pulls = [{"number": 1, "title": "Fork", "author": "stranger", "branch": "fork/x", "fork": True,
              "files": {"site/index.html": "<h1>fork</h1>\n"}}]
    with SandboxStack(app_seed(free_port(), pulls=pulls), builds="simulate") as running:
        yield running


def test_approve_sha_takes_the_12_characters_prdeck_shows(fork_stack: SandboxStack, tmp_path: Path) -> None:
    head = fork_stack.github.state.repo("octo", "app").pulls[1].head_sha
    env = stack_env(fork_stack, tmp_path)
    done = run_prdeck("launch", "octo/app#1", "--approve-sha", head[:12], "--json", env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert not list((tmp_path / "state").rglob("*.lock")), "the launch's lock file is removed when it ends"


def test_a_wrong_or_short_approve_sha_says_so(fork_stack: SandboxStack, tmp_path: Path) -> None:
    head = fork_stack.github.state.repo("octo", "app").pulls[1].head_sha
    env = stack_env(fork_stack, tmp_path)
    wrong = "0" * 12 if not head.startswith("0") else "1" * 12
    line = one_clear_line(run_prdeck("launch", "octo/app#1", "--approve-sha", wrong, env=env),
                          f"{wrong} is not the head of octo/app#1", head, progress=True)
    assert "fetch failed:" not in line and "moved since it was approved" not in line
    line = one_clear_line(run_prdeck("launch", "octo/app#1", "--approve-sha", head[:5], env=env),
                          "is not a commit SHA", progress=True)
    assert "fetch failed:" not in line


def test_a_missing_spec_is_a_spec_problem_not_a_failed_fetch(tmp_path: Path) -> None:
    seed = app_seed(free_port())
    del seed["repos"][0]["files"][".prdeck/compose.yml"]
    with SandboxStack(seed, builds="simulate") as running:
        line = one_clear_line(run_prdeck("launch", "octo/app#1", env=stack_env(running, tmp_path)),
                              "This repository has no preview spec", ".prdeck/compose.yml", progress=True)
    assert "fetch failed:" not in line


# stderr carries prdeck's lines only ---------------------------------------------------------------------------------
def test_pygithub_log_lines_do_not_leak_under_a_rate_limit(make_sandbox: Any) -> None:
    box = make_sandbox({"users": [{"login": "maintainer"}], "repos": [{"name": "octo/app", "pulls": []}]})
    admin(box, "rate-limit", {"login": "maintainer", "resource": "core", "remaining": 0, "reset_in": 600})
    done = run_prdeck("login", "--with-token", "--github-url", box.api_url, input=box.token)
    one_clear_line(done, "rate limit")


def test_push_progress_never_passes_100_percent() -> None:
    """The engine counts compressed bytes against a layer's size: its `current` can pass `total`."""
    stream = [{"status": "Pushing", "id": "a", "progressDetail": {"current": 36_570_000, "total": 1_000_000}},
              {"status": "Pushing", "id": "b", "progressDetail": {"current": 10, "total": 100}},
              {"status": "Pushed", "id": "b"},
              {"aux": {"Digest": "sha256:" + "0" * 64}}]

    class Api:
        def push(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
            return iter(stream)

    class Client:
        api = Api()

    fractions: list[float] = []
    digest = Builder(Client()).push("r/app:1", lambda progress: fractions.append(progress.fraction), lambda _: None)
    assert digest.startswith("sha256:") and fractions
    assert all(0 <= fraction <= 1 for fraction in fractions), fractions


def test_lock_files_do_not_pile_up(tmp_path: Path) -> None:
    journal = LaunchJournal(tmp_path)
    for number in range(1, 6):
        with journal.hold(RepoRef("octo", "app"), number, f"prdeck-octo-app-pr-{number}", "a" * 40):
            assert (tmp_path / f"prdeck-octo-app-pr-{number}.lock").exists()
    with journal.hold(RepoRef("octo", "app"), 1, "prdeck-octo-app-pr-1", "a" * 40):
        pass
    assert not list(tmp_path.glob("*.lock")), "one lock file per namespace ever"
