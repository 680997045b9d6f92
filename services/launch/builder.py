"""Images from a PR head: the commit's tree (``git archive``, .dockerignore honoured) -> Docker engine -> registry.

The Docker engine reports build and push failures as items inside its streams, not as exceptions; every item is
checked. An image whose tag is already in the registry is not built again (relaunching a commit is instant).
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from prdeck.services.errors import PrdeckError
from prdeck.services.launch.spec import BuildSpec

if TYPE_CHECKING:
    import docker


class BuildError(PrdeckError):
    """The image could not be built (bad Dockerfile, a failing step, no Docker engine)."""

    def __init__(self, title: str, detail: str = "", output: tuple[str, ...] = ()) -> None:
        super().__init__(title, detail)
        self.output = output


class RegistryError(PrdeckError):
    """The registry refused, or could not be reached."""


@dataclass(frozen=True)
class PushProgress:
    done: int
    total: int

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


def image_ref(registry: str, repo_slug: str, service: str, number: int, sha: str) -> str:
    """``<registry>/<repo-slug>-<service>:pr-<n>-<sha12>`` (README, "Images")."""
    return f"{registry.rstrip('/')}/{repo_slug}-{service}:pr-{number}-{sha[:12]}".lower()


def docker_client() -> docker.DockerClient:
    """The engine named by DOCKER_HOST (else the default socket), checked with a ping."""
    import docker

    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except docker.errors.DockerException as exc:
        raise BuildError(
            "The Docker engine is not reachable",
            f"{exc}. Start dockerd, or point DOCKER_HOST at a running engine.",
        ) from exc
    return client


def context_tar(archive: bytes, build: BuildSpec) -> IO[bytes]:
    """The build context as a tar: the commit's tree minus what .dockerignore excludes (Dockerfile always kept)."""
    from docker.utils.build import PatternMatcher

    source = tarfile.open(fileobj=io.BytesIO(archive), mode="r:")  # noqa: SIM115 (read while the copy is written)
    members = {member.name.removeprefix("./"): member for member in source.getmembers()}
    dockerfile = build.dockerfile.removeprefix("./")
    if dockerfile not in members or not members[dockerfile].isfile():
        raise BuildError(
            f"No {build.dockerfile} in the build context",
            f"The spec builds from {build.context!r} with dockerfile {build.dockerfile!r}, which this commit lacks.",
        )
    ignore = source.extractfile(members[".dockerignore"]) if ".dockerignore" in members else None
    patterns = _ignore_patterns(ignore.read().decode(errors="replace")) if ignore else []
    matcher = PatternMatcher(patterns)
    spooled = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)  # noqa: SIM115 (returned to the caller)
    with tarfile.open(fileobj=spooled, mode="w:") as target:
        for name, member in members.items():
            if not name or name in (dockerfile, ".dockerignore") or not matcher.matches(name):
                member.name = name or "."
                target.addfile(member, source.extractfile(member) if member.isfile() else None)
    spooled.seek(0)
    return spooled


def _ignore_patterns(text: str) -> list[str]:
    lines = (line.strip() for line in text.splitlines())
    return [line.lstrip("/") if not line.startswith("!") else "!" + line[1:].lstrip("/") for line in lines
            if line and not line.startswith("#")]


class Builder:
    """Build and push through one Docker engine (blocking; run in a worker thread)."""

    simulated = False

    def __init__(self, client: docker.DockerClient, auth: Mapping[str, str] | None = None) -> None:
        self.client = client
        self.auth = dict(auth) if auth else None

    def exists(self, ref: str) -> bool:
        """Is ``ref`` already in its registry? Asked through the engine, so the engine's credentials apply."""
        import docker

        try:
            self.client.api.inspect_distribution(ref, auth_config=self.auth)
        except docker.errors.NotFound:
            return False
        except docker.errors.APIError as exc:
            if "manifest unknown" in str(exc) or "name unknown" in str(exc):
                return False
            raise _registry_error(ref, exc.explanation or str(exc)) from exc
        return True

    def build(
        self,
        context: IO[bytes],
        build: BuildSpec,
        ref: str,
        labels: Mapping[str, str],
        on_line: Callable[[str], None],
    ) -> str:
        """Build ``ref``; every output line goes to ``on_line``; returns the image ID."""
        import docker

        tail: list[str] = []
        image_id = ""
        try:
            stream = self.client.api.build(
                fileobj=context, custom_context=True, tag=ref, dockerfile=build.dockerfile,
                buildargs=dict(build.args), labels=dict(labels), rm=True, forcerm=True, decode=True, pull=False,
            )
            for item in stream:
                for line in _build_lines(item):
                    tail = [*tail[-39:], line]
                    on_line(line)
                if "aux" in item and isinstance(item["aux"], dict):
                    image_id = item["aux"].get("ID", image_id)
                if "error" in item or "errorDetail" in item:
                    message = item.get("error") or item["errorDetail"].get("message", "")
                    raise BuildError(f"The build of {ref} failed", message.strip(), tuple(tail))
        except docker.errors.APIError as exc:
            raise BuildError(f"The build of {ref} failed", exc.explanation or str(exc), tuple(tail)) from exc
        except docker.errors.DockerException as exc:
            raise BuildError("The Docker engine stopped answering", str(exc), tuple(tail)) from exc
        return image_id

    def push(self, ref: str, on_progress: Callable[[PushProgress], None], on_line: Callable[[str], None]) -> str:
        """Push ``ref``; returns the pushed digest. Errors arrive as stream items and are raised."""
        import docker

        repository, _, tag = ref.rpartition(":")
        layers: dict[str, tuple[int, int]] = {}
        digest = ""
        try:
            for item in self.client.api.push(repository, tag=tag, stream=True, decode=True, auth_config=self.auth):
                if "error" in item or "errorDetail" in item:
                    message = item.get("error") or (item.get("errorDetail") or {}).get("message", "")
                    raise _registry_error(ref, message)
                layer, detail = item.get("id"), item.get("progressDetail") or {}
                if layer and detail.get("total"):
                    layers[layer] = (int(detail.get("current", 0)), int(detail["total"]))
                elif layer and item.get("status") in ("Pushed", "Layer already exists", "Mounted from"):
                    size = layers.get(layer, (1, 1))[1]
                    layers[layer] = (size, size)
                elif item.get("status") and not layer:
                    on_line(str(item["status"]))
                aux = item.get("aux")
                if isinstance(aux, dict) and aux.get("Digest"):
                    digest = str(aux["Digest"])
                if layers:
                    on_progress(PushProgress(sum(d for d, _ in layers.values()), sum(t for _, t in layers.values())))
        except docker.errors.APIError as exc:
            raise _registry_error(ref, exc.explanation or str(exc)) from exc
        return digest


def _build_lines(item: Mapping[str, Any]) -> Iterator[str]:
    text = item.get("stream")
    if isinstance(text, str):
        yield from (line for line in text.splitlines() if line.strip())
    status = item.get("status")
    if isinstance(status, str):
        yield status


def _registry_error(ref: str, message: str) -> RegistryError:
    registry = ref.split("/", 1)[0]
    lowered = message.lower()
    if "unauthorized" in lowered or "authentication required" in lowered or "denied" in lowered:
        return RegistryError(
            f"The registry {registry} refused the credentials",
            f"{message.strip()}. Log in with `docker login {registry}`, or set registry.username and "
            f"PRDECK_REGISTRY_PASSWORD.",
        )
    return RegistryError(
        f"The registry {registry} is not reachable",
        f"{message.strip()}. Check registry.url in the config and that the registry is running.",
    )
