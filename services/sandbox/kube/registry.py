"""Whether the kubelet can pull an image: missing by the seed's say-so, or checked for real against a registry.

Only images on the configured registry (``Behaviours.registry``) are checked over its HTTP API (a ``HEAD`` of the
manifest); any other image is there unless its behaviour says it is missing.
"""

from __future__ import annotations

import aiohttp

from prdeck.services.sandbox.kube.behaviour import Behaviours

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
)


def image_host(image: str) -> str | None:
    first, _, rest = image.partition("/")
    return first if rest and ("." in first or ":" in first or first == "localhost") else None


def split_image(image: str) -> tuple[str, str]:
    """``host:5000/team/app:tag`` -> (``team/app``, ``tag``); a digest reference keeps its digest."""
    host = image_host(image)
    path = image[len(host) + 1 :] if host else image
    if "@" in path:
        name, _, digest = path.partition("@")
        return name, digest
    name, _, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "latest")
    return name, tag or "latest"


class ImageRegistry:
    """Answers "is this image there?"; holds the HTTP session while the world runs (``open`` / ``close``)."""

    def __init__(self, behaviours: Behaviours) -> None:
        self.behaviours = behaviours
        self._http: aiohttp.ClientSession | None = None

    def open(self) -> None:
        """Start the HTTP session; called from the running loop (aiohttp binds a session to it)."""
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def has(self, image: str) -> bool:
        if self.behaviours.of(image).missing:
            return False
        registry = self.behaviours.registry
        if registry is None or image_host(image) != registry or self._http is None:
            return True
        name, reference = split_image(image)
        try:
            async with self._http.head(
                f"http://{registry}/v2/{name}/manifests/{reference}", headers={"Accept": MANIFEST_TYPES}
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False
