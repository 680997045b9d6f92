"""Images for ``prdeck demo`` / ``prdeck sandbox``: a loopback registry, a local base image, or a simulation.

Real builds need a Docker engine and Debian's busybox-static (the demo repository's base image is built FROM
scratch from it, since nothing can be pulled); pushes go to Debian's ``docker-registry`` started here on
127.0.0.1. Without them the build and push steps are simulated, and the progress panel says so.
"""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from prdeck.services.launch.builder import Builder, BuildError, PushProgress
from prdeck.services.launch.spec import BuildSpec

BASE_IMAGE = "prdeck.localhost/busybox:stable"
BUSYBOX = Path("/bin/busybox")
SIMULATED_REGISTRY = "registry.sandbox.localhost"
BASE_DOCKERFILE = b"""FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["sh"]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LoopbackRegistry:
    """Debian's ``docker-registry`` on 127.0.0.1 with storage in a temp dir (optionally with htpasswd auth)."""

    def __init__(self, root: Path, htpasswd: Path | None = None, *, delete: bool = True) -> None:
        """``delete=False``: a registry that refuses manifest deletes (405 UNSUPPORTED), as many do by default."""
        self.root = root
        self.delete = delete
        self.port = free_port()
        self.htpasswd = htpasswd
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("docker-registry") is not None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> LoopbackRegistry:
        self.root.mkdir(parents=True, exist_ok=True)
        auth = (f"auth:\n  htpasswd:\n    realm: prdeck-sandbox\n    path: {self.htpasswd}\n" if self.htpasswd else "")
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {self.root / 'data'}\n  delete:\n    enabled: {str(self.delete).lower()}\n"
            f"http:\n  addr: {self.address}\n{auth}",
            encoding="utf-8",
        )
        self._process = subprocess.Popen(
            ["docker-registry", "serve", str(config)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=(self.root / "registry.log").open("wb"),
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if self._process.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry did not start: {(self.root / 'registry.log').read_text()[-500:]}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None


def ensure_base_image(client: Any) -> str:
    """Build ``prdeck.localhost/busybox:stable`` FROM scratch from the host's busybox-static (once per engine)."""
    import docker

    try:
        client.images.get(BASE_IMAGE)
        return BASE_IMAGE
    except docker.errors.ImageNotFound:
        pass
    if not BUSYBOX.is_file():
        raise BuildError("busybox-static is not installed", "The demo's base image is built from /bin/busybox.")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(str(BUSYBOX), arcname="busybox")
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(BASE_DOCKERFILE)
        archive.addfile(info, io.BytesIO(BASE_DOCKERFILE))
    buffer.seek(0)
    for item in client.api.build(fileobj=buffer, custom_context=True, tag=BASE_IMAGE, rm=True, decode=True):
        if "error" in item:
            raise BuildError("The sandbox base image did not build", str(item["error"]))
    return BASE_IMAGE


class SimulatedBuilder:
    """Stands in for Docker when none is reachable: reads the context, prints what a build would do, pushes nothing."""

    simulated = True

    def __init__(self, pace: float = 0.15) -> None:
        self.pace = pace
        self._pushed: set[str] = set()

    def exists(self, ref: str) -> bool:
        return ref in self._pushed

    def build(self, context: IO[bytes], build: BuildSpec, ref: str,
              on_line: Callable[[str], None], *, network: bool) -> str:
        with tarfile.open(fileobj=context, mode="r:") as archive:
            names = archive.getnames()
            dockerfile = archive.extractfile(build.dockerfile)
            steps = (dockerfile.read().decode(errors="replace") if dockerfile else "").splitlines()
        on_line(f"(simulated) sending build context: {len(names)} files"
                f"{'' if network else '; RUN steps without network'}")
        instructions = [line for line in steps if line.strip() and not line.lstrip().startswith("#")]
        for number, line in enumerate(instructions, 1):
            time.sleep(self.pace)
            on_line(f"(simulated) Step {number}/{len(instructions)} : {line.strip()}")
        on_line(f"(simulated) Successfully tagged {ref}")
        return "sha256:simulated"

    def push(self, ref: str, on_progress: Callable[[PushProgress], None], on_line: Callable[[str], None]) -> str:
        total = 4_000_000
        for step in range(1, 9):
            time.sleep(self.pace / 2)
            on_progress(PushProgress(total * step // 8, total))
        on_line(f"(simulated) pushed {ref}")
        self._pushed.add(ref)
        return "sha256:simulated"


def sandbox_builder(simulate: bool) -> Callable[[], Any]:
    """The builder factory for the sandbox: real Docker (with the base image ready) unless ``simulate``."""

    def make() -> Any:
        if simulate:
            return SimulatedBuilder()
        from prdeck.services.launch.builder import docker_client

        client = docker_client()
        ensure_base_image(client)
        return Builder(client)

    return make


def docker_ready() -> bool:
    """Can the demo build for real? A reachable engine and busybox-static."""
    if not BUSYBOX.is_file():
        return False
    try:
        from prdeck.services.launch.builder import docker_client

        docker_client().close()
    except (BuildError, ImportError):
        return False
    return True

