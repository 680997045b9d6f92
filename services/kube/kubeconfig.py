"""Reading a kubeconfig without letting it break or hang prdeck.

The PR list works without a cluster, so a kubeconfig that is not YAML, not a mapping or not text, and an
``exec:`` credential plugin that never answers, must end in one :class:`ConfigError` saying what is wrong and
what to do — never a traceback, never a hang. The kubernetes client's own loader reads the file with no checks
and runs the plugin with no time limit (and logs its failures instead of raising them); here the file is read
and checked first, and the plugin runs under :data:`EXEC_TIMEOUT`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.dateutil import parse_rfc3339
from kubernetes.config.exec_provider import ExecProvider
from kubernetes.config.kube_config import FileOrData, KubeConfigLoader

from prdeck.services.errors import ConfigError

EXEC_TIMEOUT = 5.0
"""Seconds an ``exec:`` credential plugin may take (aws, gcloud and kubelogin answer in one or two)."""
MAX_BYTES = 16 << 20
WHERE = "point KUBECONFIG or cluster.kubeconfig at a kubeconfig file (the PR list works without one)"


def read_kubeconfig(path: Path) -> dict[str, Any]:
    """The kubeconfig at ``path`` as a mapping, or ConfigError naming the file, what is wrong and what to do."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"Cannot read the kubeconfig {path}", f"{exc.strerror or exc}; {WHERE}") from exc
    if len(data) > MAX_BYTES:
        raise ConfigError(f"The kubeconfig {path} is not a kubeconfig", f"it is over {MAX_BYTES >> 20} MB; {WHERE}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"The kubeconfig {path} is not a text file",
                          f"byte {exc.start} is not UTF-8; {WHERE}") from exc
    if "\x00" in text:
        raise ConfigError(f"The kubeconfig {path} is not a text file", f"it holds NUL bytes; {WHERE}")
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"The kubeconfig {path} is not valid YAML",
                          f"{where}{problem}; fix it or {WHERE}") from exc
    if not isinstance(loaded, dict):
        kind = "empty" if loaded is None else f"a YAML {_kind(loaded)}"
        raise ConfigError(f"The kubeconfig {path} is not a kubeconfig",
                          f"it is {kind}, not a mapping with clusters, contexts and users; {WHERE}")
    return loaded


def _kind(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "value")


class TimedExecProvider(ExecProvider):  # type: ignore[misc]
    """The client's exec provider with a time limit, never interactive (prdeck's TUI owns the terminal)."""

    def run(self, previous_response: Any = None) -> dict[str, Any]:
        info: dict[str, Any] = {"apiVersion": self.api_version, "kind": "ExecCredential",
                                "spec": {"interactive": False}}
        if previous_response:
            info["spec"]["response"] = previous_response
        if self.cluster:
            info["spec"]["cluster"] = self.cluster.value
        env = {**self.env, "KUBERNETES_EXEC_INFO": json.dumps(info)}
        command = os.path.basename(str(self.args[0]))
        try:
            done = subprocess.run(self.args, capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=self.cwd,
                                  env=env, timeout=EXEC_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:  # run() has killed it
            raise ConfigError(
                f"The kubeconfig's credential plugin `{command}` did not answer within {EXEC_TIMEOUT:.0f} s",
                "run it once by hand (e.g. `kubectl get namespaces`) to log in, or fix the kubeconfig's `exec:`",
            ) from exc
        except OSError as exc:
            raise ConfigError(f"Cannot run the kubeconfig's credential plugin `{command}`",
                              f"{exc.strerror or exc}; install it or fix the kubeconfig's `exec:`") from exc
        if done.returncode != 0:
            raise ConfigError(f"The kubeconfig's credential plugin `{command}` failed (exit {done.returncode})",
                              (done.stderr.strip().splitlines() or ["no message"])[-1][:300])
        try:
            data = json.loads(done.stdout)
            status = data["status"]
            if data["apiVersion"] != self.api_version or not isinstance(status, dict):
                raise ValueError(f"apiVersion {data['apiVersion']!r}, expected {self.api_version}")
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"The kubeconfig's credential plugin `{command}` answered nonsense",
                              f"not an ExecCredential: {exc}") from exc
        return status


class CheckedLoader(KubeConfigLoader):  # type: ignore[misc]
    """The client's loader, running an ``exec:`` plugin under :class:`TimedExecProvider` and raising (not
    logging) its failures, so they reach the user as one line instead of a later, puzzling 401."""

    def _load_from_exec_plugin(self) -> bool | None:
        user: Any = self._user
        if "exec" not in user:
            return None
        cluster: Any = self._cluster
        base_path = self._get_base_path(cluster.path)
        try:
            status = TimedExecProvider(user["exec"], base_path, cluster).run()
        except ConfigException as exc:  # a malformed exec: entry
            raise ConfigError("The kubeconfig's `exec:` entry is malformed", str(exc)) from exc
        if "token" in status:
            self.token = f"Bearer {status['token']}"
        elif "clientCertificateData" in status and "clientKeyData" in status:
            for attribute, key in (("cert_file", "clientCertificateData"), ("key_file", "clientKeyData")):
                setattr(self, attribute, FileOrData(status, None, data_key_name=key, file_base_path=base_path,
                                                    base64_file_content=False,
                                                    temp_file_path=self._temp_file_path).as_file())
        else:
            raise ConfigError("The kubeconfig's credential plugin gave no credentials",
                              "its answer has neither a token nor a client certificate and key")
        if "expirationTimestamp" in status:
            self.expiry = parse_rfc3339(status["expirationTimestamp"])
        return True
