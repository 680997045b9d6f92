"""`pip install prdeck` adds one top-level name, `prdeck`, with every package and data file of the three folders."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"tui": "prdeck/tui", "screens": "prdeck/screens", "services": "prdeck/services"}

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """A wheel built from the repository, installed (without its dependencies) into a fresh venv; returns its
    site-packages and the top-level names the venv had before."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy: setuptools writes build/ and *.egg-info next to the sources it builds
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(source)],
                   check=True, capture_output=True)
    (wheel,) = (work / "dist").glob("prdeck-*.whl")
    venv.create(work / "venv", with_pip=True)
    python = work / "venv" / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    before = {entry.name for entry in site.iterdir()}
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True,
                   capture_output=True)
    return site, before


def test_the_wheel_adds_only_prdeck_at_top_level(installed: tuple[Path, set[str]]) -> None:
    site, before = installed
    added = {entry.name for entry in site.iterdir()} - before
    assert {name for name in added if not name.endswith(".dist-info")} == {"prdeck"}, added
    assert not (site / "prdeck" / "__init__.py").exists(), "prdeck is a namespace: the three folders are its parts"


def test_every_package_and_data_file_of_the_three_folders_is_installed(installed: tuple[Path, set[str]]) -> None:
    site, _ = installed
    for folder, target in FOLDERS.items():
        for source in (ROOT / folder).rglob("*"):
            if "__pycache__" in source.parts or source.is_dir():
                continue
            if source.suffix in (".py", ".tcss", ".graphql", ".json"):
                relative = source.relative_to(ROOT / folder)
                assert (site / target / relative).is_file(), f"{folder}/{relative} is missing from the wheel"


def test_the_console_script_points_into_the_namespace(installed: tuple[Path, set[str]]) -> None:
    site, _ = installed
    (entry_points,) = site.glob("prdeck-*.dist-info/entry_points.txt")
    assert "prdeck = prdeck.tui.cli.main:run" in entry_points.read_text()
