"""The preview spec: what a launch builds and runs, read from the repository.

Two forms (README, "Preview spec"):

- **Compose** (Uffizzi-compatible): a compose file with an ``x-prdeck`` (or ``x-uffizzi``) block naming the
  ingress service and port. Every service becomes a container of ONE pod, so services reach each other on
  ``localhost`` as they do on Uffizzi.
- **Manifests**: plain Kubernetes YAML (or a kustomization's ``resources:``); images named in config ``images`` are
  built from the PR and substituted.

Found by config ``preview.spec`` or, in order: ``.prdeck/compose.yml``, ``.prdeck/manifests/``, a compose file under
``.github/uffizzi/`` with an ``x-uffizzi`` block. Every problem is a :class:`SpecError` naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping

from prdeck.services.launch.pod_policy import PodPolicy
from prdeck.services.launch.spec_compose import parse_compose
from prdeck.services.launch.spec_manifests import load_manifests
from prdeck.services.launch.spec_types import BuildSpec, ContainerSpec, PreviewSpec, SpecError, TreeReader

COMPOSE_PATH = ".prdeck/compose.yml"
MANIFESTS_DIR = ".prdeck/manifests"
UFFIZZI_DIR = ".github/uffizzi"
URL_VARIABLES = ("PRDECK_URL", "UFFIZZI_URL")
"""prdeck's own variables: ``${PRDECK_URL}`` in a compose spec becomes Kubernetes' ``$(PRDECK_URL)``, which the
container's environment (and command) expand to the preview's URL."""


def find_spec(tree: TreeReader, configured: str = "") -> str:
    """The spec's path in the tree (a file or a manifests folder)."""
    if configured:
        if tree.read(configured) is not None or tree.list(configured):
            return configured
        raise SpecError(f"No preview spec at {configured}", "config preview.spec names a path the repository lacks.")
    if tree.read(COMPOSE_PATH) is not None:
        return COMPOSE_PATH
    if tree.list(MANIFESTS_DIR):
        return MANIFESTS_DIR
    for path in sorted(tree.list(UFFIZZI_DIR)):
        if path.endswith((".yml", ".yaml")) and "x-uffizzi" in (tree.read(path) or ""):
            return path
    raise SpecError(
        "This repository has no preview spec",
        f"Add {COMPOSE_PATH} (a compose file with an x-prdeck ingress block), a {MANIFESTS_DIR}/ folder, or a "
        f"compose file with x-uffizzi under {UFFIZZI_DIR}/; or set preview.spec in the config.",
    )


def load_spec(
    tree: TreeReader,
    *,
    configured: str = "",
    variables: Mapping[str, str] | None = None,
    images: Mapping[str, Mapping[str, str]] | None = None,
    policy: PodPolicy | None = None,
) -> PreviewSpec:
    """Find and parse the spec. ``variables`` and :data:`URL_VARIABLES` are ALL a compose spec's ``${VAR}`` can
    see: the caller decides (config ``preview.variables`` and ``preview.pass_env``), never prdeck's environment."""
    path = find_spec(tree, configured)
    text = tree.read(path)
    if text is None:
        return load_manifests(tree, path, images or {}, policy or PodPolicy())
    known = {**{name: f"$({name})" for name in URL_VARIABLES}, **(variables or {})}
    return parse_compose(text, path, known.get)


__all__ = ["URL_VARIABLES", "BuildSpec", "ContainerSpec", "PreviewSpec", "SpecError", "TreeReader", "find_spec",
           "load_spec"]
