"""Every configuration key prdeck knows: its name, default, documentation and check (:data:`KEYS`).

:mod:`prdeck.services.config` reads and validates a file against these; ``prdeck config keys`` prints them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class Key:
    """One documented configuration key."""

    name: str
    """Dotted name: ``github.timeout`` is ``timeout`` in the ``[github]`` table."""
    default: Any
    doc: str
    expected: str
    """What a valid value looks like, for error messages."""
    check: Callable[[Any], bool]
    env: str | None = None
    """An environment variable that overrides the file."""
    from_env: Callable[[str], Any] = str
    """How to read that variable's text."""


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and urlparse(value).scheme in ("http", "https") and bool(urlparse(value).netloc)


def _is_seconds(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 600


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10


def _is_refresh(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 5


def _is_prefix(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[a-z]([-a-z0-9]{0,18}[a-z0-9])?", value) is not None


_DOMAIN = r"([a-z0-9]([-a-z0-9]*[a-z0-9])?\.?)*"
_REGISTRY = r"([A-Za-z0-9.-]+(:\d+)?(/[a-z0-9._/-]+)?)?"

CREDENTIAL_VARIABLES = frozenset({"GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"})
"""Where prdeck's own GitHub token may live; with every ``PRDECK_*`` variable, never passed to a preview."""
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_credential_variable(name: str) -> bool:
    """prdeck's credentials and settings: a preview's spec can never name these (README, "Security model")."""
    return name.upper() in CREDENTIAL_VARIABLES or name.upper().startswith("PRDECK_")


def _is_pass_env(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, str) and _VARIABLE_NAME.fullmatch(item) is not None and not is_credential_variable(item)
        for item in value
    )


def egress_rule(text: str) -> tuple[str, int | None]:
    """``"10.0.0.0/8"``, ``"10.1.2.3:5432"`` or ``"0.0.0.0/0:443"`` as (CIDR, port or None); ValueError if not."""
    cidr, _, port = text.rpartition(":") if text.count(":") == 1 or "]:" in text else (text, "", "")
    cidr = cidr.strip("[]")
    network = ipaddress.ip_network(cidr, strict=False)
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        raise ValueError(f"not a port: {port!r}")
    return str(network), int(port) if port else None


def _is_egress(value: Any) -> bool:
    if value in ("dns", "open"):
        return True
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return False
    try:
        for item in value:
            egress_rule(item)
    except ValueError:
        return False
    return True


def _is_string_table(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


_BUILD_KEYS = {"context": str, "dockerfile": str, "target": str, "args": dict}


def _is_build_table(value: Any) -> bool:
    """``preview.builds``: {service = {context, dockerfile, target, args}}, args a table of strings."""
    return isinstance(value, dict) and all(
        isinstance(build, dict) and all(key in _BUILD_KEYS and isinstance(item, _BUILD_KEYS[key])
                                        for key, item in build.items())
        and _is_string_table(build.get("args", {}))
        for build in value.values()
    )


def _is_repo_list(value: Any) -> bool:
    """A list of strings; each is checked as ``owner/name`` only when it is used (an explicit ``--repo``
    overrides the setting, so one bad entry must not break every command: see ``resolve_repos``)."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


KEYS: tuple[Key, ...] = (
    Key(
        "repos",
        [],
        'Repositories to list, as "owner/name". Empty: the repository of the current git checkout.',
        'a list of "owner/name" strings',
        _is_repo_list,
        env="PRDECK_REPOS",
        from_env=lambda text: [item.strip() for item in text.split(",") if item.strip()],
    ),
    Key(
        "github.api_url",
        DEFAULT_API_URL,
        "GitHub REST API URL. For GitHub Enterprise Server use https://HOST/api/v3.",
        "an http(s) URL",
        _is_url,
        env="PRDECK_GITHUB_URL",
    ),
    Key(
        "github.timeout",
        10,
        "Seconds to wait for one GitHub answer before retrying.",
        "a whole number of seconds from 1 to 600",
        _is_seconds,
    ),
    Key(
        "github.retries",
        3,
        "How often to retry a failed GitHub request (network errors, 5xx), with backoff.",
        "a whole number from 0 to 10",
        _is_count,
    ),
    Key(
        "cluster.kubeconfig",
        "",
        "Kubeconfig file for previews. Empty: $KUBECONFIG, else ~/.kube/config.",
        "a file path, or empty",
        lambda value: isinstance(value, str),
        env="PRDECK_KUBECONFIG",
    ),
    Key(
        "cluster.context",
        "",
        "Kubeconfig context to use. Empty: the kubeconfig's current context.",
        "a context name, or empty",
        lambda value: isinstance(value, str),
        env="PRDECK_KUBE_CONTEXT",
    ),
    Key(
        "cluster.namespace_prefix",
        "prdeck",
        "First part of every preview namespace: <prefix>-<owner>-<repo>-pr-<number>.",
        "lower-case letters, digits and dashes, 1 to 20 characters, starting with a letter",
        _is_prefix,
    ),
    Key(
        "cluster.domain",
        "",
        "Wildcard DNS domain for preview Ingresses: pr-<n>-<owner>-<repo>.<domain>. Empty: no Ingress; `o` opens "
        "a port-forward relay on 127.0.0.1 instead.",
        "a DNS name such as previews.example.com, or empty",
        lambda value: isinstance(value, str) and re.fullmatch(_DOMAIN, value) is not None,
        env="PRDECK_DOMAIN",
    ),
    Key("cluster.ingress_class", "", "IngressClass of preview Ingresses. Empty: the cluster's default.",
        "a class name, or empty", lambda value: isinstance(value, str)),
    Key("cluster.tls_secret", "", "TLS secret (in each preview namespace) for the Ingress; set it to get https URLs.",
        "a secret name, or empty", lambda value: isinstance(value, str)),
    Key("cluster.ingress_namespace", "ingress-nginx",
        "Namespace of the ingress controller: the only one the default-deny NetworkPolicy admits.",
        "a namespace name", lambda value: isinstance(value, str) and bool(value)),
    Key(
        "registry.url",
        "",
        "Registry (and optional path) that preview images are pushed to, e.g. registry.example.com/previews. "
        "The cluster must be able to pull from it.",
        "host[:port][/path], or empty",
        lambda value: isinstance(value, str) and re.fullmatch(_REGISTRY, value) is not None,
        env="PRDECK_REGISTRY",
    ),
    Key("registry.username", "", "Registry user name; the password comes from $PRDECK_REGISTRY_PASSWORD. Empty: "
        "the Docker config's credentials (docker login).", "a user name, or empty",
        lambda value: isinstance(value, str), env="PRDECK_REGISTRY_USERNAME"),
    Key("preview.spec", "", "Path of the preview spec in the repository. Empty: .prdeck/compose.yml, "
        ".prdeck/manifests/, docker-compose.uffizzi.yml, then a compose file with x-uffizzi under .github/uffizzi/.",
        "a path, or empty", lambda value: isinstance(value, str)),
    Key("preview.variables", {}, "Values for ${VAR} in compose files; they win over the environment.",
        "a table of strings", _is_string_table),
    Key("preview.images", {}, "Manifests form: images built from the PR, as {name = {context, dockerfile}}.",
        "a table of tables", lambda value: isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())
    ),
    Key("preview.builds", {}, "Compose form: builds attached to services, {service = {context, dockerfile, "
        "target, args}} (e.g. for image: ${WEB_IMAGE} that an earlier CI job used to build).",
        "a table of {context, dockerfile, target, args} tables", _is_build_table),
    Key("preview.profiles", [], "Compose profiles whose services start; a service with other profiles is not "
        "started (a warning names it).", "a list of profile names",
        lambda value: isinstance(value, list) and all(isinstance(item, str) for item in value)),
    Key("preview.secrets", {}, "Secret values for previews: {NAME = \"ENV_VAR\"} puts $ENV_VAR into the preview's "
        "secret as NAME. Never given to fork PRs unless preview.fork_secrets is true.",
        "a table of environment variable names, none of them prdeck's credentials (GH_TOKEN, GITHUB_TOKEN, PRDECK_*)",
        lambda value: _is_string_table(value) and not any(map(is_credential_variable, value.values()))),
    Key("preview.fork_secrets", False, "Give preview.secrets and preview.pass_env to fork PRs too (they run "
        "untrusted code).", "true or false", lambda value: isinstance(value, bool)),
    Key("preview.pass_env", [], "Environment variables of prdeck's own environment that ${VAR} and bare "
        "`environment: [NAME]` in a compose spec may read (nothing else is visible to a spec). prdeck's credentials "
        "(GH_TOKEN, GITHUB_TOKEN, PRDECK_*) can never be listed. Forks only with preview.fork_secrets.",
        "a list of variable names, none of them a credential", _is_pass_env),
    Key("preview.egress", "dns", "Where a same-repository preview's pods may connect: \"dns\" (cluster DNS and "
        "the preview's own pods), \"open\" (anywhere), or a list of \"CIDR\" / \"CIDR:port\" added to dns.",
        '"dns", "open" or a list of "CIDR[:port]" strings', _is_egress),
    Key("preview.fork_egress", "dns", "preview.egress for fork PRs (untrusted code); strict by default.",
        '"dns", "open" or a list of "CIDR[:port]" strings', _is_egress),
    Key("preview.fork_build_network", False, "Let a fork's Dockerfile RUN steps reach the network during the "
        "build (off: the build runs with no network).", "true or false", lambda value: isinstance(value, bool)),
    Key("preview.container_security", "restricted", "Security settings prdeck gives preview containers: "
        "\"restricted\" (no privilege escalation, every capability dropped except what the spec adds from "
        "Pod Security baseline's list, seccomp RuntimeDefault) or \"baseline\" (the image's default "
        "capabilities; for images that run as root and switch users, e.g. postgres).",
        '"restricted" or "baseline"', lambda value: value in ("restricted", "baseline")),
    Key("preview.service_account_token", False, "Mount a service-account token into preview pods (off: "
        "automountServiceAccountToken is false on every pod and service account).",
        "true or false", lambda value: isinstance(value, bool)),
    Key("build.max_context_mb", 1024, "Largest build context (the PR's files, after .dockerignore) sent to the "
        "Docker engine, in MB; a larger one fails the build with a message naming this key.",
        "a whole number of MB from 1 to 65536",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65536),
    Key("preview.ttl_hours", 72, "Hours until a preview expires (its namespace's expires-at annotation).",
        "a whole number of hours from 1 to 8760",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 8760),
    Key("preview.max_cpu", "8", "The most CPU one preview's pods may use (the sum of their limits; a container "
        "without a limit counts 500m). The namespace quota is sized from the spec up to this; a bigger spec is "
        "refused before anything is built, and one that fits once but not twice replaces its pods on relaunch "
        "(Recreate) instead of rolling.", 'cores as a Kubernetes quantity, e.g. "8" or "2500m"',
        lambda value: isinstance(value, str) and re.fullmatch(r"(?:\d{1,6}(?:\.\d{1,3})?|\d{1,9}m)", value) is not None
        and value.strip("0.m") != ""),
    Key("preview.max_memory", "16Gi", "The most memory one preview's pods may use (the sum of their limits; a "
        "container without a limit counts 512Mi); see preview.max_cpu.", 'a Kubernetes quantity, e.g. "16Gi"',
        lambda value: isinstance(value, str) and value.strip("0.KMGTi") != ""
        and re.fullmatch(r"\d{1,9}(?:\.\d{1,3})?(?:Ki|Mi|Gi|Ti)", value) is not None),
    Key("preview.empty_grace_hours", 1, "Hours a preview namespace without pods (or of an unknown repository) is left "
        "alone before prdeck reap removes it: a launch may be filling it.",
        "a whole number of hours from 0 to 8760",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 8760),
    Key("preview.idle_sleep_hours", 0, "prdeck reap (and R) puts previews to sleep that were not launched or woken "
        "for this many hours (scaled to zero; l, o, z or prdeck wake brings them back). 0: never.",
        "a whole number of hours from 0 to 8760",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 8760),
    Key("preview.max_previews", 0, "The most live previews on the cluster (counted from its namespaces with "
        "prdeck's labels, so every maintainer shares the count); a launch past it is refused before anything is "
        "built, naming what could be reaped or slept. 0: no cap.", "a whole number from 0 to 10000",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10000),
    Key("preview.max_parallel_launches", 2, "Launches one prdeck runs at once; more wait in a queue (the row "
        "shows queued #2). Bulk actions (several PRs, marked rows) run this many at a time too.",
        "a whole number from 1 to 64",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 64),
    Key("preview.rollout_timeout", 300, "Seconds to wait for a preview's pods to become ready.",
        "a whole number of seconds from 10 to 3600",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and 10 <= value <= 3600),
    Key("preview.sticky_comment", False, "Keep one PR comment with the preview's state, updated in place.",
        "true or false", lambda value: isinstance(value, bool)),
    Key(
        "ui.log_lines",
        10000,
        "How many log lines the logs screen keeps; older lines are dropped.",
        "a whole number from 100 to 1000000",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 1_000_000,
    ),
    Key(
        "ui.refresh_seconds",
        60,
        "How often the TUI refreshes the pull request list, in seconds.",
        "a whole number of seconds, at least 5",
        _is_refresh,
    ),
)
KEYS_BY_NAME: dict[str, Key] = {key.name: key for key in KEYS}
