"""What a pull request, or a link to one, can make prdeck do with the maintainer's credentials (issue 12).

Each test is a finding of the audit: it failed on the code before the fix.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from prdeck.services.errors import ConfigError
from prdeck.services.github.service import GitHubService
from prdeck.services.launch.git_mirror import GitError, GitMirror, LocalTree
from prdeck.services.launch.spec import SpecError, load_spec
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import free_port
from prdeck.services.sandbox.stack import SandboxStack
from prdeck.tui.cli.launch import HIDDEN
from tests.conftest import run_prdeck
from tests.launch_support import app_seed

SECRET = "s3cr3t-value-of-the-maintainer"


@pytest.fixture(scope="module")
def stack() -> Iterator[SandboxStack]:
    with SandboxStack(app_seed(free_port()), builds="simulate") as running:
        yield running


def env_for(stack: SandboxStack, tmp: Path, config: str = "") -> dict[str, str]:
    (tmp / "config.toml").write_text(config, encoding="utf-8")
    return {**{k: str(v) for k, v in stack.info()["env"].items()}, "PRDECK_REPOS": "octo/app",
            "PRDECK_CONFIG": str(tmp / "config.toml"), "XDG_STATE_HOME": str(tmp / "state"),
            "XDG_CACHE_HOME": str(tmp / "cache"), "PREVIEW_TEST_SECRET": SECRET}


def test_render_shows_secret_values_only_when_asked(stack: SandboxStack, tmp_path: Path) -> None:
    """Finding 9: `prdeck render` printed preview.secrets values in plain text."""
    env = env_for(stack, tmp_path, '[preview]\nsecrets = { API_KEY = "PREVIEW_TEST_SECRET" }\n')
    shown = run_prdeck("render", "1", env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "kind: Secret" in shown.stdout and "API_KEY: <hidden>" in shown.stdout, shown.stdout
    assert SECRET not in shown.stdout + shown.stderr
    revealed = run_prdeck("render", "1", "--show-secrets", env=env, timeout=120)
    assert revealed.returncode == 0, revealed.stderr
    assert f"API_KEY: {SECRET}" in revealed.stdout and HIDDEN not in revealed.stdout


@pytest.mark.parametrize("command", [["status"], ["logs"], ["destroy", "--yes"], ["launch"], ["render"], ["open"]])
def test_a_pull_request_url_of_another_host_is_refused(stack: SandboxStack, tmp_path: Path, command: list[str]) -> None:
    """Finding 4: https://evil.example/o/r/pull/1 acted on the configured GitHub's o/r#1."""
    done = run_prdeck(command[0], "https://evil.example/octo/app/pull/1", *command[1:], env=env_for(stack, tmp_path))
    assert done.returncode == 2, done.stderr
    assert "is a pull request on evil.example, not on the configured GitHub" in done.stderr
    assert stack.github.api_url in done.stderr


