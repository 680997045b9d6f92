"""Issue 13, items 4 and 5: the cluster side under faults, through a fault proxy (tests/fault_proxy.py) between
the real `prdeck` command and the Kubernetes sandbox.

Transient failures (5xx, 429 with Retry-After, reset connections, an API server away for seconds) on the
rollout watch, server-side apply, namespace delete and its wait, and logs are retried within the step's
deadline; a bad kubeconfig, a hanging credential plugin or a silent API server never break the PR list. Each
test checks all sides: the cluster's objects, GitHub's deployments and commit statuses, and what the CLI printed
and exited with. Times are hang guards only (the numbers: benchmarks/cluster_faults.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.rest import ApiException

from prdeck.services.kube.client import load_api_client
from prdeck.services.kube.service import ClusterService
from prdeck.services.sandbox.images import free_port
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import PRDECK, pull, run_prdeck, seed_with
from tests.fault_proxy import FaultProxy
from tests.kube_support import eventually, fast_seed
from tests.launch_support import app_seed

pytestmark = pytest.mark.timeout(150)

NS = "prdeck-octo-app-pr-1"
WATCH = rf"/api/v1/namespaces/{NS}/pods\?.*watch=(?i:true)"
NAMESPACE = rf"/api/v1/namespaces/{NS}(\?|$)"


# rigs ---------------------------------------------------------------------------------------------------
def _stack(seed: dict[str, Any], builds: str = "off") -> Iterator[SandboxStack]:
    with SandboxStack(seed, builds=builds) as stack:
        yield stack


@pytest.fixture
def launch_stack() -> Iterator[SandboxStack]:
    """octo/app#1 with a spec, simulated builds; pods become ready 1.5 s after they start."""
    seed = app_seed(free_port())
    seed["kube"]["timing"]["ready"] = 1.5
    yield from _stack(seed, builds="simulate")


@pytest.fixture
def proxy_for(tmp_path: Path) -> Iterator[Any]:
    proxies: list[FaultProxy] = []

    def start(stack: SandboxStack) -> FaultProxy:
        proxy = FaultProxy(stack.kube.url).start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


def cli_env(stack: SandboxStack, proxy: FaultProxy, tmp: Path) -> dict[str, str]:
    """prdeck pointed at the stack, its cluster reached through ``proxy``."""
    kubeconfig = proxy.kubeconfig(stack.kube.kubeconfig, tmp / "proxied-kubeconfig")
    return {**{k: str(v) for k, v in stack.info()["env"].items()}, "PRDECK_REPOS": "octo/app",
            "KUBECONFIG": str(kubeconfig), "XDG_STATE_HOME": str(tmp / "state")}


def direct(stack: SandboxStack) -> ClusterService:
    """The cluster as it is, past the proxy."""
    return ClusterService(load_api_client(str(stack.kube.kubeconfig), None))


def github_states(stack: SandboxStack, number: int = 1) -> tuple[list[str], str | None]:
    """The last state of every deployment of the PR, and its commit status ``prdeck/preview``."""
    repo = stack.github.state.repo("octo", "app")
    sha = repo.pulls[number].head_sha
    deployments = [d.statuses[-1]["state"] for d in repo.deployments.values() if d.statuses]
    status = next((s.state for s in repo.statuses.get(sha, []) if s.context == "prdeck/preview"), None)
    return deployments, status


