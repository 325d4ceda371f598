"""The sandbox's view of the machine, checked in a forked child (fast, no nbgrader)."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.grading import sandbox

WORKS, WHY = sandbox.namespaces_work()
pytestmark = pytest.mark.skipif(not WORKS, reason=f"no user namespaces here: {WHY}")


def seen_from_sandbox(paths: list[str], hide: tuple[str, ...] = ()) -> dict[str, bool]:
    """Which of ``paths`` exist for a process inside the sandbox."""
    root = Path(tempfile.mkdtemp(prefix="sandbox-test-"))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            sandbox.enter(root, None, sandbox.Limits(), None, hide)
            os.write(w, "".join("1" if os.path.exists(p) else "0" for p in paths).encode())
        finally:
            os._exit(0)
    os.close(w)
    answer = os.read(r, 1024).decode()
    os.close(r)
    os.waitpid(pid, 0)
    shutil.rmtree(root, ignore_errors=True)
    assert len(answer) == len(paths), "the sandboxed child died"
    return {p: c == "1" for p, c in zip(paths, answer)}


@pytest.fixture
def course_inside_python():
    """A 'course' kept inside a directory the sandbox must read (this Python's prefix)."""
    folder = Path(tempfile.mkdtemp(prefix="course-", dir=sys.prefix))
    (folder / "gradebook.db").write_text("secret")
    (folder / "inner").mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_course_inside_a_visible_directory_is_readable_unless_hidden(course_inside_python):
    secret = str(course_inside_python / "gradebook.db")
    python = os.path.realpath(sys.executable)
    assert seen_from_sandbox([secret, python]) == {secret: True, python: True}  # what hiding is for
    assert seen_from_sandbox([secret, python], hide=(str(course_inside_python),)) == {secret: False, python: True}


def test_hiding_a_course_that_holds_the_python_keeps_the_python(tmp_path, monkeypatch):
    # /outer is read by the sandbox; the course inside it holds the grader's Python (a venv)
    outer = tmp_path / "outer"
    venv = outer / "course" / "venv"
    venv.mkdir(parents=True)
    (venv / "python").write_text("interpreter")
    (outer / "course" / "gradebook.db").write_text("secret")
    monkeypatch.setattr(sandbox, "visible_paths", lambda: [str(outer), str(venv)])
    python, secret = str(venv / "python"), str(outer / "course" / "gradebook.db")
    got = seen_from_sandbox([python, secret], hide=(str(outer / "course"),))
    assert got == {python: True, secret: False}


def test_the_sandbox_environment_holds_nothing_of_the_graders(monkeypatch):
    monkeypatch.setenv("GRADER_TOKEN", "secret")
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_enable_fast_math=false")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "/somewhere/of/the/graders")
    env = sandbox.environment()
    assert "GRADER_TOKEN" not in env and "JAX_COMPILATION_CACHE_DIR" not in env
    assert env["XLA_FLAGS"] == "--xla_cpu_enable_fast_math=false"
