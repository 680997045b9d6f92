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
