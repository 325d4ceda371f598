"""The notebook format both halves share: languages, cell markers, the in-kernel runner line.

Authoring writes these markers and lines into notebooks; grading reads them back.
Nothing else crosses between ``autograder.authoring`` and ``autograder.grading``.
"""
from __future__ import annotations

import ast

LANGS = ("en", "zh")

SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

# The grade_id of an exercise's last code cell, "check my work": it reruns every self-check and prints a
# summary. Locked and worth nothing; the hardened grader skips it (stock nbgrader runs the instructor's copy).
CHECK_MY_WORK_ID = "check_my_work"

# The end of a hidden block in a generated notebook: run the block's tests in the kernel, so a
# student (or papermill) running the instructor's notebook sees the same report the grader writes.
RUNNER_IMPORT = "from autograder.grading.testcell import run_tests"
RUNNER_CALL = "run_tests("


def runner_lines(test_names: list[str], points) -> str:
    return f"{RUNNER_IMPORT}\n{RUNNER_CALL}{', '.join(test_names)}, points={points!r})\n"


def is_runner_line(line: str) -> bool:
    """A runner line of this version or of an earlier one (``autograder.testcell``)."""
    return line.startswith((RUNNER_CALL, "from autograder.testcell import", RUNNER_IMPORT))


def defined_names(source: str) -> set[str]:
    """Top-level names a cell defines: what hidden tests may call as the student's."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names