def test_a_pull_request_url_of_the_configured_github_still_works(stack: SandboxStack, tmp_path: Path) -> None:
    host = stack.github.api_url.split("//", 1)[1].split("/", 1)[0]
    done = run_prdeck("render", f"http://{host}/octo/app/pull/1", env=env_for(stack, tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert "kind: Deployment" in done.stdout


class _Recorder(BaseHTTPRequestHandler):
    """Asks for credentials (so git retries with whatever it would send) and keeps every request's headers."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append({name.lower(): value for name, value in self.headers.items()})
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="elsewhere"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_git_token_never_follows_a_redirect_to_another_host(tmp_path: Path) -> None:
    """Finding 3: the token was an unscoped http.extraHeader; a redirect to another host received it."""
    _Recorder.seen = []
    elsewhere = _serve(_Recorder)

    class Redirector(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{elsewhere.server_port}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    github = _serve(Redirector)
    try:
        mirror = GitMirror(RepoRef("octo", "app"), f"http://127.0.0.1:{github.server_port}/octo/app.git",
                           "token-of-the-maintainer", tmp_path)
        with pytest.raises(GitError):
            mirror.fetch({"refs/heads/main": "refs/prdeck/base/main"})
        assert not any("authorization" in headers for headers in _Recorder.seen), _Recorder.seen
    finally:
        github.shutdown()
        elsewhere.shutdown()


@pytest.mark.parametrize("api_url", ["http://192.0.2.10/api/v3", "http://github.example/api/v3", "ftp://127.0.0.1/"])
def test_the_github_token_goes_over_https_only_or_to_this_machine(api_url: str) -> None:
    """Finding 4: GH_TOKEN was sent to whatever --github-url named, over plain http too. (Refused before any
    request: no traffic leaves the machine in this test.)"""
    with pytest.raises(ConfigError, match="Refusing to send the GitHub token"):
        GitHubService(api_url, "token-of-the-maintainer")


@pytest.mark.parametrize("api_url", ["https://api.github.com", "https://ghe.example/api/v3", "http://127.0.0.1:9/",
                                     "http://localhost:9/api/v3", "http://[::1]:9/"])
def test_https_and_loopback_api_urls_are_accepted(api_url: str) -> None:
    GitHubService(api_url, "token").close()


@pytest.mark.parametrize("name", ["../../../kube-system/configmaps/x", "x?dryRun=All", "x#frag", "Upper", "a" * 254])
def test_object_names_that_could_change_an_api_url_are_refused_before_anything_runs(
    tmp_path: Path, name: str
) -> None:
    """Finding 7: object names went into API URLs unvalidated."""
    folder = tmp_path / ".prdeck" / "manifests"
    folder.mkdir(parents=True)
    document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {}}
    (folder / "map.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(SpecError, match=r"metadata\.name must be lower-case") as refused:
        load_spec(LocalTree(tmp_path))
    assert ".prdeck/manifests/map.yaml" in refused.value.title


BOMB = "a: &a ['x','x','x','x','x','x','x','x','x']\n" + "".join(
    f"{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("where", ["compose", "manifests"])
def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path, where: str) -> None:
    """Finding 8: a ~500-byte alias bomb hung render/launch (compose) or took 1.8 GB (manifests)."""
    if where == "compose":
        text = BOMB + "services:\n  web: {image: busybox, command: *i}\nx-prdeck: {ingress: {service: web, port: 80}}\n"
        target = tmp_path / ".prdeck" / "compose.yml"
    else:
        text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  " + BOMB.replace("\n", "\n  ")
        target = tmp_path / ".prdeck" / "manifests" / "bomb.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(text, encoding="utf-8")
    assert len(text) < 1000
    with pytest.raises(SpecError, match="aliases expanded"):
        load_spec(LocalTree(tmp_path))


def test_a_compose_file_of_20000_services_is_refused(tmp_path: Path) -> None:
    """Finding 8: 20,000 services were accepted (one pod of 20,000 containers)."""
    services = "".join(f"  s{n}: {{image: busybox}}\n" for n in range(20_000))
    target = tmp_path / ".prdeck" / "compose.yml"
    target.parent.mkdir(parents=True)
    target.write_text(f"services:\n{services}x-prdeck: {{ingress: {{service: s0, port: 80}}}}\n", encoding="utf-8")
    with pytest.raises(SpecError, match="at most 100"):
        load_spec(LocalTree(tmp_path))


def test_real_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    text = ("x-common: &common {image: busybox, environment: {A: '1'}}\nservices:\n  web: {<<: *common, ports: [80]}\n"
            "  worker: *common\nx-prdeck: {ingress: {service: web, port: 80}}\n")
    target = tmp_path / ".prdeck" / "compose.yml"
    target.parent.mkdir(parents=True)
    target.write_text(text, encoding="utf-8")
    spec = load_spec(LocalTree(tmp_path))
    assert [container.name for container in spec.containers] == ["web", "worker"]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("text", ["a: " + "[" * 10_000 + "]" * 10_000,
                                  "".join("  " * n + f"k{n}:\n" for n in range(400))])
def test_a_deeply_nested_spec_is_refused_not_a_traceback(tmp_path: Path, text: str) -> None:
    """Finding 8 (and issue 13): 10,000 nesting levels ended in a RecursionError traceback."""
    target = tmp_path / ".prdeck" / "compose.yml"
    target.parent.mkdir(parents=True)
    target.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match="nest at most 100"):
        load_spec(LocalTree(tmp_path))
