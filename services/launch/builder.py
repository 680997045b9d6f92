"""Images from a PR head: the build context (:mod:`.context`) -> Docker engine -> registry.

The Docker engine reports build and push failures as items inside its streams, not as exceptions; every item is
checked. An image whose tag is already in the registry is not built again (relaunching a commit is instant). A RUN
step's output is untrusted and unbounded, so what reaches ``on_line`` is bounded (lines cut, a line budget).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from prdeck.services.errors import PrdeckError
from prdeck.services.launch.spec import BuildSpec

if TYPE_CHECKING:
    import docker

MAX_LINE_CHARS = 2_000
"""A build output line longer than this is cut (and marked): a RUN step can print one endless line."""

MAX_FORWARDED_LINES = 5_000
"""Lines passed to ``on_line`` per build; after that one "truncated" line, while the build goes on to its end."""

TAIL_LINES = 40
"""The last lines of a build, kept whatever was forwarded, for the error a failed build shows."""


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
        """Between 0 and 1, whatever the engine reported (its byte counts can pass a layer's total)."""
        return min(1.0, max(0.0, self.done / self.total)) if self.total > 0 else 0.0


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
        on_line: Callable[[str], None],
        *,
        network: bool,
    ) -> str:
        """Build ``ref``; output lines go to ``on_line`` within bounds; returns the image ID.

        Without ``network`` the RUN steps get no network at all (``network_mode="none"``); with it, the engine's
        default build network.
        """
        import docker

        output = BoundedOutput(on_line)
        image_id = ""
        options: dict[str, Any] = {} if network else {"network_mode": "none"}
        if build.target:
            options["target"] = build.target
        if build.cache_from:
            options["cache_from"] = list(build.cache_from)
        try:
            stream = self.client.api.build(
                fileobj=context, custom_context=True, tag=ref, dockerfile=build.dockerfile,
                buildargs=dict(build.args), rm=True, forcerm=True, decode=True, pull=False,
                **options,
            )
            for item in stream:
                output.feed(item)
                if "aux" in item and isinstance(item["aux"], dict):
                    image_id = item["aux"].get("ID", image_id)
                if "error" in item or "errorDetail" in item:
                    message = str(item.get("error") or (item.get("errorDetail") or {}).get("message", ""))
                    output.flush()
                    raise BuildError(f"The build of {ref} failed", _shortened(message.strip()), output.tail())
            output.flush()
        except docker.errors.APIError as exc:
            raise BuildError(f"The build of {ref} failed", exc.explanation or str(exc), output.tail()) from exc
        except docker.errors.DockerException as exc:
            raise BuildError("The Docker engine stopped answering", str(exc), output.tail()) from exc
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
                    # the engine counts compressed bytes against the layer's size: `current` can pass `total`
                    total = int(detail["total"])
                    layers[layer] = (min(int(detail.get("current", 0)), total), total)
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


class BoundedOutput:
    """The engine's build stream as lines for ``on_line``, within MAX_LINE_CHARS and MAX_FORWARDED_LINES.

    The engine sends a RUN step's output in chunks that need not end at a line break, so lines are put together
    here; a line's first MAX_LINE_CHARS are kept and the rest dropped as it arrives, so memory stays bounded.
    """

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self.on_line = on_line
        self.lines = 0
        self.cut_lines = 0
        self._partial: list[str] = []
        self._partial_chars = 0
        self._cut = False
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)

    def feed(self, item: Mapping[str, Any]) -> None:
        text = item.get("stream")
        if isinstance(text, str):
            self._text(text)
        status = item.get("status")
        if isinstance(status, str):
            self.flush()
            self._text(status)
            self.flush()

    def flush(self) -> None:
        """End the line in progress (at the end of the stream, or before an error)."""
        if self._partial or self._cut:
            self._line("".join(self._partial))

    def tail(self) -> tuple[str, ...]:
        return tuple(self._tail)

    def _text(self, text: str) -> None:
        pieces = text.replace("\r", "\n").split("\n")
        for piece in pieces[:-1]:
            self._append(piece)
            self._line("".join(self._partial))
        self._append(pieces[-1])

    def _append(self, piece: str) -> None:
        if self._cut or not piece:
            return
        room = MAX_LINE_CHARS - self._partial_chars
        self._partial.append(piece[:room])
        self._partial_chars += min(len(piece), room)
        if len(piece) > room:
            self._cut = True
            self.cut_lines += 1
            self._emit("".join(self._partial) + f" [line cut at {MAX_LINE_CHARS:,} characters]")
            self._partial, self._partial_chars = [], 0

    def _line(self, line: str) -> None:
        if not self._cut:
            self._emit(line)
        self._partial, self._partial_chars, self._cut = [], 0, False

    def _emit(self, line: str) -> None:
        if not line.strip():
            return
        self._tail.append(line)
        self.lines += 1
        if self.lines <= MAX_FORWARDED_LINES:
            self.on_line(line)
        elif self.lines == MAX_FORWARDED_LINES + 1:
            self.on_line(f"build output truncated after {MAX_FORWARDED_LINES:,} lines; the build goes on, and its "
                         f"last {TAIL_LINES} lines are kept for errors")


def _shortened(text: str) -> str:
    return text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS] + f" [cut at {MAX_LINE_CHARS:,} characters]"


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
