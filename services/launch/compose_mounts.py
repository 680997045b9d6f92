"""Compose's volumes, configs, secrets and tmpfs as the preview pod's volumes (issue 14, "Files from the repository").

- A bind mount of a file or folder of the repository (relative to the compose file's folder, read from the spec's
  commit) becomes a ConfigMap mounted at the target: a file with ``subPath``, a folder as a directory (nested
  folders through ``items``). A source the commit lacks is an empty folder, as Compose creates it.
- Top-level ``configs:`` / ``secrets:`` (``file:``, ``content:``, ``environment:``) become a ConfigMap / Secret,
  mounted where the service's reference says (``/<name>``, ``/run/secrets/<name>`` by default).
- A named volume is an emptyDir shared by every container that mounts it; an anonymous one an emptyDir of its
  own; ``tmpfs`` an emptyDir in memory.
- Refused, naming the service and the path: sources outside the repository (absolute, ``~``, ``..`` past the
  root), the Docker socket, host paths of a volume's ``driver_opts``, ``devices``.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from prdeck.services.launch import compose_file_data as data
from prdeck.services.launch.build_copies import context_destinations
from prdeck.services.launch.compose_files import repository_path
from prdeck.services.launch.compose_values import memory_quantity
from prdeck.services.launch.compose_volumes import Volume, is_file_path, parse_tmpfs, parse_volume
from prdeck.services.launch.guards import SECRET_NAME
from prdeck.services.launch.spec_types import SpecError, TreeReader, problem

SERVICE_KEYS = frozenset({"volumes", "configs", "secrets", "tmpfs", "devices"})
TOP_KEYS = frozenset({"volumes", "configs", "secrets"})
_DEFAULT_TARGETS = {"configs": "/", "secrets": "/run/secrets/"}


@dataclass(frozen=True)
class PodFiles:
    """``mounts`` (volumeMounts by compose service name), the pod's ``volumes``, and the ConfigMaps and Secrets
    they read (``metadata`` holds only the name), to apply before the Deployment."""

    mounts: Mapping[str, tuple[Mapping[str, Any], ...]]
    volumes: tuple[Mapping[str, Any], ...]
    objects: tuple[Mapping[str, Any], ...]


def label(*parts: str) -> str:
    """A DNS label from ``parts``; a name that had to change (case, ``_``, length) gets a hash of the original,
    so two sources never share one volume by accident."""
    raw = "-".join(parts)
    name = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")
    if name != raw or len(name) > 63:
        name = f"{name[:55].rstrip('-')}-{hashlib.sha256(raw.encode()).hexdigest()[:7]}"
    return name


def pod_files(path: str, document: Mapping[str, Any], containers: Mapping[str, str], tree: TreeReader | None,
              lookup: Callable[[str], str | None], warnings: list[str],
              secret_names: Collection[str] = ()) -> PodFiles:
    """What every service in ``containers`` (compose name -> container name) mounts; ``secret_names``: the names
    config ``preview.secrets`` fills (an ``external`` secret of that name comes from there)."""
    builder = _Builder(path, document, tree, lookup, warnings)
    builder.secret_names = frozenset(secret_names)
    services = {str(name): service for name, service in (document.get("services") or {}).items()}
    mounts = {name: builder.service(name, container, services[name]) for name, container in containers.items()}
    return PodFiles(mounts, tuple(builder.volumes.values()), tuple(builder.objects))


class _Builder:
    def __init__(self, path: str, document: Mapping[str, Any], tree: TreeReader | None,
                 lookup: Callable[[str], str | None], warnings: list[str]) -> None:
        self.path, self.document, self.tree, self.lookup, self.warnings = path, document, tree, lookup, warnings
        self.volumes: dict[str, dict[str, Any]] = {}
        self.objects: list[dict[str, Any]] = []
        self.files: dict[str, data.FileData] = {}
        self.secret_names: frozenset[str] = frozenset()

    def service(self, name: str, container: str, service: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
        where = f"services.{name}"
        devices = service.get("devices")
        if devices:
            first = devices[0] if isinstance(devices, list) else devices
            raise problem(self.path, f"{where}.devices", f"{str(first)[:200]!r}: a preview container cannot use the "
                          "node's devices")
        mounts: list[dict[str, Any]] = []
        context = _build_context(self.path, service.get("build"))
        for number, entry in enumerate(_entries(self.path, f"{where}.volumes", service.get("volumes")), 1):
            try:
                volume = parse_volume(entry)
            except ValueError as exc:
                raise problem(self.path, f"{where}.volumes", str(exc)) from exc
            if volume.kind == "bind" and context is not None:
                mount = self._context_mount(volume, where, container, number, context, service.get("build"))
                if mount is not None:
                    mounts.append(mount)
                continue
            mounts.append(self._volume(volume, where, container, number))
        for number, entry in enumerate(_entries(self.path, f"{where}.tmpfs", service.get("tmpfs")), 1):
            try:
                mounts.append(self._tmpfs(parse_tmpfs(entry), where, container, f"t{number}"))
            except ValueError as exc:
                raise problem(self.path, f"{where}.tmpfs", str(exc)) from exc
        for kind in ("configs", "secrets"):
            for entry in _entries(self.path, f"{where}.{kind}", service.get(kind)):
                mounts.append(self._reference(kind, entry, f"{where}.{kind}"))
        seen: set[str] = set()
        for mount in mounts:
            if mount["mountPath"] in seen:
                raise problem(self.path, where, f"two volumes, configs or secrets are mounted at {mount['mountPath']}")
            seen.add(mount["mountPath"])
        return tuple(mounts)

    def _context_mount(self, volume: Volume, where: str, container: str, number: int, context: str,
                       build: Any) -> dict[str, Any] | None:
        """A bind mount of (a folder of) the service's own build context — a development mount: the image built
        from this commit has those files where its Dockerfile copies them (``COPY . /app``). Mounted only when
        they are wanted elsewhere (and fit in 1 MiB); else left out, with a warning."""
        key = f"{where}.volumes"
        source = self._repository_path(key, volume.source)
        if not (_holds(source, context) or _holds(context, source)):
            return self._volume(volume, where, container, number)
        dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
        raw_context = build if isinstance(build, str) else build.get("context", ".") if isinstance(build, dict) else "."
        copied = context_destinations(self.tree, str(raw_context), str(dockerfile)) if self.tree else set()
        inner = posixpath.relpath(source, context or ".") if source != context and _holds(context, source) else "."
        expected = {posixpath.normpath(posixpath.join(folder, inner)) for folder in copied}
        target = posixpath.normpath(volume.target)
        parent = source != context and _holds(source, context)
        if parent or target in expected or (inner == "." and not copied):
            self.warnings.append(f"{self.path}: {key}: {volume.source} (the service's build context) is not mounted: "
                                 "the image built from this commit has its files")
            return None
        try:
            return self._volume(volume, where, container, number)
        except SpecError as exc:
            if not data.is_too_large(exc):
                raise
            self.warnings.append(f"{self.path}: {key}: {volume.source} (in the service's build context) is over "
                                 "what a ConfigMap holds and is not mounted: the image built from this commit has "
                                 f"its files{f' (at {sorted(copied)[0]})' if copied else ''}")
            return None

    def _volume(self, volume: Volume, where: str, container: str, number: int) -> dict[str, Any]:
        key = f"{where}.volumes"
        target = _target(self.path, key, volume.target)
        if volume.kind == "tmpfs":
            return self._tmpfs(volume, where, container, str(number))
        if volume.kind == "bind":
            return self._bind(volume, key, target, label("files", container, str(number)))
        if volume.kind != "volume":
            raise problem(self.path, key, f"{volume.target}: {volume.kind} volumes are not available in a preview")
        if not volume.source:
            name = label("anon", container, str(number))
            self.volumes[name] = {"name": name, "emptyDir": {}}
            return {"name": name, "mountPath": target}
        name = self._named(volume.source, key)
        mount: dict[str, Any] = {"name": name, "mountPath": target}
        if volume.subpath:
            mount["subPath"] = volume.subpath
        if volume.read_only:
            mount["readOnly"] = True
        return mount

    def _bind(self, volume: Volume, key: str, target: str, name: str) -> dict[str, Any]:
        source = volume.source
        files = self._read(key, source)
        if files is None:
            self.warnings.append(f"{self.path}: {key}: {source} is not in the commit; {volume.target} starts as an "
                                 "empty folder (as Compose creates it)")
            self.volumes[name] = {"name": name, "emptyDir": {}}
            return {"name": name, "mountPath": target}
        return self._object("ConfigMap", name, files, target)

    def _repository_path(self, key: str, source: str) -> str:
        """``source`` (relative to the compose file's folder) from the repository root (``""``: the root)."""
        if source.rstrip("/").endswith("docker.sock"):
            raise problem(self.path, key, f"{source}: the Docker socket would hand the preview the Docker engine "
                          "(and the machine it runs on); a preview cannot mount it")
        inside = None if is_file_path(source) and source[:1] != "." else repository_path(self.path, source)
        if inside is None:
            raise problem(self.path, key, f"{source} is outside the repository: a preview mounts files of the pull "
                          "request's commit only, never a path of the host")
        return "" if inside == "." else inside

    def _read(self, key: str, source: str) -> data.FileData | None:
        """A file or folder of the commit at ``source`` (relative to the compose file's folder)."""
        inside = self._repository_path(key, source)
        if self.tree is None:
            return None
        if inside not in self.files:
            found = data.read_source(self.tree, self.path, key, inside)
            if found is None:
                return None
            self.files[inside] = found
        return self.files[inside]

    def _object(self, kind: str, name: str, files: data.FileData, target: str) -> dict[str, Any]:
        """The ConfigMap or Secret ``name`` holding ``files`` (made once), its volume, and the mount at
        ``target``."""
        if name not in self.volumes:
            payload = data.secret_data(files) if kind == "Secret" else data.config_map_data(files)
            self.objects.append({"apiVersion": "v1", "kind": kind, "metadata": {"name": name},
                                 **({"type": "Opaque"} if kind == "Secret" else {}), **payload})
            source: dict[str, Any] = {"secretName": name} if kind == "Secret" else {"name": name}
            if files.folder or files.executable:
                source["items"] = data.items(files)
            self.volumes[name] = {"name": name, ("secret" if kind == "Secret" else "configMap"): source}
        if files.folder:
            return {"name": name, "mountPath": target, "readOnly": True}
        return {"name": name, "mountPath": target, "subPath": files.entries[0][0], "readOnly": True}

    def _named(self, source: str, key: str) -> str:
        declared = self.document.get("volumes")
        if not isinstance(declared, dict) or source not in declared:
            raise problem(self.path, key, f"volume {source!r} is not declared under the top-level volumes:")
        options = declared[source] if isinstance(declared[source], dict) else {}
        driver_options = options.get("driver_opts")
        if isinstance(driver_options, dict) and (driver_options.get("device") or driver_options.get("o")):
            raise problem(self.path, f"volumes.{source}.driver_opts", f"{driver_options.get('device', '')!s:.200}: "
                          "a volume on a path of the host cannot be mounted in a preview")
        name = label("volume", source)
        if name not in self.volumes:
            self.volumes[name] = {"name": name, "emptyDir": {}}
            if options.get("external") or options.get("driver"):
                self.warnings.append(f"{self.path}: volumes.{source}: an empty folder in the preview (external "
                                     "volumes and drivers are not available; its data is not there)")
        return name

    def _tmpfs(self, volume: Volume, where: str, container: str, number: str) -> dict[str, Any]:
        target = _target(self.path, f"{where}.tmpfs", volume.target)
        name = label("tmpfs", container, number)
        empty: dict[str, Any] = {"medium": "Memory"}
        if volume.size is not None:
            empty["sizeLimit"] = memory_quantity(volume.size)
        self.volumes[name] = {"name": name, "emptyDir": empty}
        return {"name": name, "mountPath": target}

    def _reference(self, kind: str, entry: Any, key: str) -> dict[str, Any]:
        """A service's ``configs:``/``secrets:`` entry: a name, or ``{source, target}``."""
        source, target = (entry, "") if isinstance(entry, str) else (
            (entry.get("source"), entry.get("target") or "") if isinstance(entry, dict) else (None, ""))
        if not isinstance(source, str) or not isinstance(target, str):
            raise problem(self.path, key, "entries are names or {source, target} mappings")
        if isinstance(entry, dict) and {"uid", "gid", "mode"} & set(entry):
            self.warnings.append(f"{self.path}: {key}.{source}: uid, gid and mode are not applied (the file is "
                                 "readable by everyone in the container)")
        if not target.startswith("/"):
            target = _DEFAULT_TARGETS[kind] + (target or source)
        target = _target(self.path, key, target)
        external = self._external(kind, source)
        if external is not None:
            return self._configured_secret(external, target)
        files = self._definition(kind, source, key)
        return self._object("Secret" if kind == "secrets" else "ConfigMap", label(kind[:-1], source), files, target)

    def _external(self, kind: str, source: str) -> str | None:
        """The ``preview.secrets`` name an ``external`` secret stands for (its ``name:``, else its own), when
        config fills it: Uffizzi filled such secrets from its dashboard, prdeck from the maintainer's config."""
        declared = self.document.get(kind)
        spec = declared.get(source) if isinstance(declared, dict) else None
        if kind != "secrets" or not isinstance(spec, dict) or not spec.get("external"):
            return None
        name = spec.get("name") if isinstance(spec.get("name"), str) else source
        return name if name in self.secret_names else None

    def _configured_secret(self, name: str, target: str) -> dict[str, Any]:
        volume = label("secret", "configured", name)
        # optional: a fork without preview.fork_secrets gets no secret values, and its pod still starts
        self.volumes[volume] = {"name": volume, "secret": {"secretName": SECRET_NAME, "optional": True,
                                                           "items": [{"key": name, "path": name}]}}
        return {"name": volume, "mountPath": target, "subPath": name, "readOnly": True}

    def _definition(self, kind: str, name: str, key: str) -> data.FileData:
        declared = self.document.get(kind)
        if not isinstance(declared, dict) or name not in declared:
            raise problem(self.path, key, f"{name!r} is not declared under the top-level {kind}:")
        where = f"{kind}.{name}"
        spec = declared[name]
        if not isinstance(spec, dict):
            raise problem(self.path, where, "needs file:, content: or environment:")
        if spec.get("external"):
            wanted = spec.get("name") if isinstance(spec.get("name"), str) else name
            fill = f", or fill it from config: preview.secrets.{wanted} = \"ENV_VAR\"" if kind == "secrets" else ""
            raise problem(self.path, where, "an external one does not exist in a preview's namespace; give it "
                          "file: (from the repository)" + (" or content:" if kind == "configs" else "") + fill)
        if isinstance(spec.get("file"), str):
            files = self._read(f"{where}.file", spec["file"])
            if files is None:
                raise problem(self.path, f"{where}.file", f"{spec['file']} is not in the commit")
            return files
        if kind == "configs" and isinstance(spec.get("content"), str):
            return data.single(name, spec["content"].encode("utf-8"))
        if isinstance(spec.get("environment"), str):
            value = self.lookup(spec["environment"])
            if value is None:
                raise problem(self.path, f"{where}.environment", f"{spec['environment']} is not set (config "
                              "preview.variables or preview.pass_env)")
            return data.single(name, value.encode("utf-8"))
        raise problem(self.path, where, "needs file:" + (", content:" if kind == "configs" else "")
                      + " or environment:")


def _entries(path: str, key: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise problem(path, key, "must be a list")
    return value


def _build_context(path: str, build: Any) -> str | None:
    """The service's build context from the repository root (None: no build, or not in the repository)."""
    if build is None:
        return None
    context = build if isinstance(build, str) else build.get("context", ".") if isinstance(build, dict) else None
    inside = repository_path(path, context) if isinstance(context, str) else None
    return None if inside is None else "" if inside == "." else inside


def _holds(folder: str, inner: str) -> bool:
    """``folder`` is ``inner`` or one of its parents (``""`` is the repository root)."""
    return folder == inner or folder == "" or inner.startswith(f"{folder}/")


def _target(path: str, key: str, target: str) -> str:
    if not target.startswith("/"):
        raise problem(path, key, f"{target!r}: the target must be an absolute path in the container")
    return posixpath.normpath(target)
