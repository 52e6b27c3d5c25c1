"""Importing the command line stays fast: no heavy library is imported until a command runs."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "sklearn", "fastapi", "onnxruntime", "transformers", "matplotlib")


def test_cli_import_does_not_load_heavy_libraries() -> None:
    code = f"import audioclf.cli, sys; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
