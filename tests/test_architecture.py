"""The layout rules that import-linter cannot express (docs/design.md, "Layers").

import-linter (``lint-imports`` in ``make test``, contracts in pyproject.toml) checks the
layers and that no package has an import cycle. These tests check the rest: no private
name crosses a top-level part, commands live in ``audioclf.cli``, an import inside a
function says why it is there, and the server starts without the training libraries.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import audioclf

ROOT = Path(audioclf.__file__).parent
DEFERRED = "# deferred:"


def _modules() -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path, ast.parse(path.read_text(encoding="utf-8"))


def _imported_module(node: ast.ImportFrom, module: str, path: Path) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_private_name_is_imported_from_another_part() -> None:
    crossing = []
    for module, path, tree in _modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            source = _imported_module(node, module, path)
            if not source.startswith("audioclf") or _part(source) == _part(module):
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    crossing.append(f"{module} imports {source}.{alias.name}")
    assert not crossing, crossing


def test_commands_live_in_the_cli_package() -> None:
    flat = sorted(p.name for p in ROOT.glob("cli*.py"))
    assert not flat, f"command modules at the package root: {flat}; they belong in cli/"


def _function_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield inner


def _names_audioclf(node: ast.Import | ast.ImportFrom, module: str, path: Path) -> bool:
    if isinstance(node, ast.Import):
        return any(alias.name.startswith("audioclf") for alias in node.names)
    return _imported_module(node, module, path).startswith("audioclf")


def _has_reason(lines: list[str], node: ast.stmt) -> bool:
    """A ``# deferred: why`` comment on the import or above it (one comment may head a
    block of consecutive imports)."""
    first = node.lineno - 1
    end = node.end_lineno or node.lineno
    if any(DEFERRED in line for line in lines[first:end]):
        return True
    i = first - 1
    while i >= 0:
        text = lines[i].strip()
        if DEFERRED in text:
            return True
        if not (text.startswith(("from ", "import ", ")")) or text.endswith((",", "("))):
            return False
        i -= 1
    return False


def test_every_import_inside_a_function_says_why() -> None:
    """Imports of audioclf inside a function are for deferring a heavy or optional
    dependency (torch for a command that does not need it, the openSMILE extra), never
    for dodging a cycle; each carries a ``# deferred:`` comment naming what it defers."""
    unexplained = []
    for module, path, tree in _modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in _function_imports(tree):
            if _names_audioclf(node, module, path) and not _has_reason(lines, node):
                unexplained.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    assert not unexplained, f"function-level imports without '{DEFERRED} why': {unexplained}"


def test_the_server_starts_without_the_training_libraries() -> None:
    """The API and the predictor import neither torch nor scikit-learn until a model
    needs them (an ONNX run needs neither)."""
    code = (
        "import sys, audioclf.service.app, audioclf.inference.predictor; "
        "print(sorted(m for m in ('torch', 'sklearn', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
