"""House rules that keep the layers apart (import-linter checks the same in tests/run)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import services


def test_services_never_load_textual_or_rich():
    modules = [name for _, name, _ in pkgutil.walk_packages(services.__path__, "services.")]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich', 'tui', 'screens'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert len(modules) > 10
    assert result.stdout.strip() == "[]"
