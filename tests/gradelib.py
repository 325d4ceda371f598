"""Grade notebooks with the real nbgrader command line in a course made by `make course`."""
from __future__ import annotations

import dataclasses
import fcntl
import json
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder import paths
from autograder.authoring.course import make_course
from conftest import run


def solution_cells(nb) -> dict[str, int]:
    return {c.metadata["nbgrader"]["grade_id"]: i for i, c in enumerate(nb.cells)
            if c.metadata.get("nbgrader", {}).get("solution")}


def task_tests_cell(nb, solution_id: str) -> str:
    """The grade_id of the first tests cell after a solution cell: the points that task is worth."""
    start = solution_cells(nb)[solution_id]
    for cell in nb.cells[start + 1:]:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            return cell.metadata["nbgrader"]["grade_id"]
    raise AssertionError(f"no tests cell after solution {solution_id}")


def submission(slug: str, lang: str, answers: dict[str, str]):
    """The student release with some solution cells filled in (the rest left blank)."""
    nb = nbformat.read(paths.ROOT / paths.release_notebook(slug, lang), as_version=4)
    cells = solution_cells(nb)
    for grade_id, code in answers.items():
        nb.cells[cells[grade_id]].source = code
    return nb


def reference_answers(slug: str, lang: str) -> dict[str, str]:
    nb = nbformat.read(paths.ROOT / paths.instructor_notebook(slug, lang), as_version=4)
    return {gid: nb.cells[i].source for gid, i in solution_cells(nb).items()}


def grade(course: Path, slug: str, submissions: dict[str, nbformat.NotebookNode]) -> dict[str, dict[str, float]]:
    """student -> {tests cell grade_id: score}, after `nbgrader autograde`."""
    run(["nbgrader", "generate_assignment", slug, "--force"], cwd=course)
    for student, nb in submissions.items():
        folder = course / "submitted" / student / slug
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{slug}.ipynb")
    run(["nbgrader", "autograde", slug, "--force"], cwd=course)
    return read_scores(course, slug, list(submissions))


def read_scores(course: Path, slug: str, students: list[str]) -> dict[str, dict[str, float]]:
    script = (
        "import json, sys\n"
        "from nbgrader.api import Gradebook\n"
        "course, slug, students = sys.argv[1], sys.argv[2], sys.argv[3:]\n"
        "out = {}\n"
        "with Gradebook(f'sqlite:///{course}/gradebook.db') as gb:\n"
        "    for s in students:\n"
        "        sub = gb.find_submission_notebook(slug, slug, s)\n"
        "        out[s] = {g.name: g.score for g in sub.grades}\n"
        "print(json.dumps(out))\n"
    )
    proc = run([sys.executable, "-c", script, str(course), slug, *students], cwd=course)
    return json.loads(proc.stdout)


def new_course(tmp: Path, lang: str, warm: str | None = None) -> Path:
    """A fresh course; ``warm``: an assignment whose questions are already compiled (``prewarm``)."""
    course = make_course(tmp / f"course-{lang}", lang)
    if warm:
        prewarm(course, warm)
    return course


def prewarm(course: Path, slug: str) -> None:
    """Give ``course`` the compile cache its first autograde of ``slug`` would build, built once per test session.

    Warming runs the questions alone (``questions.py``); for chapter 01 that is ~45 s, and
    several test courses grade it. The first test to need it builds it under a lock, the others
    copy it. tests/test_course.py still warms for real through nbgrader.
    """
    from autograder.grading.batch import local_batch
    from autograder.grading.journal import STATE_DIR
    from autograder.grading.plan import instructor_from_notebook
    from autograder.grading.run import QUESTION_CACHE

    source = json.loads((course / "source" / slug / f"{slug}.ipynb").read_text(encoding="utf-8"))
    instructor = instructor_from_notebook(source)
    shared = paths.ROOT / "build" / "test-warm" / instructor.fingerprint
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other xdist worker waits for the first one's cache
        if not (shared / "done").exists():
            with tempfile.TemporaryDirectory() as tmp:
                batch = local_batch(tmp)
                batch.settings = dataclasses.replace(batch.settings, cache_dir=str(shared / QUESTION_CACHE))
                try:
                    batch.warm_questions(source, instructor)
                finally:
                    batch.close()
            (shared / "done").touch()
    if not (shared / QUESTION_CACHE).is_dir():
        return  # no sandbox here, so grading uses no shared cache either
    state = course / STATE_DIR
    shutil.copytree(shared / QUESTION_CACHE, state / QUESTION_CACHE)
    (state / "warmed").mkdir(parents=True, exist_ok=True)
    (state / "warmed" / instructor.fingerprint).touch()


def max_points(slug: str, lang: str) -> dict[str, float]:
    nb = nbformat.read(paths.ROOT / paths.instructor_notebook(slug, lang), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}

