"""Pod Security admission: the ``baseline`` and ``restricted`` checks, with the real server's messages.

A namespace's ``pod-security.kubernetes.io/enforce`` level refuses a pod (403 Forbidden, "violates
PodSecurity"); its ``warn`` level answers a pod or a workload with a pod template with a Warning header ("would
violate PodSecurity"). Checks run in the order of their IDs, as the real admission plugin lists them. Covered:
privileged, capabilities, host namespaces, hostPath volumes, host ports, privilege escalation, runAsNonRoot,
runAsUser=0 and seccomp profiles — what a compose file can ask for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BASELINE_CAPABILITIES = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}
LEVELS = ("privileged", "baseline", "restricted")
Check = Callable[[dict[str, Any], list[tuple[str, dict[str, Any]]]], str | None]


def _containers(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (c.get("name", ""), c)
        for key in ("initContainers", "containers")
        for c in spec.get(key) or []
        if isinstance(c, dict)
    ]


def _names(names: list[str]) -> str:
    quoted = ", ".join(f'"{name}"' for name in names)
    return f"container {quoted}" if len(names) == 1 else f"containers {quoted}"


def _security(container: dict[str, Any]) -> dict[str, Any]:
    return container.get("securityContext") or {}


def _capabilities_baseline(spec: dict[str, Any], containers: list[tuple[str, dict[str, Any]]]) -> str | None:
    parts = []
    for name, container in containers:
        added = [
            c
            for c in (_security(container).get("capabilities") or {}).get("add") or []
            if c not in BASELINE_CAPABILITIES
        ]
        if added:
            listed = ", ".join(f'"{c}"' for c in added)
            parts.append(f'container "{name}" must not include {listed} in securityContext.capabilities.add')
    return f"non-default capabilities ({'; '.join(parts)})" if parts else None


def _capabilities_restricted(spec: dict[str, Any], containers: list[tuple[str, dict[str, Any]]]) -> str | None:
    no_drop, parts = [], []
    for name, container in containers:
        capabilities = _security(container).get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            no_drop.append(name)
    if no_drop:
        parts.append(f'{_names(no_drop)} must set securityContext.capabilities.drop=["ALL"]')
    for name, container in containers:
        added = [
            c for c in (_security(container).get("capabilities") or {}).get("add") or [] if c != "NET_BIND_SERVICE"
        ]
        if added:
            listed = ", ".join(f'"{c}"' for c in added)
            parts.append(f'container "{name}" must not include {listed} in securityContext.capabilities.add')
    return f"unrestricted capabilities ({'; '.join(parts)})" if parts else None


def _host_namespaces(spec: dict[str, Any], containers: list[tuple[str, dict[str, Any]]]) -> str | None:
    used = [f"{key}=true" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)]
    return f"host namespaces ({', '.join(used)})" if used else None


def _host_path(spec: dict[str, Any], containers: list[tuple[str, dict[str, Any]]]) -> str | None:
    names = [v.get("name", "") for v in spec.get("volumes") or [] if isinstance(v, dict) and "hostPath" in v]
    if not names:
        return None
    quoted = ", ".join(f'"{n}"' for n in names)
    return f"hostPath volumes ({'volume' if len(names) == 1 else 'volumes'} {quoted})"


def _host_ports(spec: dict[str, Any], containers: list[tuple[str, dict[str, Any]]]) -> str | None:
    parts = []
    for name, container in containers:
        ports = [str(p["hostPort"]) for p in container.get("ports") or [] if p.get("hostPort")]
        if ports:
            parts.append(f"{_names([name])} uses {'hostPort' if len(ports) == 1 else 'hostPorts'} {', '.join(ports)}")
    return f"hostPort ({'; '.join(parts)})" if parts else None


def _privileged(spec: dict[str, Any], containers: list[tuple[str, dict[str, Any]]]) -> str | None:
    bad = [name for name, container in containers if _security(container).get("privileged")]
    return f"privileged ({_names(bad)} must not set securityContext.privileged=true)" if bad else None


def _restricted_volumes(spec: dict[str, Any], containers: list[tuple[str, dict[str, Any]]]) -> str | None:
    allowed = {
        "name",
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
        "image",
    }
    parts = []
    for volume in spec.get("volumes") or []:
        kinds = [key for key in volume if key not in allowed]
        if kinds:
            parts.append(f'volume "{volume.get("name", "")}" uses restricted volume type "{kinds[0]}"')
    return f"restricted volume types ({'; '.join(parts)})" if parts else None


def _privilege_escalation(spec: dict[str, Any], containers: list[tuple[str, dict[str, Any]]]) -> str | None:
    bad = [name for name, container in containers if _security(container).get("allowPrivilegeEscalation") is not False]
    if not bad:
        return None
    return f"allowPrivilegeEscalation != false ({_names(bad)} must set securityContext.allowPrivilegeEscalation=false)"


def _run_as_non_root(spec: dict[str, Any], containers: list[tuple[str, dict[str, Any]]]) -> str | None:
    pod = (spec.get("securityContext") or {}).get("runAsNonRoot")
    explicit = [name for name, c in containers if _security(c).get("runAsNonRoot") is False]
    unset = [name for name, c in containers if _security(c).get("runAsNonRoot") is None]
    parts = []
    if pod is False:
        parts.append("pod must not set securityContext.runAsNonRoot=false")
    if explicit:
        parts.append(f"{_names(explicit)} must not set securityContext.runAsNonRoot=false")
    if pod is None and unset:
        parts.append(f"pod or {_names(unset)} must set securityContext.runAsNonRoot=true")
    return f"runAsNonRoot != true ({'; '.join(parts)})" if parts else None


def _run_as_user(spec: dict[str, Any], containers: list[tuple[str, dict[str, Any]]]) -> str | None:
    parts = []
    if (spec.get("securityContext") or {}).get("runAsUser") == 0:
        parts.append("pod must not set runAsUser=0")
    bad = [name for name, c in containers if _security(c).get("runAsUser") == 0]
    if bad:
        parts.append(f"{_names(bad)} must not set runAsUser=0")
    return f"runAsUser=0 ({'; '.join(parts)})" if parts else None


def _seccomp_restricted(spec: dict[str, Any], containers: list[tuple[str, dict[str, Any]]]) -> str | None:
    good = ("RuntimeDefault", "Localhost")
    pod = ((spec.get("securityContext") or {}).get("seccompProfile") or {}).get("type")
    unset = [name for name, c in containers if not (_security(c).get("seccompProfile") or {}).get("type")]
    wrong = [
        name for name, c in containers if (_security(c).get("seccompProfile") or {}).get("type") not in (None, *good)
    ]
    parts = []
    if pod is not None and pod not in good:
        parts.append(f'pod must not set securityContext.seccompProfile.type to "{pod}"')
    if wrong:
        parts.append(f'{_names(wrong)} must not set securityContext.seccompProfile.type to "Unconfined"')
    if pod is None and unset:
        parts.append(
            f'pod or {_names(unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"'
        )
    return f"seccompProfile ({'; '.join(parts)})" if parts else None


BASELINE: list[tuple[str, Check]] = [
    ("capabilities_baseline", _capabilities_baseline),
    ("hostNamespaces", _host_namespaces),
    ("hostPathVolumes", _host_path),
    ("hostPorts", _host_ports),
    ("privileged", _privileged),
]
RESTRICTED: list[tuple[str, Check]] = sorted(
    [check for check in BASELINE if check[0] not in ("capabilities_baseline", "hostPathVolumes")]
    + [
        ("allowPrivilegeEscalation", _privilege_escalation),
        ("capabilities_restricted", _capabilities_restricted),
        ("restrictedVolumes", _restricted_volumes),
        ("runAsNonRoot", _run_as_non_root),
        ("runAsUser", _run_as_user),
        ("seccompProfile_restricted", _seccomp_restricted),
    ]
)


def violations(level: str, spec: dict[str, Any]) -> list[str]:
    """What a pod spec violates at ``level``, each as the real plugin words it; empty for ``privileged``."""
    checks = {"baseline": BASELINE, "restricted": RESTRICTED}.get(level, [])
    containers = _containers(spec)
    return [found for _, check in checks if (found := check(spec, containers))]


def level_of(namespace: dict[str, Any] | None, mode: str) -> str:
    """The namespace's level for ``enforce`` or ``warn`` (``privileged`` when unset or unknown)."""
    labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    level = labels.get(f"pod-security.kubernetes.io/{mode}", "privileged")
    return level if level in LEVELS else "privileged"


def summary(level: str, found: list[str]) -> str:
    return f'PodSecurity "{level}:latest": {", ".join(found)}'
