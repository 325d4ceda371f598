"""The codebase's shape: grading imports nothing of authoring, and the architecture map names every module."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "autograder"
SHARED = {"autograder", "autograder.paths", "autograder.notebook_format"}


def modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def imported(path: Path) -> set[str]:
    """Every autograder module a file imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in out if m == "autograder" or m.startswith("autograder.")}


def test_the_import_graph_is_read_from_the_code():
    assert "autograder.grading.sandbox" in imported(PACKAGE / "grading" / "grader.py")


@pytest.mark.parametrize("path", modules(PACKAGE / "grading"), ids=lambda p: p.name)
def test_grading_imports_nothing_from_authoring(path):
    allowed = ("autograder.grading.", *(f"{m}." for m in SHARED - {"autograder"}))
    outside = {m for m in imported(path) if m not in SHARED | {"autograder.grading"} and not m.startswith(allowed)}
    assert not outside, f"{path.relative_to(ROOT)} imports {sorted(outside)}"


def test_grading_runs_without_the_authoring_tools():
    # What a Dask worker or a grading-only install loads: no jupytext, no papermill.
    code = ("import sys\n"
            "import autograder.grading.run, autograder.grading.preprocessor, autograder.grading.distributed\n"
            "import autograder.nbgrader_plugin\n"
            "print(sorted(m for m in ('jupytext', 'papermill', 'autograder.authoring') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize("doc", ["docs/architecture.md", "docs/architecture.zh.md"])
def test_the_architecture_map_names_every_module(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    missing = [str(p.relative_to(PACKAGE)) for p in modules(PACKAGE)
               if p.name != "__init__.py" and f"`{p.relative_to(PACKAGE)}`" not in text]
    assert not missing, f"{doc} does not map {missing}"
