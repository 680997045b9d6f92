"""The cluster side under faults (issue 13, items 4 and 5), through tests/fault_proxy.py.

Prints, each measured in this run with the real `prdeck` command against both sandboxes:
- seconds until `prdeck ls` prints the PR list with a healthy cluster, no kubeconfig, a kubeconfig that is not
  YAML, an `exec:` credential plugin that hangs, and an API server that accepts connections but never answers
  (before issue 13: 81 s for the silent server, forever for the plugin, a crash for the broken file);
- seconds of `prdeck launch --wait` with a healthy cluster, with one 500 on the rollout watch, and with an 8 s
  API outage that begins in the rollout (before: the two faulty ones failed), and its exit status;
- seconds of `prdeck destroy` with a 500 while it follows the deletion (before: exit 1 after the namespace went).

Run: .venv/bin/python benchmarks/cluster_faults.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from prdeck.services.sandbox.images import free_port  # noqa: E402
from prdeck.services.sandbox.stack import SandboxStack  # noqa: E402
from tests.conftest import run_prdeck  # noqa: E402
from tests.fault_proxy import FaultProxy  # noqa: E402
from tests.launch_support import app_seed  # noqa: E402

NS = "prdeck-octo-app-pr-1"


def timed(*args: str, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    done = run_prdeck(*args, env=env, timeout=300)
    return time.monotonic() - started, done


def main() -> None:
    seed = app_seed(free_port())
    seed["kube"]["timing"]["ready"] = 1.5
    with SandboxStack(seed, builds="simulate") as stack, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        proxy = FaultProxy(stack.kube.url).start()
        base = {**{k: str(v) for k, v in stack.info()["env"].items()}, "PRDECK_REPOS": "octo/app",
                "XDG_STATE_HOME": str(root / "state")}
        proxied = {**base, "KUBECONFIG": str(proxy.kubeconfig(stack.kube.kubeconfig, root / "proxied"))}
        broken = root / "broken"
        broken.write_text("clusters:\n  - name: a\n   server: [\n")
        plugin = root / "plugin"
        plugin.write_text("#!/bin/sh\nexec sleep 60\n")
        plugin.chmod(0o755)
        hanging = root / "hanging"
        hanging.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": {"server": proxy.url}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            "users": [{"name": "u", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                                                      "command": str(plugin)}}}]}))
        print("prdeck ls, seconds until the list is printed:")
        cases = [("healthy cluster", proxied), ("no kubeconfig", {**base, "KUBECONFIG": str(root / "none")}),
                 ("kubeconfig not YAML", {**base, "KUBECONFIG": str(broken)}),
                 ("hanging exec plugin", {**base, "KUBECONFIG": str(hanging)})]
        for name, env in cases:
            seconds, done = timed("ls", env=env)
            print(f"  {name:<22} {seconds:5.1f} s  exit {done.returncode}  {done.stderr.strip()[:90]}")
        proxy.stall()
        seconds, done = timed("ls", env=proxied)
        print(f"  {'silent API server':<22} {seconds:5.1f} s  exit {done.returncode}  {done.stderr.strip()[:90]}")
        proxy.clear()

        print("prdeck launch 1 --wait (simulated build):")
        watch = rf"/api/v1/namespaces/{NS}/pods\?.*watch=(?i:true)"
        faults = [("healthy", lambda: None), ("one 500 on the watch", lambda: proxy.fail(1, 500, "GET", watch)),
                  ("8 s API outage", lambda: proxy.outage(8, "GET", watch))]
        for name, inject in faults:
            run_prdeck("destroy", "1", "--yes", env=proxied, timeout=120)
            inject()
            seconds, done = timed("launch", "1", "--wait", "--json", env=proxied)
            print(f"  {name:<22} {seconds:5.1f} s  exit {done.returncode}")
            proxy.clear()
        proxy.fail(1, 500, "GET", rf"/api/v1/namespaces/{NS}(\?|$)")
        seconds, done = timed("destroy", "1", "--yes", env=proxied)
        inactive = "marked inactive" in done.stdout
        print(f"prdeck destroy with a 500 while following: {seconds:.1f} s  exit {done.returncode}  "
              f"GitHub deployments marked inactive: {inactive}")
        proxy.stop()


if __name__ == "__main__":
    main()
