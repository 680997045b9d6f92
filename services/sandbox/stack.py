"""Both sandboxes together, as ``prdeck sandbox`` and ``prdeck demo`` run them: GitHub and Kubernetes.

Seeded previews take their deployed SHA from the GitHub sandbox's pull requests unless the seed names one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from prdeck.services.sandbox.github.sandbox import GitHubSandbox
from prdeck.services.sandbox.images import SIMULATED_REGISTRY, LoopbackRegistry, docker_ready
from prdeck.services.sandbox.kube.sandbox import KubeSandbox


class SandboxStack:
    def __init__(
        self,
        seed: dict[str, Any],
        *,
        github_port: int = 0,
        kube_port: int = 0,
        registry: str | None = None,
        builds: str = "off",
    ) -> None:
        """``builds``: "off" (no images), "simulate", "docker", or "auto" (docker when an engine, busybox-static and
        docker-registry are here, else simulate). With docker a loopback registry starts and the cluster checks
        pulled images against it."""
        self._tmp = tempfile.TemporaryDirectory(prefix="prdeck-sandbox-")
        root = Path(self._tmp.name)
        (root / "github").mkdir()
        (root / "kube").mkdir()
        if builds == "auto":
            builds = "docker" if LoopbackRegistry.available() and docker_ready() else "simulate"
        self.builds = builds
        self.registry = LoopbackRegistry(root / "registry") if builds == "docker" and registry is None else None
        if self.registry is not None:
            registry = self.registry.address
        self.registry_address = registry or (SIMULATED_REGISTRY if builds == "simulate" else None)
        self.github = GitHubSandbox(seed, root / "github", port=github_port)
        self.kube = KubeSandbox(seed, root / "kube", port=kube_port, registry=registry, head_of=self._head_of)

    def _head_of(self, repo: str, number: int) -> str | None:
        owner, _, name = repo.partition("/")
        found = self.github.state.repo(owner, name)
        pull = found.pulls.get(number) if found is not None else None
        return pull.head_sha if pull is not None else None

    def start(self) -> SandboxStack:
        if self.builds == "docker":
            # the demo repository builds FROM this image: make it now, so any prdeck (not only the sandbox's own
            # builder) can launch against this stack on a fresh engine
            from prdeck.services.launch.builder import docker_client
            from prdeck.services.sandbox.images import ensure_base_image

            ensure_base_image(docker_client())
        if self.registry is not None:
            self.registry.start()
        self.github.start()
        try:
            self.kube.start()
        except BaseException:
            self.github.stop()
            raise
        return self

    def stop(self) -> None:
        self.kube.stop()
        self.github.stop()
        if self.registry is not None:
            self.registry.stop()
        self._tmp.cleanup()

    def __enter__(self) -> SandboxStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def config_values(self) -> dict[str, Any]:
        """Config keys that point prdeck at this stack (``prdeck demo`` opens its deck with them)."""
        values: dict[str, Any] = {"github.api_url": self.github.api_url,
                                  "cluster.kubeconfig": str(self.kube.kubeconfig)}
        if self.registry_address and self.builds != "off":
            values["registry.url"] = self.registry_address
        return values

    def info(self) -> dict[str, Any]:
        github, kube = self.github.info(), self.kube.info()
        images: dict[str, str] = {}
        if self.registry_address and self.builds != "off":
            images = {"PRDECK_REGISTRY": self.registry_address, "PRDECK_SANDBOX_BUILDS": self.builds}
        return {**github, **kube, "registry": self.registry_address, "builds": self.builds,
                "env": {**github["env"], **kube["env"], **images}}
