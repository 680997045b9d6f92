"""kubectl against the kube sandbox (issue 13): the machine's kubectl, with the kubeconfig `prdeck sandbox`
writes, lists pods and server-side applies (dry run, with server-side field validation from /openapi/v3) a
preview that `prdeck render` printed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PRDECK, run_prdeck

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


@pytest.fixture
def sandbox_info(tmp_path: Path) -> Iterator[dict[str, Any]]:
    info_path = tmp_path / "info.json"
    process = subprocess.Popen([PRDECK, "sandbox", "--info", str(info_path)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not info_path.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert info_path.exists(), "prdeck sandbox wrote no --info file"
        yield json.loads(info_path.read_text())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def kubectl(info: dict[str, Any], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": info["kubeconfig"], "HOME": str(Path(info["kubeconfig"]).parent)}
    return subprocess.run([KUBECTL or "kubectl", *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=60)


def test_kubectl_lists_pods_and_server_side_applies_a_rendered_preview(sandbox_info, tmp_path):
    listed = kubectl(sandbox_info, "get", "pods", "-A")
    assert listed.returncode == 0, listed.stderr
    assert "prdeck-acme-storefront-pr-101" in listed.stdout  # the demo's seeded previews
    env = {**{k: str(v) for k, v in sandbox_info["env"].items()}, "XDG_STATE_HOME": str(tmp_path / "state")}
    rendered = run_prdeck("render", "104", "--repo", "acme/storefront", env=env, timeout=120)
    assert rendered.returncode == 0, rendered.stderr
    documents = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    namespace = next(d for d in documents if d["kind"] == "Namespace")
    # a dry run creates nothing, so objects in a namespace that does not exist yet are refused (as on a real
    # server): the namespace is applied for real first
    created = kubectl(sandbox_info, "apply", "--server-side", "-f", "-", stdin=yaml.safe_dump(namespace))
    assert created.returncode == 0, created.stderr
    preview = tmp_path / "preview.yaml"
    preview.write_text(rendered.stdout, encoding="utf-8")
    applied = kubectl(sandbox_info, "apply", "--server-side", "--dry-run=server", "-f", str(preview))
    assert applied.returncode == 0, applied.stderr
    assert "serverside-applied (server dry run)" in applied.stdout
    assert 'Warning: would violate PodSecurity "restricted:latest"' in applied.stderr
    name = namespace["metadata"]["name"]
    deployed = kubectl(sandbox_info, "get", "deployments", "-n", name, "-o", "name")
    assert deployed.returncode == 0 and "deployment" not in deployed.stdout, "the dry run saved objects"


def test_rendered_yaml_reads_back_the_same_in_kubectl(sandbox_info):
    values = ["Y", "n", "yes", "on", "0o12", "1_000", "12:30", "NULL", "~", "1e3", "web"]
    from prdeck.tui.cli.yaml_out import dump_all

    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "busybox", "env": [
               {"name": f"V{i}", "value": v} for i, v in enumerate(values)]}]}}
    text = dump_all([pod])
    assert yaml.safe_load(text) == pod
    read = kubectl(sandbox_info, "create", "--dry-run=client", "-o", "json", "-f", "-", stdin=text)
    assert read.returncode == 0, read.stderr
    assert [e["value"] for e in json.loads(read.stdout)["spec"]["containers"][0]["env"]] == values
