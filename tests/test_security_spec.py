"""What a pull request's preview spec can reach (issue 12, findings 1, 2, 5 and 7): prdeck's environment and
credentials, the namespace's guards, the node, the network. Each test failed on the code before the fix."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from prdeck.services.config import Config
from prdeck.services.errors import ConfigError
from prdeck.services.launch.git_mirror import LocalTree
from prdeck.services.launch.guards import guard_objects
from prdeck.services.launch.pod_policy import PodPolicy
from prdeck.services.launch.render import ClusterOptions, render
from prdeck.services.launch.results import LaunchFailed
from prdeck.services.launch.spec import SpecError, load_spec
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import SimulatedBuilder, free_port
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import run_prdeck
from tests.kube_support import api
from tests.launch_support import app_seed, make_rig
from tests.test_spec import PLACEMENT

pytestmark = pytest.mark.timeout(180)

REGISTRY_PASSWORD = "registry-password-of-the-maintainer"
ALLOWED = "a-value-the-maintainer-allowed"
HOSTILE_COMPOSE = """services:
  web:
    build:
      context: .
      args: {T: "${GITHUB_TOKEN}", P: "${PRDECK_REGISTRY_PASSWORD}", G: "${GH_TOKEN:-x}", A: "${PREVIEW_ALLOWED}"}
    ports: ['80']
    environment:
      X: "${GITHUB_TOKEN}"
      Y: "${PRDECK_REGISTRY_PASSWORD}"
      Z: "$GH_TOKEN"
      H: "${HOME}"
      ALLOWED: "${PREVIEW_ALLOWED}"
  side:
    image: busybox
    environment: [GITHUB_TOKEN, GH_TOKEN, PRDECK_REGISTRY_PASSWORD, PREVIEW_ALLOWED]
x-prdeck: {ingress: {service: web, port: 80}}
"""


def _pod(spec: dict[str, Any] | None = None, container: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "web", **(container or {})}], **(spec or {})}}}}


QUOTA = "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: prdeck-quota}\nspec: {hard: {pods: '100000'}}\n"


@pytest.fixture(scope="module")
def stack() -> Iterator[SandboxStack]:
    pulls = [{"number": 1, "title": "Same repository", "author": "dev", "branch": "feature/x",
              "files": {".prdeck/compose.yml": HOSTILE_COMPOSE}},
             {"number": 2, "title": "Fork", "author": "stranger", "branch": "fork/x", "fork": True,
              "files": {"site/index.html": "fork\n"}},
             {"number": 3, "title": "Manifests", "author": "dev", "branch": "feature/m",
              "files": {".prdeck/manifests/app.yaml": yaml.safe_dump(_pod()), ".prdeck/manifests/quota.yaml": QUOTA}}]
    with SandboxStack(app_seed(free_port(), pulls, {".prdeck/compose.yml": HOSTILE_COMPOSE}),
                      builds="simulate") as running:
        yield running


def _cli_env(stack: SandboxStack, tmp: Path, config: str) -> dict[str, str]:
    (tmp / "config.toml").write_text(config, encoding="utf-8")
    return {**{k: str(v) for k, v in stack.info()["env"].items()}, "PRDECK_REPOS": "octo/app",
            "GH_TOKEN": stack.github.token, "PRDECK_REGISTRY_PASSWORD": REGISTRY_PASSWORD, "PREVIEW_ALLOWED": ALLOWED,
            "PRDECK_CONFIG": str(tmp / "config.toml"), "XDG_STATE_HOME": str(tmp / "state"),
            "XDG_CACHE_HOME": str(tmp / "cache")}


def test_a_spec_reads_no_credential_and_nothing_the_maintainer_did_not_pass(
    stack: SandboxStack, tmp_path: Path
) -> None:
    """Finding 1: ${GITHUB_TOKEN}, ${PRDECK_REGISTRY_PASSWORD} and bare `environment: [GITHUB_TOKEN]` were filled
    from prdeck's whole environment into the Deployment, and `prdeck render` printed them."""
    done = run_prdeck("render", "1", "--show-secrets",
                      env=_cli_env(stack, tmp_path, '[preview]\npass_env = ["PREVIEW_ALLOWED"]\n'), timeout=120)
    assert done.returncode == 0, done.stderr
    for secret in (stack.github.token, REGISTRY_PASSWORD, os.environ.get("HOME", "/root")):
        assert secret not in done.stdout, f"{secret[:6]}... reached the rendered objects"
    assert done.stdout.count(ALLOWED) == 2, "the passed variable reaches both services (so the test can fail)"


