"""The knobs of the Kubernetes sandbox's simulated cluster: how fast pods move, and what each image does."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Timing:
    """Seconds between the steps of a pod's life (tests make them short, demos a little longer)."""

    schedule: float = 0.2
    create: float = 0.8
    ready: float = 1.0
    log_every: float = 2.0
    crash_after: float = 1.5
    backoff: float = 2.0
    terminate: float = 0.5


@dataclass
class ImageBehaviour:
    """What the sandbox does with an image: start after ``ready_after`` s, crash, never be ready, be missing."""

    crash: bool = False
    exit_code: int = 1
    """How a crashing container ends: 0 is a one-shot job that a pod restarts anyway."""
    missing: bool = False
    never_ready: bool = False
    ready_after: float | None = None


@dataclass
class Behaviours:
    images: dict[str, ImageBehaviour] = field(default_factory=dict)
    registry: str | None = None
    """``host:port`` of a registry whose images are checked for real over its HTTP API."""

    def of(self, image: str) -> ImageBehaviour:
        return self.images.get(image, ImageBehaviour())