def launch(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_prdeck("launch", "1", "--wait", "--json", "--timeout", "60", env=env, timeout=120)


def assert_launched(stack: SandboxStack, done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    assert '"number": 1' in done.stdout
    assert direct(stack).preview(NS).state == "ready"
    kinds = {(i.kind, i.metadata.name) for i in direct(stack).core.list_namespaced_resource_quota(NS).items}
    assert kinds, "the namespace has its quota"
    assert github_states(stack) == (["success"], "success")


# item 4: launch -----------------------------------------------------------------------------------------
def test_one_500_on_the_rollout_watch_does_not_fail_the_launch(launch_stack, proxy_for, tmp_path):
    proxy = proxy_for(launch_stack)
    proxy.fail(1, 500, method="GET", path=WATCH)
    done = launch(cli_env(launch_stack, proxy, tmp_path))
    assert [s.fault for s in proxy.requests("GET", WATCH)][:1] == ["status"], "the watch met the 500"
    assert_launched(launch_stack, done)


def test_an_8_second_api_outage_during_the_rollout_does_not_fail_the_launch(launch_stack, proxy_for, tmp_path):
    proxy = proxy_for(launch_stack)
    proxy.outage(8, method="GET", path=WATCH)
    done = launch(cli_env(launch_stack, proxy, tmp_path))
    assert any(s.fault == "outage" for s in proxy.requests("GET", WATCH)), "the outage began in the rollout"
    assert_launched(launch_stack, done)


def test_server_side_apply_is_retried_after_500_429_and_reset_connections(launch_stack, proxy_for, tmp_path):
    proxy = proxy_for(launch_stack)
    proxy.fail(1, 500, method="PATCH", path="/namespaces/" + NS + r"(\?|$)")
    proxy.fail(1, 429, method="PATCH", path="/networkpolicies/", retry_after=1)
    proxy.drop(1, method="PATCH", path="/deployments/")
    proxy.lose(1, method="PATCH", path="/services/")
    done = launch(cli_env(launch_stack, proxy, tmp_path))
    assert sorted(s.fault or "" for s in proxy.requests("PATCH") if s.fault) == ["drop", "lose", "status", "status"]
    assert_launched(launch_stack, done)
    from kubernetes import client

    networking = client.NetworkingV1Api(direct(launch_stack).api_client)
    assert networking.list_namespaced_network_policy(NS).items, "the namespace has its NetworkPolicy"

    proxy.fail(None, 403, method="PATCH", path="/deployments/")  # a 4xx is an answer: not retried
    refused = launch(cli_env(launch_stack, proxy, tmp_path))
    assert refused.returncode == 1 and "refused deployment/preview" in refused.stderr, refused.stderr
    assert [s.fault for s in proxy.requests("PATCH", "/deployments/")] == ["drop", None, "status"]
    assert github_states(launch_stack)[0] == ["success", "failure"]


# item 4: destroy ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["500 while following", "503 on the delete", "delete answer lost"])
def test_destroy_survives_a_transient_error_and_marks_github_inactive(launch_stack, proxy_for, tmp_path, fault):
    proxy = proxy_for(launch_stack)
    env = cli_env(launch_stack, proxy, tmp_path)
    assert_launched(launch_stack, launch(env))
    if fault == "500 while following":
        proxy.fail(1, 500, method="GET", path=NAMESPACE)
    elif fault == "503 on the delete":
        proxy.fail(1, 503, method="DELETE", path=NAMESPACE)
    else:
        proxy.lose(1, method="DELETE", path=NAMESPACE)
    done = run_prdeck("destroy", "1", "--yes", env=env, timeout=120)
    assert any(s.fault for s in proxy.requests(path=NAMESPACE)), "the fault was met"
    assert done.returncode == 0, done.stderr
    assert f"namespace {NS} is gone" in done.stdout and "marked inactive" in done.stdout
    with pytest.raises(ApiException) as gone:
        direct(launch_stack).core.read_namespace(NS)
    assert gone.value.status == 404
    assert github_states(launch_stack)[0] == ["inactive"]


# item 4: logs -------------------------------------------------------------------------------------------
@pytest.fixture
def logs_stack() -> Iterator[SandboxStack]:
    seed = fast_seed({**seed_with([pull(1)]), "previews": [{"repo": "octo/app", "number": 1, "state": "ready"}]})
    seed["kube"]["timing"]["log_every"] = 0.1
    yield from _stack(seed)


def test_logs_follow_resumes_when_the_api_server_comes_back(logs_stack, proxy_for, tmp_path):
    proxy = proxy_for(logs_stack)
    env = cli_env(logs_stack, proxy, tmp_path)
    eventually(lambda: direct(logs_stack).preview(NS).state == "ready")
    process = subprocess.Popen([PRDECK, "logs", "1", "-f", "-c", "web"], env={**os.environ, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True).start()
    try:
        eventually(lambda: len(lines) >= 5, timeout=20)
        proxy.outage(4)
        time.sleep(4)
        before = len(lines)
        eventually(lambda: len(lines) >= before + 5, timeout=30)
    finally:
        process.send_signal(signal.SIGINT)
        stderr = process.communicate(timeout=20)[1]
    assert process.returncode == 130, stderr
    assert len(lines) == len(set(lines)), "no line twice after the resume"
    notes = [line for line in stderr.splitlines() if "reconnected" in line]
    assert len(notes) == 1 and notes[0].startswith("prdeck: "), stderr


# item 5: the PR list with a bad kubeconfig or a silent cluster -----------------------------------------
@pytest.fixture
def github(make_sandbox: Any) -> Any:
    return make_sandbox(seed_with([pull(1, title="Visible anyway")]))


def ls_env(github: Any, kubeconfig: Path) -> dict[str, str]:
    return {**github.info()["env"], "PRDECK_REPOS": "octo/app", "KUBECONFIG": str(kubeconfig)}


def assert_listed_with_one_line(done: subprocess.CompletedProcess[str], *words: str) -> str:
    assert done.returncode == 0, done.stderr
    assert "Visible anyway" in done.stdout
    (line,) = done.stderr.splitlines()
    assert line.startswith("prdeck: previews unknown: ") and "Traceback" not in done.stderr
    for word in words:
        assert word in line, line
    return line


@pytest.mark.parametrize(("content", "says"), [
    (b"apiVersion: v1\nclusters:\n  - name: a\n   server: [\n", "is not valid YAML"),
    (b"- name: a\n- name: b\n", "not a kubeconfig"),
    (bytes(range(256)) * 8, "not a text file"),
    (b"apiVersion: v1\nkind: Config\ncontexts: 5\n", "Cannot use the kubeconfig"),
])
def test_a_broken_kubeconfig_is_one_line_and_the_list_still_shows(github, tmp_path, content, says):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_bytes(content)
    done = run_prdeck("ls", env=ls_env(github, kubeconfig), timeout=30)
    line = assert_listed_with_one_line(done, says, str(kubeconfig))
    assert "KUBECONFIG" in line or "cluster.kubeconfig" in line, "and what to do"


def _exec_kubeconfig(tmp: Path, server: str) -> Path:
    plugin = tmp / "hanging-plugin"
    plugin.write_text("#!/bin/sh\nexec sleep 45\n")
    plugin.chmod(0o755)
    kubeconfig = tmp / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: '{server}'}}}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
        "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, "
        f"command: '{plugin}'}}}}}}]\n"
    )
    return kubeconfig


