"""The manifests form of a preview spec: plain Kubernetes YAML, or a kustomization's ``resources:``.

Every object is checked before anything is built: a valid name (it becomes part of an API URL), a kind a preview
may hold, nothing that widens the namespace's guards (:mod:`prdeck.services.launch.pod_policy`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from prdeck.services import naming
from prdeck.services.launch import kube_values
from prdeck.services.launch.pod_policy import PodPolicy, object_problem, pod_specs, pod_templates
from prdeck.services.launch.spec_compose import yaml_documents
from prdeck.services.launch.spec_types import BuildSpec, PreviewSpec, SpecError, TreeReader, problem

MAX_OBJECTS = 500
"""Objects one manifests spec may hold."""
MAX_FILES = 200
"""Files a manifests folder (with its kustomizations) may list."""


def load_manifests(
    tree: TreeReader, folder: str, images: Mapping[str, Mapping[str, str]], policy: PodPolicy
) -> PreviewSpec:
    objects: list[Mapping[str, Any]] = []
    for path in _manifest_files(tree, folder, set()):
        for index, document in enumerate(yaml_documents(tree.read(path) or "", path)):
            objects.append(_checked(document, path, index, policy))
            if len(objects) > MAX_OBJECTS:
                raise problem(folder, "", f"more than {MAX_OBJECTS} objects; a preview may have at most "
                                          f"{MAX_OBJECTS}")
    if not objects:
        raise problem(folder, "", "no Kubernetes objects found")
    builds = []
    for name, build in sorted(images.items()):
        if not isinstance(build, Mapping):
            raise SpecError("Invalid config value", f"images.{name} must be a table with context and dockerfile")
        builds.append((name, BuildSpec(str(build.get("context", ".")), str(build.get("dockerfile", "Dockerfile")))))
    return PreviewSpec(source=folder, form="manifests", manifests=tuple(objects), images=tuple(builds))


def _checked(document: Any, path: str, index: int, policy: PodPolicy) -> Mapping[str, Any]:
    if not isinstance(document, dict) or not document.get("kind") or not document.get("apiVersion"):
        raise problem(path, f"document {index + 1}", "a Kubernetes object needs apiVersion and kind")
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not name:
        raise problem(path, f"document {index + 1}", "metadata.name is missing")
    where = f"{str(document['kind'])[:63]} {str(name)[:80]!r}"
    if not naming.is_dns_subdomain(name):
        raise problem(path, where, "metadata.name must be lower-case letters, digits, '-' and '.' (an RFC 1123 "
                                   "name, at most 253 characters)")
    try:
        reason = object_problem(document, policy) or _values_problem(document)
    except (AttributeError, TypeError, ValueError) as exc:
        reason = f"unexpected shape ({exc})"
    if reason:
        raise problem(path, where, reason)
    return document


POD_KINDS = frozenset({"Pod", "Deployment", "StatefulSet", "ReplicaSet", "Job", "CronJob"})


def _values_problem(document: dict[str, Any]) -> str | None:
    """Values the API server would refuse at apply (after the build): shapes prdeck reads, and in pods the
    container names, images, env, ports, resources and probes (:mod:`prdeck.services.launch.kube_values`)."""
    reason = kube_values.metadata_problem(document["metadata"])
    if reason:
        return reason
    if document.get("spec") is not None and not isinstance(document["spec"], dict):
        return "spec must be a mapping"
    if document["kind"] == "Service":
        return kube_values.service_problem(document.get("spec") or {})
    templates, pods = list(pod_templates(document)), list(pod_specs(document))
    if document["kind"] in POD_KINDS and not pods:
        return "its pod spec is missing (spec.template.spec, or spec for a Pod)"
    for template in templates:
        if template is not document and (reason := kube_values.metadata_problem(template.get("metadata"),
                                                                                "template metadata")):
            return reason
    return next((reason for pod in pods if (reason := kube_values.pod_problem(pod))), None)


def _manifest_files(tree: TreeReader, folder: str, seen: set[str]) -> list[str]:
    if folder in seen:
        raise problem(folder, "resources", "a kustomization includes itself")
    seen.add(folder)
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        text = tree.read(posixpath.join(folder, name))
        if text is None:
            continue
        documents = yaml_documents(text, posixpath.join(folder, name))
        resources = documents[0].get("resources") if documents and isinstance(documents[0], dict) else None
        if not isinstance(resources, list):
            raise problem(posixpath.join(folder, name), "resources", "a list of files or folders is needed")
        files: list[str] = []
        for entry in resources:
            path = posixpath.normpath(posixpath.join(folder, str(entry)))
            if path == ".." or path.startswith(("../", "/")):
                raise problem(posixpath.join(folder, name), "resources", f"{entry} is outside the repository")
            if tree.read(path) is not None:
                files.append(path)
            elif tree.list(path):
                files.extend(_manifest_files(tree, path, seen))
            else:
                raise problem(posixpath.join(folder, name), "resources", f"{entry} does not exist")
            if len(files) > MAX_FILES:
                raise problem(posixpath.join(folder, name), "resources", f"more than {MAX_FILES} files")
        return files
    files = sorted(path for path in tree.list(folder) if path.endswith((".yaml", ".yml")))
    if len(files) > MAX_FILES:
        raise problem(folder, "", f"{len(files)} files; a manifests folder may have at most {MAX_FILES}")
    return files
