"""What a preview spec holds once read: the data both spec forms produce, and the one error they raise."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from prdeck.services.errors import PrdeckError


class SpecError(PrdeckError):
    """The preview spec is missing or invalid."""


def problem(path: str, key: str, reason: str) -> SpecError:
    """An invalid spec: the file, then the key or object, then the reason."""
    return SpecError(f"Invalid preview spec {path}", f"{key}: {reason}" if key else reason)


class TreeReader(Protocol):
    """Files of one commit (or a local folder): the spec is read through this, never from a fork's tree."""

    def read(self, path: str) -> str | None: ...

    def list(self, folder: str) -> list[str]: ...


@dataclass(frozen=True)
class BuildSpec:
    context: str = "."
    dockerfile: str = "Dockerfile"
    args: tuple[tuple[str, str], ...] = ()
    target: str = ""
    """The Dockerfile stage to build (compose ``build.target``); empty: the last one."""
    dockerfile_inline: str = ""
    """Compose ``dockerfile_inline``: the Dockerfile's text, added to the context as ``dockerfile``."""
    cache_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContainerSpec:
    """One Compose service, as one container of the preview pod."""

    name: str
    """The container's name: the service's name made a DNS label (``web_app`` -> ``web-app``)."""
    image: str | None
    build: BuildSpec | None
    environment: tuple[tuple[str, str], ...] = ()
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    ports: tuple[int, ...] = ()
    memory: str | None = None
    cpus: str | None = None
    readiness: Mapping[str, Any] | None = None
    capabilities: tuple[str, ...] = ()
    """``cap_add``: only capabilities Pod Security ``baseline`` allows."""
    service: str = ""
    """The name in the compose file, when it differs from ``name``."""
    restart: str = ""
    """Compose ``restart``: ``"no"`` or ``on-failure`` make it a one-shot (an init container)."""
    depends_on: tuple[tuple[str, str], ...] = ()
    """``(service, condition)`` pairs from ``depends_on``."""
    start_period: int = 0
    """The healthcheck's ``start_period`` in seconds (``readiness`` then holds compose's defaults)."""
    hostnames: tuple[str, ...] = ()
    """Names the other services reach it by: service name, ``hostname``, network aliases (for hostAliases)."""
    port_bindings: tuple[tuple[int, int, str], ...] = ()
    """``(published or 0, container port, protocol)`` of ``ports`` and ``expose``."""
    memory_request: str | None = None
    cpu_request: str | None = None
    volume_mounts: tuple[Mapping[str, Any], ...] = ()
    """Kubernetes ``volumeMounts`` of its ``volumes``, ``tmpfs``, ``configs`` and ``secrets``."""
    run_as_user: int | None = None
    """``user``'s numeric id (``runAsUser``); None: the image's own ``USER``."""
    run_as_group: int | None = None
    """``user``'s numeric group (``runAsGroup``)."""


@dataclass(frozen=True)
class PreviewSpec:
    source: str
    """The file or folder it was read from, relative to the repository root."""
    form: str
    """"compose" or "manifests"."""
    containers: tuple[ContainerSpec, ...] = ()
    ingress_port: int | None = None
    manifests: tuple[Mapping[str, Any], ...] = ()
    images: tuple[tuple[str, BuildSpec], ...] = ()
    """Manifests form: image names built from the PR (config ``images``)."""
    warnings: tuple[str, ...] = field(default=())
    ingress_service: str = ""
    """Compose form: the service (its compose name) that gets the URL."""
    ttl: timedelta | None = None
    """``x-uffizzi.delete_preview_after``: how long the preview lives (None: config ``preview.ttl_hours``)."""
    volumes: tuple[Mapping[str, Any], ...] = ()
    """Compose form: the pod's ``volumes`` (emptyDirs, and the ConfigMaps and Secrets of ``files``)."""
    files: tuple[Mapping[str, Any], ...] = ()
    """Compose form: ConfigMaps and Secrets of files from the repository (``metadata`` holds only the name)."""

    @property
    def builds(self) -> list[tuple[str, BuildSpec]]:
        """``(name, build)`` for every image this spec builds from the PR head."""
        if self.form == "compose":
            return [(c.name, c.build) for c in self.containers if c.build is not None]
        return list(self.images)