def test_build_args_and_fork_specs_see_only_what_is_allowed(
    stack: SandboxStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 1: build args baked the token into the image; a fork got every variable the base spec named."""
    monkeypatch.setenv("GH_TOKEN", stack.github.token)
    monkeypatch.setenv("PRDECK_REGISTRY_PASSWORD", REGISTRY_PASSWORD)
    monkeypatch.setenv("PREVIEW_ALLOWED", ALLOWED)
    repo = RepoRef("octo", "app")
    passed = {"preview.pass_env": ["PREVIEW_ALLOWED"]}
    same = make_rig(stack, tmp_path / "a", lambda: SimulatedBuilder(pace=0), **passed)
    (build,) = [build for _, build in same.launcher.plan(repo, 1).spec.builds]
    assert dict(build.args) == {"T": "", "P": "", "G": "x", "A": ALLOWED}
    fork_sha = stack.github.state.repo("octo", "app").pulls[2].head_sha
    for fork_secrets, expected in ((False, ""), (True, ALLOWED)):
        rig = make_rig(stack, tmp_path / str(fork_secrets), lambda: SimulatedBuilder(pace=0),
                       **{"preview.pass_env": ["PREVIEW_ALLOWED"], "preview.fork_secrets": fork_secrets})
        plan = rig.launcher.plan(repo, 2, approved_sha=fork_sha)
        web = next(container for container in plan.spec.containers if container.name == "web")
        assert dict(web.environment)["ALLOWED"] == expected


def test_a_passed_variable_that_holds_a_credential_is_refused(
    stack: SandboxStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INNOCENT_NAME", stack.github.token)
    rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0), **{"preview.pass_env": ["INNOCENT_NAME"]})
    with pytest.raises(ConfigError, match="INNOCENT_NAME, which holds one of prdeck's credentials"):
        rig.launcher.plan(RepoRef("octo", "app"), 1)


@pytest.mark.parametrize("name", ["GH_TOKEN", "GITHUB_TOKEN", "github_token", "PRDECK_REGISTRY_PASSWORD"])
def test_credentials_can_never_be_named_in_the_config(name: str) -> None:
    with pytest.raises(ConfigError, match=r"preview\.pass_env"):
        Config.defaults().with_values({"preview.pass_env": [name]}, "test")
    with pytest.raises(ConfigError, match=r"preview\.secrets"):
        Config.defaults().with_values({"preview.secrets": {"KEY": name}}, "test")


GUARD_OVERRIDES = {
    "quota named like prdeck's": ({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "prdeck-quota"},
                                   "spec": {"hard": {"pods": "100000"}}}, "reserved for prdeck"),
    "another quota": ({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "more"},
                       "spec": {"hard": {"pods": "100000"}}}, "widen the preview's quota"),
    "limit range": ({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "prdeck-limits"}}, "reserved"),
    "allow-all network policy": ({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                  "metadata": {"name": "allow-all"},
                                  "spec": {"podSelector": {}, "ingress": [{}], "egress": [{}]}}, "open the preview"),
    "role binding": ({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                      "metadata": {"name": "x"}}, "grants API rights"),
    "LoadBalancer": ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
                      "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}, "ClusterIP Services only"),
    "NodePort": ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
                  "spec": {"type": "NodePort", "ports": [{"port": 80}]}}, "ClusterIP Services only"),
    "ExternalName": ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "en"},
                      "spec": {"type": "ExternalName", "externalName": "kubernetes.default"}}, "ClusterIP"),
    "externalIPs": ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ip"},
                     "spec": {"externalIPs": ["192.0.2.1"], "ports": [{"port": 80}]}}, "externalIPs"),
    "own Ingress with a snippet": ({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                                    "metadata": {"name": "x", "annotations": {
                                        "nginx.ingress.kubernetes.io/configuration-snippet": "return 200;"}},
                                    "spec": {"rules": [{"host": "victim.example"}]}}, "prdeck makes the preview's"),
    "service-account token secret": ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"},
                                      "type": "kubernetes.io/service-account-token"}, "service-account"),
    "endpoints to anywhere": ({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "x"}}, "any address"),
    "a custom kind named Service": ({"apiVersion": "evil.example/v1", "kind": "Service", "metadata": {"name": "x"}},
                                    "evil.example/v1 Service is not allowed"),
    "nodeName": (_pod({"nodeName": "control-plane"}), "nodeName"),
    "tolerate everything": (_pod({"tolerations": [{"operator": "Exists"}]}), "tolerations"),
    "host network": (_pod({"hostNetwork": True}), "hostNetwork"),
    "host PID": (_pod({"hostPID": True}), "hostPID"),
    "hostPath": (_pod({"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}), "hostPath volumes"),
    "privileged": (_pod(container={"securityContext": {"privileged": True}}), "privileged"),
    "SYS_ADMIN": (_pod(container={"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}), "SYS_ADMIN"),
    "hostPort": (_pod(container={"ports": [{"containerPort": 80, "hostPort": 80}]}), "hostPort"),
    "projected token": (_pod({"volumes": [{"name": "t", "projected": {"sources": [
        {"serviceAccountToken": {"path": "token"}}]}}]}), "service-account token"),
    "finalizers": ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "finalizers": ["a/b"]}},
                   "finalizers"),
    "privilege escalation": (_pod(container={"securityContext": {"allowPrivilegeEscalation": True}}),
                             "allowPrivilegeEscalation"),
}


@pytest.mark.parametrize("case", sorted(GUARD_OVERRIDES))
def test_a_manifest_cannot_replace_or_widen_the_guards(tmp_path: Path, case: str) -> None:
    """Finding 2: the manifests form replaced prdeck's quota (100,000 pods), opened the network, exposed Services,
    and reached the node; all were applied. Now each is refused when the spec is read, before any build."""
    document, reason = GUARD_OVERRIDES[case]
    folder = tmp_path / ".prdeck" / "manifests"
    folder.mkdir(parents=True)
    (folder / "a-app.yaml").write_text(yaml.safe_dump(_pod()), encoding="utf-8")
    (folder / "b-evil.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(SpecError) as refused:
        load_spec(LocalTree(tmp_path))
    assert refused.value.title == "Invalid preview spec .prdeck/manifests/b-evil.yaml"
    assert f"{document['kind']} '{document['metadata']['name']}'" in refused.value.detail
    assert reason in refused.value.detail


def test_pods_get_no_token_and_restricted_settings_in_both_forms(tmp_path: Path) -> None:
    folder = tmp_path / ".prdeck" / "manifests"
    folder.mkdir(parents=True)
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app"}}
    asks = _pod({"automountServiceAccountToken": True, "serviceAccountName": "app"},
                {"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}})
    (folder / "app.yaml").write_text(yaml.safe_dump_all([asks, account]), encoding="utf-8")
    (folder / "svc.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}), encoding="utf-8")
    options = ClusterOptions(domain="previews.example")
    objects = {obj["kind"]: obj for obj in render(load_spec(LocalTree(tmp_path)), PLACEMENT, options, {})}
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and objects["ServiceAccount"][
        "automountServiceAccountToken"] is False
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False, "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}}
    assert objects["Ingress"]["spec"]["rules"][0]["host"].endswith(".previews.example")

    compose = tmp_path / "c" / ".prdeck" / "compose.yml"
    compose.parent.mkdir(parents=True)
    compose.write_text("services:\n  db: {image: postgres, cap_add: [CHOWN, SETUID, SETGID]}\n"
                       "x-prdeck: {ingress: {service: db, port: 5432}}\n", encoding="utf-8")
    deployment = render(load_spec(LocalTree(tmp_path / "c")), PLACEMENT, ClusterOptions(), {})[4]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["CHOWN", "SETUID", "SETGID"]}
    relaxed = render(load_spec(LocalTree(tmp_path / "c")), PLACEMENT,
                     ClusterOptions(policy=PodPolicy("baseline", service_account_token=True)), {})[4]
    pod = relaxed["spec"]["template"]["spec"]
    assert "automountServiceAccountToken" not in pod
    assert "drop" not in pod["containers"][0]["securityContext"].get("capabilities", {})


def test_compose_cannot_add_capabilities_beyond_baseline(tmp_path: Path) -> None:
    compose = tmp_path / ".prdeck" / "compose.yml"
    compose.parent.mkdir(parents=True)
    compose.write_text("services:\n  web: {image: x, cap_add: [NET_ADMIN]}\n"
                       "x-prdeck: {ingress: {service: web, port: 80}}\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"services\.web\.cap_add: NET_ADMIN cannot be added"):
        load_spec(LocalTree(tmp_path))


def _network_policy(options: ClusterOptions) -> dict[str, Any]:
    return next(obj for obj in guard_objects(PLACEMENT, options) if obj["kind"] == "NetworkPolicy")


def test_egress_is_denied_except_dns_and_the_previews_own_pods() -> None:
    """Finding 5: the policy had policyTypes [Ingress] only: pods reached the API server and cloud metadata."""
    spec = _network_policy(ClusterOptions())["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["egress"][0] == {"to": [{"podSelector": {}}]}
    assert spec["egress"][1]["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    assert len(spec["egress"]) == 2 and "ipBlock" not in str(spec["egress"])
    assert _network_policy(ClusterOptions(egress="open"))["spec"]["egress"] == [{}]
    listed = _network_policy(ClusterOptions(egress=("10.20.0.0/16", "10.30.1.5:5432")))["spec"]["egress"]
    assert listed[2:] == [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}]},
                          {"to": [{"ipBlock": {"cidr": "10.30.1.5/32"}}], "ports": [{"protocol": "TCP", "port": 5432}]}]


def test_a_fork_gets_the_strict_egress_even_when_same_repository_previews_are_open(
    stack: SandboxStack, tmp_path: Path
) -> None:
    rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0), **{"preview.egress": "open"})
    fork_sha = stack.github.state.repo("octo", "app").pulls[2].head_sha
    rig.launch(2, approved_sha=fork_sha)
    rig.launch(1)
    with api(stack.kube) as api_client:
        policies = client.NetworkingV1Api(api_client)
        fork = policies.read_namespaced_network_policy("prdeck-default-deny", "prdeck-octo-app-pr-2")
        same = policies.read_namespaced_network_policy("prdeck-default-deny", "prdeck-octo-app-pr-1")
    assert fork.spec.policy_types == ["Ingress", "Egress"] and len(fork.spec.egress) == 2
    assert same.spec.egress[0].to is None and same.spec.egress[0].ports is None, "open: one rule that allows all"


@pytest.mark.parametrize(("service", "container"), [("web_app", "web-app"), ("openWebUI", "openwebui"),
                                                     ("db.primary", "db-primary")])
def test_compose_service_names_become_valid_container_names(tmp_path: Path, service: str, container: str) -> None:
    """Finding 7 for compose: service names reached the Deployment (and image names) as they were."""
    compose = tmp_path / ".prdeck" / "compose.yml"
    compose.parent.mkdir(parents=True)
    compose.write_text(f"services:\n  {service}: {{build: .}}\n"
                       f"x-prdeck: {{ingress: {{service: {service}, port: 80}}}}\n", encoding="utf-8")
    spec = load_spec(LocalTree(tmp_path))
    assert [name for name, _ in spec.builds] == [container]


def test_long_and_colliding_service_names(tmp_path: Path) -> None:
    compose = tmp_path / ".prdeck" / "compose.yml"
    compose.parent.mkdir(parents=True)
    long_a, long_b = "a" * 70 + "1", "a" * 70 + "2"
    compose.write_text(f"services:\n  {long_a}: {{image: x}}\n  {long_b}: {{image: x}}\n"
                       f"x-prdeck: {{ingress: {{service: {long_a}, port: 80}}}}\n", encoding="utf-8")
    names = [container.name for container in load_spec(LocalTree(tmp_path)).containers]
    assert len(set(names)) == 2 and all(len(name) <= 63 for name in names)
    compose.write_text("services:\n  web_app: {image: x}\n  web-app: {image: x}\n"
                       "x-prdeck: {ingress: {service: web-app, port: 80}}\n", encoding="utf-8")
    with pytest.raises(SpecError, match="'web_app' and 'web-app' both become the container name 'web-app'"):
        load_spec(LocalTree(tmp_path))


def test_a_refused_manifest_builds_and_applies_nothing(stack: SandboxStack, tmp_path: Path) -> None:
    """The refusal comes before any build or apply, and names the file, the object and the reason."""
    rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0),
                   **{"preview.spec": ".prdeck/manifests", "preview.images": {"web": {"context": "."}}})
    with pytest.raises(LaunchFailed) as failed:
        rig.launch(3)
    assert failed.value.step == "fetch"
    assert "quota.yaml" in failed.value.title and "ResourceQuota 'prdeck-quota'" in failed.value.detail
    assert not [event for event in rig.events if event.kind == "step" and event.step == "build"
                and event.state == "running"]
    with api(stack.kube) as api_client:
        names = [ns.metadata.name for ns in client.CoreV1Api(api_client).list_namespace().items]
    assert "prdeck-octo-app-pr-3" not in names


def test_prdecks_own_variables_are_the_ones_a_spec_sees_besides_the_allowed(tmp_path: Path) -> None:
    """${UFFIZZI_URL} becomes Kubernetes' $(UFFIZZI_URL), listed first so the container's environment expands it."""
    compose = tmp_path / ".prdeck" / "compose.yml"
    compose.parent.mkdir(parents=True)
    compose.write_text("services:\n  web:\n    image: x\n"
                       "    environment: {BASE: '${UFFIZZI_URL}api', PRDECK_URL: 'no'}\n"
                       "    command: ['--url', '${PRDECK_URL}']\nx-prdeck: {ingress: {service: web, port: 80}}\n",
                       encoding="utf-8")
    deployment = render(load_spec(LocalTree(tmp_path)), PLACEMENT, ClusterOptions(), {})[4]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    names = ["PRDECK_URL", "UFFIZZI_URL", "UFFIZZI_DOMAIN", "PORT", "BASE"]
    assert [item["name"] for item in container["env"]] == names
    assert container["env"][0]["value"].startswith("http") and container["env"][4]["value"] == "$(UFFIZZI_URL)api"
    assert container["args"] == ["--url", "$(PRDECK_URL)"]
