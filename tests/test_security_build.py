"""Issue 12, the build side: what a PR's tree and Dockerfile can do to the maintainer's machine while it builds.

Against real git, the real Docker engine (tests/run starts it with ``--bridge=none``) and the real registry: the
build context is streamed from ``git archive`` within ``build.max_context_mb``, a fork's RUN steps get no network
unless ``preview.fork_build_network``, and a RUN step's output reaches prdeck within bounds.
"""

from __future__ import annotations

import io
import socket
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prdeck.services.launch.builder import (
    MAX_FORWARDED_LINES,
    MAX_LINE_CHARS,
    TAIL_LINES,
    BoundedOutput,
    BuildError,
    docker_client,
)
from prdeck.services.launch.context import build_context
from prdeck.services.launch.git_mirror import GitError, GitMirror
from prdeck.services.launch.results import LaunchFailed
from prdeck.services.launch.spec import BuildSpec
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import free_port, sandbox_builder
from prdeck.services.sandbox.stack import SandboxStack
from tests.launch_support import app_seed, make_rig, require_docker, started

pytestmark = pytest.mark.timeout(240)

PROBE = "prdeck-network-probe"
PROBE_DOCKERFILE = (
    "FROM prdeck.localhost/busybox:stable\n"
    # nc fails at once when nothing answers; the sleep keeps the step's container up for the engine to be asked.
    f"RUN echo {PROBE} | nc -w 3 127.0.0.1 {{port}}; status=$?; sleep 2; exit $status\n"
)
CHATTY_DOCKERFILE = (
    "FROM prdeck.localhost/busybox:stable\n"
    "RUN head -c 3000000 /dev/zero | tr '\\0' x; echo; seq 1 20000; head -c 100000 /dev/zero | tr '\\0' y\n"
    "RUN echo chatty-build-done\n"
)


class Listener:
    """A TCP server on the host's loopback that records who connected and what they said."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                try:
                    self.received.append(connection.recv(1024))
                except OSError:
                    self.received.append(b"")


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.socket.close()


@pytest.fixture(scope="module")
def stack(listener: Listener) -> Iterator[SandboxStack]:
    require_docker()
    probe = {"Dockerfile": PROBE_DOCKERFILE.format(port=listener.port)}
    pulls = [
        {"number": 1, "title": "Big file", "author": "dev", "branch": "feature/big",
         "files": {"big.bin": "0" * (3 * 1024 * 1024), "site/index.html": "<h1>big</h1>\n"}},
        {"number": 2, "title": "Probe (fork)", "author": "stranger", "branch": "fork/probe", "fork": True,
         "files": probe},
        {"number": 3, "title": "Probe", "author": "dev", "branch": "feature/probe", "files": probe},
        {"number": 4, "title": "Chatty", "author": "dev", "branch": "feature/chatty",
         "files": {"Dockerfile": CHATTY_DOCKERFILE}},
    ]
    yield from started(app_seed(free_port(), pulls=pulls), builds="docker")


class NetworkModes:
    """Asks the engine, while a build runs, for the network mode of the container running the probe step."""

    def __init__(self) -> None:
        self.client = docker_client()
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> NetworkModes:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.client.close()

    def _watch(self) -> None:
        import docker

        while not self._stop.is_set():
            for container in self.client.api.containers():
                try:
                    info = self.client.api.inspect_container(container["Id"])
                except docker.errors.NotFound:
                    continue
                if PROBE in " ".join(info["Config"].get("Cmd") or []):
                    self.seen.add(info["HostConfig"]["NetworkMode"])
            time.sleep(0.05)


def _lines(events: list[Any]) -> list[str]:
    return [event.text for event in events if event.kind == "line"]


# (a) the build context ------------------------------------------------------------------------------------------
def test_a_context_over_build_max_context_mb_fails_naming_the_key(stack: SandboxStack, tmp_path: Path) -> None:
    rig = make_rig(stack, tmp_path, sandbox_builder(simulate=False), **{"build.max_context_mb": 1})
    with pytest.raises(LaunchFailed) as failed:
        rig.launch(1)
    assert failed.value.step == "build" and isinstance(failed.value.cause, BuildError)
    assert failed.value.cause.title == "The build context of web is over 1 MB (build.max_context_mb)"
    assert "build.max_context_mb" in failed.value.cause.detail and ".dockerignore" in failed.value.cause.detail
    assert not [event for event in rig.events if event.kind == "step" and event.step == "push"], "nothing pushed"

    # the default cap (1024 MB) builds the same commit
    assert make_rig(stack, tmp_path / "default", sandbox_builder(simulate=False)).launch(1, wait=False).built


def _repo(tmp_path: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> tuple[GitMirror, str]:
    """A real bare mirror holding one commit with ``files`` and symlinks ``links``."""
    work = tmp_path / "work"
    work.mkdir()
    for name, data in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(data)
    for name, target in (links or {}).items():
        (work / name).symlink_to(target)
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "tree"], check=True)
    mirror = GitMirror(RepoRef("o", "r"), "unused", None, tmp_path / "mirrors")
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(mirror.path)], check=True)
    return mirror, mirror.rev_parse("HEAD")


def test_the_context_is_streamed_filtered_and_capped_and_git_is_stopped(tmp_path: Path) -> None:
    mirror, sha = _repo(tmp_path, {
        "app/Dockerfile": b"FROM scratch\n", "app/.dockerignore": b"*.log\nbuild/\n", "app/keep.txt": b"kept",
        "app/debug.log": b"x", "app/build/out.bin": b"x", "app/big.bin": b"\0" * (3 * 1024 * 1024),
    }, links={"app/link": "keep.txt"})
    build = BuildSpec(context="app")
    with build_context(mirror, sha, build, "web", 8 * 1024 * 1024) as context, tarfile.open(fileobj=context) as tar:
        members = {member.name: member for member in tar.getmembers()}
    assert {"Dockerfile", ".dockerignore", "keep.txt", "big.bin", "link"} <= set(members)
    assert "debug.log" not in members and not any(name.startswith("build") for name in members)
    assert members["link"].issym() and members["link"].linkname == "keep.txt", "a symlink goes as git stores it"

    with pytest.raises(BuildError, match=r"^The build context of web is over 1 MB \(build\.max_context_mb\): "):
        build_context(mirror, sha, build, "web", 1024 * 1024)
    assert not _git_archives_running(mirror), "git archive is killed when the context stops early"

    with pytest.raises(BuildError, match=r"No Dockerfile\.missing in the build context"):
        build_context(mirror, sha, BuildSpec(context="app", dockerfile="Dockerfile.missing"), "web", 1 << 30)
    with pytest.raises(BuildError, match="No link in the build context"):
        build_context(mirror, sha, BuildSpec(context="app", dockerfile="link"), "web", 1 << 30)


def test_a_huge_spec_file_is_not_read_into_memory(tmp_path: Path) -> None:
    """Finding 8: a PR's 64 MB compose file (64 KB packed) was read whole before the 1 MiB bound refused it."""
    mirror, sha = _repo(tmp_path, {".prdeck/compose.yml": b"#" * (64 * 1024 * 1024), "small.yml": b"a: 1\n"})
    tree = mirror.tree(sha)
    with pytest.raises(GitError, match=r"\.prdeck/compose\.yml is too large to be a preview spec"):
        tree.read(".prdeck/compose.yml")
    assert tree.read("small.yml") == "a: 1\n" and tree.read("absent.yml") is None


