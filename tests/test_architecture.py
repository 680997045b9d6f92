"""House rules that keep the layers apart (import-linter checks the same in tests/run)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import prdeck.services as services


def test_services_never_load_textual_or_rich():
    modules = [name for _, name, _ in pkgutil.walk_packages(services.__path__, "prdeck.services.")]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "ui = ('textual', 'rich', 'prdeck.tui', 'prdeck.screens')\n"
        "print(sorted(m for m in sys.modules if m.startswith(ui)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert len(modules) > 10
    assert result.stdout.strip() == "[]"


def test_the_command_line_and_the_presentation_logic_never_load_textual():
    import prdeck.tui.view as view

    presentation = [name for _, name, _ in pkgutil.walk_packages(view.__path__, "prdeck.tui.view.")]
    modules = ["prdeck.tui.cli.main", *presentation]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('textual', 'prdeck.screens', 'prdeck.tui.app'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert len(modules) > 5
    assert result.stdout.strip() == "[]"


def test_nothing_is_importable_under_the_old_top_level_names():
    """The folders install as prdeck.*: a stray `import services` would load a second copy of every module."""
    script = "import importlib.util; print([n for n in ('services', 'tui', 'screens') if importlib.util.find_spec(n)])"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd="/")
    assert result.stdout.strip() == "[]"
