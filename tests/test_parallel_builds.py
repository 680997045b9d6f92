"""Several built services build side by side and push side by side (issue 17), each line naming its service."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from prdeck.services.launch.image_steps import parallel_builds
from prdeck.services.models import RepoRef
from prdeck.services.sandbox.images import SimulatedBuilder, free_port
from prdeck.services.sandbox.stack import SandboxStack
from tests.conftest import admin, stats
from tests.launch_support import app_seed, make_rig

pytestmark = pytest.mark.timeout(120)

THREE = """services:
  web:
    build: .
    ports: ["{port}"]
  worker:
    build: .
    command: ["./worker"]
  admin:
    build: {{context: ., dockerfile: Dockerfile}}
    command: ["./admin"]
x-prdeck:
  ingress: {{service: web, port: {port}}}
"""


def test_three_services_build_side_by_side_and_push_side_by_side(tmp_path: Path) -> None:
    port = free_port()
    seed = app_seed(port, files={".prdeck/compose.yml": THREE.format(port=port)})
    with SandboxStack(seed, builds="simulate") as stack:
        rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0.3))
        result = rig.launch(1)
        assert result.steps[-1].state == "done"
        lines = [event.text for event in rig.events if event.kind == "line" and event.text]
        building = [text for text in lines if text.startswith("[") and "(simulated)" in text]
        assert {text.split("]")[0][1:] for text in building} == {"web", "worker", "admin"}
        first_done = next(index for index, text in enumerate(building) if "Successfully tagged" in text)
        started = {text.split("]")[0][1:] for text in building[:first_done] if "Step 1/" in text}
        # twice the cores at once (docker compose build runs them all at once)
        assert len(started) == min(3, parallel_builds()), started
        assert sum(text.startswith("pushed ") for text in lines) == 3
        progress = [event.fraction for event in rig.events if event.kind == "progress"]
        assert progress and max(progress) <= 1.0


def test_a_relaunch_of_a_commit_the_mirror_holds_does_not_fetch_it_again(tmp_path: Path) -> None:
    with SandboxStack(app_seed(free_port()), builds="simulate") as stack:
        rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0))
        rig.launch(1)
        before = stats(stack.github)
        again = rig.launch(1)
        after = stats(stack.github)
        assert after["git"] == before["git"], "no git request: the head commit is in the mirror"
        assert any("not fetched again" in event.text for event in rig.events if event.kind == "line" and event.text)
        assert again.steps[-1].state == "done"
        admin(stack.github, "pulls", {"action": "push", "repo": "octo/app", "number": 1,
                                      "files": {"site/index.html": "<h1>newer</h1>\n"}})
        rig.launch(1)
        assert stats(stack.github)["git"] > after["git"], "a new head is fetched"


def test_the_clone_url_is_asked_once_per_mirror(tmp_path: Path) -> None:
    pulls = [{"number": n, "title": f"PR {n}", "author": "dev", "branch": f"change/{n}",
              "files": {"site/index.html": f"<h1>{n}</h1>\n"}} for n in (1, 2)]
    with SandboxStack(app_seed(free_port(), pulls=pulls), builds="simulate") as stack:
        rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0))
        rig.launcher.settings.who()  # the token's login, asked in the background (GET /user): counted before
        before = stats(stack.github)
        rig.launcher.plan(RepoRef("octo", "app"), 1, check_approval=False)
        first = stats(stack.github)
        assert first["rest"] == before["rest"] + 1, "GET /repos/octo/app: where to fetch from"
        rig.launcher.plan(RepoRef("octo", "app"), 2, check_approval=False)
        second = stats(stack.github)
        assert second["rest"] == first["rest"], "the mirror kept the answer"
        assert second["git"] > first["git"], "PR 2 was fetched"
        mirror = next((tmp_path / "mirrors").glob("*/app.git"))
        kept = subprocess.run(["git", "--git-dir", str(mirror), "config", "--get", "prdeck.origin"],
                              capture_output=True, text=True, check=True).stdout.split()
        assert kept == [rig.github.api_url, stack.github.info()["git_url"].rstrip("/") + "/octo/app.git"]


@pytest.mark.parametrize("kept", ["https://elsewhere.test/octo/app.git", "{git}octo/renamed-away.git"])
def test_a_kept_clone_url_elsewhere_or_gone_is_asked_again(tmp_path: Path, kept: str) -> None:
    """Another host in the mirror's config (a shared or tampered cache) would get the token: never used. A moved
    repository (git follows no redirect) is asked again and fetched from where GitHub says now."""
    pulls = [{"number": n, "title": f"PR {n}", "author": "dev", "branch": f"change/{n}",
              "files": {"site/index.html": f"<h1>{n}</h1>\n"}} for n in (1, 2)]
    with SandboxStack(app_seed(free_port(), pulls=pulls), builds="simulate") as stack:
        rig = make_rig(stack, tmp_path, lambda: SimulatedBuilder(pace=0))
        rig.launcher.settings.who()  # the token's login, asked in the background (GET /user): counted before
        rig.launcher.plan(RepoRef("octo", "app"), 1, check_approval=False)
        mirror = next((tmp_path / "mirrors").glob("*/app.git"))
        right = stack.github.info()["git_url"].rstrip("/") + "/octo/app.git"
        wrong = kept.format(git=stack.github.info()["git_url"])
        subprocess.run(["git", "--git-dir", str(mirror), "config", "prdeck.origin", f"{rig.github.api_url} {wrong}"],
                       check=True)
        before = stats(stack.github)
        rig.launcher.plan(RepoRef("octo", "app"), 2, check_approval=False)
        assert stats(stack.github)["rest"] == before["rest"] + 1, "GitHub was asked where to fetch from"
        kept_now = subprocess.run(["git", "--git-dir", str(mirror), "config", "--get", "prdeck.origin"],
                                  capture_output=True, text=True, check=True).stdout.split()
        assert kept_now == [rig.github.api_url, right]