def _git_archives_running(mirror: GitMirror) -> list[str]:
    found = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in found.splitlines() if "archive" in line and str(mirror.path) in line]


# (b) the network of a fork's build ------------------------------------------------------------------------------
def test_a_forks_build_has_no_network_unless_configured(
    stack: SandboxStack, listener: Listener, tmp_path: Path
) -> None:
    head = stack.github.state.repo("octo", "app").pulls[2].head_sha
    rig = make_rig(stack, tmp_path / "fork", sandbox_builder(simulate=False))
    with NetworkModes() as modes, pytest.raises(LaunchFailed) as failed:
        rig.launch(2, approved_sha=head)
    assert failed.value.step == "build"
    assert "can't connect" in "\n".join(failed.value.output), failed.value.output
    assert modes.seen == {"none"}, "the engine ran the fork's RUN step with network mode none"
    assert any("no network" in line for line in _lines(rig.events))
    assert listener.received == []

    # allowed by config, and a same-repository PR: the engine's default build network, as before
    allowed = make_rig(stack, tmp_path / "allowed", sandbox_builder(simulate=False),
                       **{"preview.fork_build_network": True})
    same_repo = make_rig(stack, tmp_path / "same", sandbox_builder(simulate=False))
    with NetworkModes() as modes:
        for launch in (lambda: allowed.launch(2, approved_sha=head), lambda: same_repo.launch(3)):
            with pytest.raises(LaunchFailed):  # this engine's default network has no route to the host
                launch()
    assert modes.seen == {"default"}

    # the same RUN step does reach the listener from a container on the host's network: the probe works
    engine = docker_client()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        dockerfile = PROBE_DOCKERFILE.format(port=listener.port).encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    context.seek(0)
    items = list(engine.api.build(fileobj=context, custom_context=True, network_mode="host", nocache=True,
                                  rm=True, forcerm=True, decode=True))
    engine.close()
    assert not [item for item in items if "error" in item], items
    assert listener.received == [f"{PROBE}\n".encode()]


# (c) build output -----------------------------------------------------------------------------------------------
def test_a_build_printing_a_huge_line_and_many_lines_stays_bounded(stack: SandboxStack, tmp_path: Path) -> None:
    rig = make_rig(stack, tmp_path, sandbox_builder(simulate=False))
    result = rig.launch(4, wait=False)
    assert result.built
    lines = _lines(rig.events)
    assert max(len(line) for line in lines) <= MAX_LINE_CHARS + 60
    cut = [line for line in lines if "[line cut at 2,000 characters]" in line]
    assert cut and cut[0].startswith("x" * 100)
    assert len(lines) <= MAX_FORWARDED_LINES + 20
    assert sum("build output truncated after 5,000 lines" in line for line in lines) == 1
    assert not any("chatty-build-done" in line for line in lines), "lines past the budget are not forwarded"
    assert any(line.startswith("pushed ") for line in lines), "the build ran to its end and was pushed"


def test_bounded_output_keeps_the_tail_and_cuts_lines_as_they_arrive() -> None:
    forwarded: list[str] = []
    output = BoundedOutput(forwarded.append)
    for _ in range(1000):  # one endless line, in chunks, never ended
        output.feed({"stream": "z" * 1000})
    assert len(forwarded) == 1 and len(forwarded[0]) < MAX_LINE_CHARS + 40
    assert sum(len(part) for part in output._partial) == 0, "nothing of the endless line is held"
    output.feed({"stream": "\n" + "".join(f"line {n}\n" for n in range(MAX_FORWARDED_LINES + 500))})
    output.feed({"stream": "half"})
    output.feed({"stream": " a line\r\nlast\n"})
    output.flush()
    assert len(forwarded) == MAX_FORWARDED_LINES + 1 and "truncated" in forwarded[-1]
    assert output.tail()[-2:] == ("half a line", "last") and len(output.tail()) == TAIL_LINES
