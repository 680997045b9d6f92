"""Deleting a pull request's preview images from the registry through its HTTP API (Docker Registry v2 / OCI
distribution): ``pr-<n>-*`` tags of the repository's image repositories (README, "Images" and "Reaping").

The catalog is read once, the tags of each of the repository's image repositories once, then each tag's manifest
is deleted by digest (``HEAD`` for the ``Docker-Content-Digest``, then ``DELETE``), which is what the API allows.
A registry that refuses deletes (405 ``UNSUPPORTED``, 403) gives a warning, not a failure; one already gone (404)
is done: two reaps at once both succeed.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prdeck.services import naming
from prdeck.services.models import RepoRef

MANIFEST_TYPES = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
))
TIMEOUT = 10.0
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class RegistryTarget:
    """``registry.url`` (host and path) and its credentials (``registry.username``, $PRDECK_REGISTRY_PASSWORD)."""

    url: str
    auth: Mapping[str, str] | None = None

    @property
    def host(self) -> str:
        return self.url.split("/", 1)[0]

    @property
    def path(self) -> str:
        return self.url.split("/", 1)[1].strip("/") if "/" in self.url else ""

    @property
    def base(self) -> str:
        hostname = self.host.rsplit(":", 1)[0] if not self.host.startswith("[") else self.host.split("]")[0] + "]"
        plain = hostname in LOOPBACK or hostname.endswith(".localhost")
        return f"{'http' if plain else 'https'}://{self.host}/v2"


class RegistryTags:
    """Finds and deletes the tags of pull requests (blocking; ``requests`` counts the HTTP requests made)."""

    def __init__(self, target: RegistryTarget, warn: Callable[[str], None]) -> None:
        self.target = target
        self.warn = warn
        self.requests = 0
        self._catalog: list[str] | None = None
        self._refused = False

    def _call(self, method: str, url: str, headers: Mapping[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
        request = urllib.request.Request(url, method=method, headers=dict(headers or {}))
        auth = self.target.auth or {}
        if auth.get("username"):
            token = base64.b64encode(f"{auth['username']}:{auth.get('password', '')}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                body = response.read()
                return response.status, body, dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers or {})

    def _repositories(self) -> list[str]:
        """Every image repository of the registry (the catalog, paged by ``Link``)."""
        if self._catalog is None:
            names: list[str] = []
            url: str | None = f"{self.target.base}/_catalog?n=1000"
            while url:
                status, body, headers = self._call("GET", url)
                if status != 200:
                    raise OSError(f"the registry's catalog answered {status}")
                names.extend(json.loads(body or b"{}").get("repositories") or [])
                link = headers.get("Link") or headers.get("link") or ""
                url = f"{self.target.base.removesuffix('/v2')}{link.split(';')[0].strip('<> ')}" if link else None
            self._catalog = names
        return self._catalog

    def image_repositories(self, repo: RepoRef) -> list[str]:
        """``<path>/<repo key>-<service>`` repositories (README, "Images"); a readable key never meets a hashed one:
        the rest of the name is a service, which has no ``--``."""
        key = naming.repo_key(repo)
        prefix = f"{self.target.path}/{key}-" if self.target.path else f"{key}-"
        return [name for name in self._repositories()
                if name.startswith(prefix) and ("--" in key or "--" not in name[len(prefix):])]

    def delete_pulls(self, pulls: Iterable[tuple[RepoRef, int]]) -> list[str]:
        """Delete every ``pr-<n>-*`` tag of ``pulls``; returns ``name:tag`` of each deleted one. Failures to reach
        the registry and refused deletes are warnings."""
        wanted: dict[RepoRef, set[int]] = {}
        for repo, number in pulls:
            wanted.setdefault(repo, set()).add(number)
        deleted: list[str] = []
        try:
            for repo, numbers in wanted.items():
                for name in self.image_repositories(repo):
                    deleted.extend(self._delete_tags(name, numbers))
        except (OSError, ValueError) as exc:
            self.warn(f"registry {self.target.host}: tags not deleted ({exc})")
        return deleted

    def _delete_tags(self, name: str, numbers: set[int]) -> list[str]:
        status, body, _ = self._call("GET", f"{self.target.base}/{name}/tags/list")
        if status == 404:
            return []
        if status != 200:
            raise OSError(f"listing the tags of {name} answered {status}")
        tags = json.loads(body or b"{}").get("tags") or []
        mine = [tag for tag in tags if any(tag.startswith(f"pr-{number}-") for number in numbers)]
        deleted = []
        for tag in mine:
            if self._refused:
                break
            status, _, headers = self._call("HEAD", f"{self.target.base}/{name}/manifests/{tag}",
                                            {"Accept": MANIFEST_TYPES})
            digest = headers.get("Docker-Content-Digest") or headers.get("docker-content-digest")
            if status == 404 or not digest:
                continue  # deleted meanwhile (another reap)
            status, _, _ = self._call("DELETE", f"{self.target.base}/{name}/manifests/{digest}")
            if status in (200, 202, 404):
                deleted.append(f"{name}:{tag}")
            elif status in (403, 405):
                self._refused = True
                self.warn(f"registry {self.target.host} refuses deletes ({status}): tags like {name}:{tag} stay; "
                          "enable deletes (storage.delete.enabled) or remove them with the registry's own tools")
            else:
                raise OSError(f"deleting {name}:{tag} answered {status}")
        return deleted
