import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# test_packaging reads environment.yml with pip's own parser, which loads the standard library's distutils; nbgrader
# imported later in the same worker pulls in setuptools, whose distutils shim then fails its own assertion.
os.environ.setdefault("SETUPTOOLS_USE_DISTUTILS", "stdlib")
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_configure(config):
    config.addinivalue_line("markers", "grading: grades real submissions (the batch, nbgrader commands); minutes")
    config.addinivalue_line("markers", "integration: runs the build tools or papermill in subprocesses")
    config.addinivalue_line("markers", "site: needs the built website (make test runs them after make site)")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns xdist_group marks into the scheduling key
def pytest_collection_modifyitems(items):
    # Under `pytest -n`, keep one chapter's grading on one worker so its course is graded once.
    for item in items:
        slug = getattr(getattr(item, "callspec", None), "params", {}).get("slug")
        if slug:
            item.add_marker(pytest.mark.xdist_group(slug))


def tool_env(extra_path: Path | None = None) -> dict:
    """Environment in which `nbgrader`, `alembic` and `jupyter` resolve to this interpreter's."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(extra_path), env.get("PYTHONPATH", "")) if p)
    return env


def run(cmd, cwd, env=None, check=True):
    proc = subprocess.run(cmd, cwd=cwd, env=env or tool_env(), capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        output = f"{proc.stdout}\n{proc.stderr}"
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                             f"{tracebacks(output)}\n--- full output ---\n{output}")
    return proc


def tracebacks(output: str, context: int = 3) -> str:
    """The tracebacks in a tool's log, first: a long log is often cut before the line that matters."""
    lines = output.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if "Traceback (most recent call last)" in line:
            end = i + 1
            while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                end += 1
            blocks.append("\n".join(lines[max(0, i - context):end + 1]))
    return "\n...\n".join(blocks) if blocks else "(no Python traceback in the output)"


@pytest.fixture
def scratch_repo(tmp_path):
    """A copy of the build tooling with only the small fixture chapter, so sync checks run in seconds."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copytree(ROOT / "autograder", repo / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    shutil.copytree(FIXTURES / "notebooks", repo / "notebooks")
    shutil.copytree(FIXTURES / "solutions", repo / "solutions")
    return repo


@pytest.fixture
def build(scratch_repo):
    """Run `python -m autograder.build ARGS` inside the scratch repository."""

    def _build(*args, check=True):
        return run([sys.executable, "-m", "autograder.build", *args], cwd=scratch_repo,
                   env=tool_env(scratch_repo), check=check)

    return _build
