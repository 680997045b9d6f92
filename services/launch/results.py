"""What a launch produces and how it fails: results, step records, the plan, and the launch errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from prdeck.services.errors import PrdeckError, UsageError
from prdeck.services.launch.builder import PushProgress
from prdeck.services.launch.git_mirror import GitMirror
from prdeck.services.launch.render import Placement
from prdeck.services.launch.spec import BuildSpec, PreviewSpec, SpecError
from prdeck.services.models import PullDetail, RepoRef

BUILD_TIME_FILES = ("Dockerfile", "dockerfile", ".dockerignore", "compose", "Makefile", "package.json", "setup.py",
                    "pyproject.toml", "requirements", ".sh", ".github/", ".prdeck/", "scripts/", "build")


class LaunchFailed(PrdeckError):
    """A step failed; ``output`` holds its last lines (build log, events, log tail)."""

    def __init__(self, step: str, cause: PrdeckError, output: tuple[str, ...] = ()) -> None:
        # A refused approval, an invalid or missing spec, a closed PR: said as they are, not as "fetch failed".
        own = isinstance(cause, ApprovalNeeded | SpecError | UsageError)
        super().__init__(cause.title if own else f"{step} failed: {cause.title}", cause.detail)
        self.step = step
        self.cause = cause
        self.output = output


class ApprovalNeeded(PrdeckError):
    """A fork PR is launched only with an approval naming its current head SHA."""


class LaunchCancelled(PrdeckError):
    """The app quit or the user stopped the launch; the journal keeps it as interrupted."""

    destroyed = False
    """A destroy won: the preview is gone, so nothing is left to show as interrupted."""


class LaunchDestroyed(LaunchCancelled):
    """The preview's namespace was destroyed (here or elsewhere) while the launch ran."""

    destroyed = True


class ImageBuilder(Protocol):
    simulated: bool

    def exists(self, ref: str) -> bool: ...

    def build(self, context: Any, build: BuildSpec, ref: str,
              on_line: Callable[[str], None], *, network: bool) -> str: ...

    def push(self, ref: str, on_progress: Callable[[PushProgress], None], on_line: Callable[[str], None]) -> str: ...


@dataclass(frozen=True)
class StepRecord:
    name: str
    state: str
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class LaunchResult:
    repo: RepoRef
    number: int
    namespace: str
    sha: str
    url: str | None
    """The Ingress URL; None without cluster.domain (open it through a relay: `o`, `prdeck open`)."""
    images: tuple[str, ...]
    steps: tuple[StepRecord, ...]
    seconds: float
    built: bool
    simulated: bool
    stale: bool = False
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "repo": self.repo.full_name, "number": self.number, "namespace": self.namespace, "sha": self.sha,
            "url": self.url,
            "images": list(self.images), "built": self.built, "simulated": self.simulated, "stale": self.stale,
            "seconds": round(self.seconds, 3), "warnings": list(self.warnings),
            "steps": [{"name": s.name, "state": s.state, "seconds": round(s.seconds, 3), "detail": s.detail}
                      for s in self.steps],
        }


@dataclass
class Plan:
    """Everything known after the fetch step."""

    repo: RepoRef
    pull: PullDetail
    mirror: GitMirror
    spec: PreviewSpec
    placement: Placement
    images: dict[str, str] = field(default_factory=dict)
    server_version: tuple[int, int] | None = None
    """The cluster's Kubernetes version, asked once the namespace is claimed (None: not known)."""
    in_use: dict[str, Any] | None = None
    """What the namespace's pods use before this launch (its quota's ``status.used``): a relaunch rolls the new
    pods in next to them, and the new quota keeps room for both."""
    kept_pods: bool = False
    """The commit already runs, ready: the launch keeps its pods (same template, no restart)."""
    reported_deployment: int | None = None
    """The GitHub deployment that already shows this commit's preview ready at this URL (a relaunch that keeps its
    pods): the launch reports on it only if something changes (see :func:`already_reported`)."""

    @property
    def sha(self) -> str:
        return self.pull.head_sha


def is_build_time_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(marker in (path if marker.endswith("/") else name) for marker in BUILD_TIME_FILES)


@dataclass(frozen=True)
class Rendered:
    """What ``prdeck render`` prints: the objects a launch would apply, and the spec's warnings."""

    objects: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...]
