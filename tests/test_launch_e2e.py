"""End to end: a PR's branch built by the real Docker engine, pushed to a real registry, deployed to the
Kubernetes sandbox, reported to the GitHub sandbox, and opened through a port-forward relay."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from prdeck.services.launch.builder import docker_client
from prdeck.services.sandbox.images import free_port, sandbox_builder
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import PRDECK, run_prdeck
from tests.launch_support import Rig, app_seed, make_rig, require_docker, stack_deck, started

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def page_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def stack(page_port: int) -> Iterator[SandboxStack]:
    require_docker()
    yield from started(app_seed(page_port), builds="docker")


@pytest.fixture
def rig(stack: SandboxStack, tmp_path: Path) -> Rig:
    return make_rig(stack, tmp_path, sandbox_builder(simulate=False))


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_a_launch_builds_pushes_deploys_reports_and_opens(
    rig: Rig, stack: SandboxStack, page_port: int, tmp_path: Path
) -> None:
    result = rig.launch(1)
    pull = stack.github.state.repo("octo", "app").pulls[1]
    assert result.sha == pull.head_sha and result.built and not result.simulated
    ref = f"{stack.registry_address}/octo-app-web:pr-1-{pull.head_sha[:12]}"
    assert result.images == (ref,)
    assert [step.name for step in result.steps] == ["fetch", "build", "push", "apply", "rollout", "report"]
    assert all(step.state == "done" for step in result.steps)

    # the cluster got a Deployment with exactly that image, labelled and annotated
    deployment = client.AppsV1Api(rig.cluster.api_client).read_namespaced_deployment("preview", result.namespace)
    assert deployment.spec.template.spec.containers[0].image == ref
    assert deployment.metadata.labels["app.kubernetes.io/managed-by"] == "prdeck"
    assert deployment.spec.template.metadata.annotations["prdeck.dev/head-sha"] == pull.head_sha
    namespace = rig.cluster.core.read_namespace(result.namespace)
    assert namespace.metadata.labels["prdeck.dev/pr"] == "1"

    # the pushed image, pulled back from the registry and run with host networking, serves the PR's page
    engine = docker_client()
    engine.images.remove(ref, force=True)
    engine.images.pull(ref)
    container = engine.containers.run(ref, detach=True, network_mode="host", remove=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                assert _fetch(f"http://127.0.0.1:{page_port}/") == "<h1>page of PR 1</h1>\n"
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        container.kill()

    # GitHub: deployment statuses in order, the commit status, nothing else
    repo = stack.github.state.repo("octo", "app")
    (deployment_record,) = [d for d in repo.deployments.values() if d.environment == "preview/pr-1"]
    states = [status["state"] for status in deployment_record.statuses]
    assert states == ["queued", "in_progress", "in_progress", "success"]
    assert result.url is None, "no cluster.domain: no public URL"
    assert not deployment_record.statuses[-1].get("environment_url"), "none published (issue 13, item 8)"
    assert "prdeck open 1" in deployment_record.statuses[-1]["description"]
    assert deployment_record.transient_environment and deployment_record.sha == pull.head_sha
    contexts = [(s.context, s.state) for s in repo.statuses[pull.head_sha]]
    assert contexts[0] == ("prdeck/preview", "success")

    # open: the relay on 127.0.0.1 reaches the pod through the port-forward API
    deck = stack_deck(stack, tmp_path, None)
    preview = next(p for p in deck.list_previews() if p.number == 1)
    assert preview.state == "ready"
    url = deck.open_url(preview)
    assert url.startswith("http://127.0.0.1:")
    page = _fetch(url)
    assert "octo/app #1" in page and pull.head_sha in page
    deck.close()


def test_relaunching_an_unchanged_pr_skips_the_build(rig: Rig) -> None:
    first = rig.launch(1)
    started_at = time.monotonic()
    again = rig.launch(1)
    took = time.monotonic() - started_at
    assert not again.built and again.images == first.images
    build = next(step for step in again.steps if step.name == "build")
    assert build.state == "skipped" and "already in the registry" in build.detail
    assert took < 10  # generous: the benchmark prints the real number


def test_the_cli_launches_and_opens_against_prdeck_sandbox(stack: SandboxStack, tmp_path: Path) -> None:
    env = {**{k: str(v) for k, v in stack.info()["env"].items()}, "PRDECK_REPOS": "octo/app"}
    launched = _prdeck(["launch", "1", "--wait", "--json"], env, tmp_path)
    result = json.loads(launched.stdout)
    assert result["number"] == 1 and [s["name"] for s in result["steps"]][-1] == "report"
    assert "==> build" in launched.stderr
    lasting = run_prdeck("open", "1", "--print", env={**env, "XDG_STATE_HOME": str(tmp_path / "state")})
    assert lasting.returncode == 1 and lasting.stdout == "", "no Ingress on a real domain: no lasting URL to print"
    assert lasting.stderr.startswith("prdeck: octo/app#1 has no lasting URL: its preview has no Ingress")
    relay = subprocess.Popen([PRDECK, "open", "1", "--print", "--forward"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env={**os.environ, **env, "XDG_STATE_HOME": str(tmp_path / "state")})
    try:
        assert relay.stdout is not None
        url = relay.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=10) as answer:  # the relay outlives the printing: it is kept
            assert answer.status == 200
    finally:
        relay.send_signal(signal.SIGINT)
        relay.wait(timeout=20)
    rendered = _prdeck(["render", "1"], env, tmp_path)
    assert "kind: Deployment" in rendered.stdout and "kind: NetworkPolicy" in rendered.stdout


def _prdeck(args: list[str], env: dict[str, str], tmp: Path) -> subprocess.CompletedProcess[str]:
    done = run_prdeck(*args, env={**env, "XDG_STATE_HOME": str(tmp / "state")}, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def test_a_docker_sandbox_makes_the_demo_base_image_on_a_fresh_engine() -> None:
    """Issue 13, item 10: `prdeck sandbox` + `prdeck launch` failed on a fresh engine (only the sandbox's own
    builder made the base image the demo repository builds FROM)."""
    require_docker()
    from prdeck.services.sandbox.images import BASE_IMAGE, docker_ready

    assert docker_ready(), "tests/run installs busybox-static and starts the engine: the base image can be built"
    engine = docker_client()
    with contextlib.suppress(Exception):
        engine.images.remove(BASE_IMAGE, force=True)
    with SandboxStack(app_seed(free_port()), builds="docker"):
        assert engine.images.get(BASE_IMAGE).id