def test_a_hanging_credential_plugin_is_cut_short_and_the_list_still_shows(github, tmp_path):
    done = run_prdeck("ls", env=ls_env(github, _exec_kubeconfig(tmp_path, "http://127.0.0.1:9")), timeout=30)
    assert_listed_with_one_line(done, "credential plugin", "did not answer within")


def test_a_silent_api_server_is_timed_out_and_the_list_still_shows(github, kube, proxy_for, tmp_path):
    proxy = FaultProxy(kube.url).start()
    try:
        proxy.stall()
        kubeconfig = proxy.kubeconfig(kube.kubeconfig, tmp_path / "kubeconfig")
        done = run_prdeck("ls", env=ls_env(github, kubeconfig), timeout=40)
    finally:
        proxy.stop()
    assert_listed_with_one_line(done, "Cannot reach the cluster", "timed out")


def test_the_tuis_deck_reports_a_hanging_plugin_in_its_cluster_problem(github, tmp_path):
    """The TUI connects after its first frame (cluster="later"); the connection must end, with a reason."""
    from prdeck.services.config import Config
    from prdeck.services.deck import open_deck
    from prdeck.services.models import RepoRef

    config = Config.defaults().with_values({"github.api_url": github.api_url, "cluster.kubeconfig": str(
        _exec_kubeconfig(tmp_path, "http://127.0.0.1:9"))}, "test")
    deck = open_deck(config, [RepoRef("octo", "app")], token=github.token, cluster="later")
    try:
        connecting = threading.Thread(target=deck.connect_cluster, daemon=True)
        connecting.start()
        connecting.join(30)
        assert not connecting.is_alive(), "connecting never ended"
        problem = deck.cluster_problem
        assert problem is not None and "credential plugin" in problem.title and not deck.has_cluster
        assert [row.pull.number for row in deck.snapshot().rows] == [1]
    finally:
        deck.close()


# the rule itself ---------------------------------------------------------------------------------------
def test_what_is_retried_and_how_long_after():
    import urllib3

    from prdeck.services.kube.retry import delay_for, transient

    def api(status: int, retry_after: str | None = None) -> ApiException:
        error = ApiException(status=status, reason="x")
        error.headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return error

    assert [transient(api(s)) for s in (500, 502, 503, 504, 429)] == [True] * 5
    assert [transient(api(s)) for s in (400, 401, 403, 404, 409, 410, 422)] == [False] * 7
    assert transient(ConnectionResetError()) and transient(urllib3.exceptions.ReadTimeoutError(None, "/", "t"))
    assert transient(urllib3.exceptions.NewConnectionError(None, "refused"))  # type: ignore[arg-type]
    assert not transient(api(0)), "status 0: the client could not even build the request (TLS, arguments)"
    assert delay_for(api(429, "3"), 0) == 3 and delay_for(api(503, "1"), 5) == 1
    assert 0.3 < delay_for(api(500), 0) <= 0.5 < delay_for(api(500), 2) <= 2, "backoff doubles"
    assert all(0 < delay_for(api(500), n) <= 5 for n in range(20)), "up to 5 s"
