"""Launch settings from the config and the environment (registry, cluster options, spec, secrets, TTL)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta

from prdeck.services.config import Config
from prdeck.services.errors import ConfigError
from prdeck.services.launch.compose_prepare import ComposeOptions
from prdeck.services.launch.placement import ClusterOptions
from prdeck.services.launch.pod_policy import PodPolicy
from prdeck.services.launch.quota import QuotaCap


@dataclass(frozen=True)
class LaunchSettings:
    registry: str
    registry_auth: Mapping[str, str] | None = None
    domain: str = ""
    ingress_class: str = ""
    tls_secret: str = ""
    ingress_namespace: str = "ingress-nginx"
    spec_path: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)
    images: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    secret_sources: Mapping[str, str] = field(default_factory=dict)
    fork_secrets: bool = False
    ttl: timedelta = timedelta(hours=72)
    rollout_timeout: float = 300
    sticky_comment: bool = False
    launched_by: str = ""
    environ: Mapping[str, str] = field(default_factory=dict)
    pass_env: tuple[str, ...] = ()
    egress: str | tuple[str, ...] = "dns"
    fork_egress: str | tuple[str, ...] = "dns"
    policy: PodPolicy = field(default_factory=PodPolicy)
    fork_build_network: bool = False
    max_context_bytes: int = 1024 * 1024 * 1024
    compose: ComposeOptions = field(default_factory=ComposeOptions)
    quota_cap: QuotaCap = field(default_factory=QuotaCap)
    login: Future[str] | None = field(default=None, compare=False)
    """The token's login while GitHub is still being asked (``GET /user`` runs next to the launch's first
    requests); :meth:`who` waits for it."""
    max_previews: int = 0
    """``preview.max_previews``: live previews on the cluster (0: no cap); see :mod:`prdeck.services.launch.caps`."""

    @classmethod
    def from_config(cls, config: Config, launched_by: str, environ: Mapping[str, str] | None = None) -> LaunchSettings:
        environ = dict(os.environ if environ is None else environ)
        auth = None
        if config["registry.username"]:
            password = environ.get("PRDECK_REGISTRY_PASSWORD")
            if not password:
                raise ConfigError("registry.username is set but PRDECK_REGISTRY_PASSWORD is not",
                                  "Export the registry password in PRDECK_REGISTRY_PASSWORD, or unset the user name.")
            auth = {"username": config["registry.username"], "password": password}
        return cls(
            registry=config["registry.url"], registry_auth=auth, domain=config["cluster.domain"],
            ingress_class=config["cluster.ingress_class"], tls_secret=config["cluster.tls_secret"],
            ingress_namespace=config["cluster.ingress_namespace"], spec_path=config["preview.spec"],
            variables=config["preview.variables"], images=config["preview.images"],
            secret_sources=config["preview.secrets"], fork_secrets=config["preview.fork_secrets"],
            ttl=timedelta(hours=config["preview.ttl_hours"]), rollout_timeout=config["preview.rollout_timeout"],
            sticky_comment=config["preview.sticky_comment"], launched_by=launched_by, environ=environ,
            pass_env=tuple(config["preview.pass_env"]), egress=_egress(config["preview.egress"]),
            fork_egress=_egress(config["preview.fork_egress"]),
            policy=PodPolicy(config["preview.container_security"], config["preview.service_account_token"]),
            fork_build_network=config["preview.fork_build_network"],
            max_context_bytes=config["build.max_context_mb"] * 1024 * 1024,
            compose=ComposeOptions(config["preview.builds"], tuple(config["preview.profiles"]),
                                   tuple(config["preview.secrets"])),
            quota_cap=QuotaCap(config["preview.max_cpu"], config["preview.max_memory"]),
            max_previews=config["preview.max_previews"],
        )

    def who(self) -> str:
        """Who launches: the token's login (its ``GET /user`` may still be on its way; its failure is raised)."""
        return self.login.result() if self.login is not None else self.launched_by

    def require_registry(self) -> str:
        if not self.registry:
            raise ConfigError("No registry configured for preview images",
                              "Set registry.url in the config (or PRDECK_REGISTRY), e.g. registry.example.com/apps.")
        return self.registry

    def cluster_options(self, fork: bool) -> ClusterOptions:
        """Cluster options for one launch; a fork gets no secrets unless preview.fork_secrets allows it."""
        secrets: dict[str, str] = {}
        if not fork or self.fork_secrets:
            for name, variable in self.secret_sources.items():
                if variable not in self.environ:
                    raise ConfigError(f"Secret {name} has no value", f"preview.secrets reads ${variable}: not set.")
                secrets[name] = self.environ[variable]
        return ClusterOptions(self.domain, self.ingress_class, self.tls_secret, self.ingress_namespace, secrets,
                              self.fork_egress if fork else self.egress, self.policy, self.quota_cap)

    def spec_variables(self, fork: bool, credentials: tuple[str | None, ...] = ()) -> dict[str, str]:
        """Everything a compose spec's ``${VAR}`` may read: ``preview.variables``, then the ``preview.pass_env``
        names (for a fork only with ``preview.fork_secrets``). A passed variable that holds one of prdeck's
        ``credentials`` (the GitHub token, the registry password) is refused, whatever its name."""
        passed: dict[str, str] = {}
        if not fork or self.fork_secrets:
            passed = {name: self.environ[name] for name in self.pass_env if name in self.environ}
        held = {value for value in (*credentials, (self.registry_auth or {}).get("password")) if value}
        for name, value in passed.items():
            if value in held:
                raise ConfigError(f"preview.pass_env names {name}, which holds one of prdeck's credentials",
                                  f"Remove {name} from preview.pass_env: a preview's spec must never see the "
                                  "GitHub token or the registry password.")
        return {**passed, **self.variables}


def _egress(value: str | list[str]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)
