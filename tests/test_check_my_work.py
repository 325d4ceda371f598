"""An exercise's last cell, "check my work": it reruns every self-check and sums up, in the notebook's language.

Run here in-process, cell by cell in a fresh namespace, as a kernel would: the instructor's notebook (every task
passes), the student release with the reference answers and without the ``autograder`` package (as in Colab), the
blank release (nothing written yet), and known-wrong answers (the summary names the failing task). The grader's
side, that the cell earns nothing and cannot change a score, is in tests/test_grading.py.
"""
import contextlib
import io
import re
import sys

import nbformat
import pytest

from autograder import paths
from autograder.authoring import wrong
from autograder.authoring.source import CHECK_MY_WORK, read_source, self_checks
from autograder.notebook_format import CHECK_MY_WORK_ID, LANGS
from gradelib import reference_answers, submission

SLUG = "01_jax_numpy"
TASKS = [task for task, _ in self_checks(read_source(paths.source_path(SLUG, "exercise")))]


def run_cells(nb) -> str:
    """Execute every code cell top to bottom in one fresh namespace; the output of the check-my-work cell."""
    namespace = {"__name__": "__main__"}
    out = ""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            try:
                exec(compile(cell.source, "<cell>", "exec"), namespace)
            except Exception:  # a failing self-check cell is what a student sees; go on, like Run All (raises-exception)
                if cell.metadata["nbgrader"].get("grade_id") == CHECK_MY_WORK_ID:
                    raise
        if cell.metadata["nbgrader"].get("grade_id") == CHECK_MY_WORK_ID:
            out = buffer.getvalue()
    return out


def lines_of(summary: str) -> dict[str, str]:
    """task -> its line of the summary."""
    return {m.group(2): m.group(0) for m in re.finditer(r"^  ([✓✗]) (\w+): .*$", summary, re.M)}


def summary_line(lang: str, passed: int, total: int) -> str:
    return CHECK_MY_WORK[lang]["summary"].format(passed=passed, total=total)


@pytest.mark.parametrize("lang", LANGS)
def test_every_exercise_ends_with_the_check_my_work_cell(lang):
    for slug in paths.chapters("exercise"):
        for rel in (paths.instructor_notebook(slug, lang), paths.release_notebook(slug, lang)):
            nb = nbformat.read(paths.ROOT / rel, as_version=4)
            last = nb.cells[-1]
            meta = last.metadata["nbgrader"]
            assert last.cell_type == "code" and meta["grade_id"] == CHECK_MY_WORK_ID, rel
            assert meta["locked"] and not meta["grade"] and not meta["solution"] and "points" not in meta, rel
            assert "autograder" not in last.source and "HIDDEN" not in last.source, rel
            tasks = [task for task, _ in self_checks(read_source(paths.source_path(slug, "exercise")))]
            assert all(repr(task) in last.source for task in tasks), rel


@pytest.mark.parametrize("lang", LANGS)
def test_the_instructors_notebook_run_top_to_bottom_passes_every_task(lang):
    nb = nbformat.read(paths.ROOT / paths.instructor_notebook(SLUG, lang), as_version=4)
    summary = run_cells(nb)
    assert summary.splitlines()[0] == summary_line(lang, len(TASKS), len(TASKS)), summary
    assert list(lines_of(summary)) == TASKS
    assert all("✓" in line for line in lines_of(summary).values()), summary
    assert CHECK_MY_WORK[lang]["reminder"] in summary  # hidden tests decide the grade


@pytest.mark.parametrize("lang", LANGS)
def test_the_release_needs_nothing_but_what_colab_has(lang, monkeypatch):
    """The student's copy with the reference answers, with no ``autograder`` package to import."""
    nb = submission(SLUG, lang, reference_answers(SLUG, lang))
    monkeypatch.setitem(sys.modules, "autograder", None)  # `import autograder...` now fails, as in Colab
    summary = run_cells(nb)
    assert summary.splitlines()[0] == summary_line(lang, len(TASKS), len(TASKS)), summary


@pytest.mark.parametrize("lang", LANGS)
def test_run_all_goes_on_past_answers_and_self_checks_that_raise(lang):
    """Their cells carry raises-exception (JupyterLab's Run All then reaches check my work); no other cell does."""
    for slug in paths.chapters("exercise"):
        for path in (paths.release_notebook(slug, lang), paths.instructor_notebook(slug, lang)):
            for cell in nbformat.read(paths.ROOT / path, as_version=4).cells:
                meta = cell.metadata.get("nbgrader", {})
                tagged = "raises-exception" in cell.metadata.get("tags", [])
                assert tagged == bool(meta.get("solution") or meta.get("grade")), (path, meta.get("grade_id"))
    for slug in paths.chapters("lesson"):
        lesson = nbformat.read(paths.ROOT / paths.lesson_notebook(slug, lang), as_version=4)
        assert not any("raises-exception" in c.metadata.get("tags", []) for c in lesson.cells), slug


@pytest.mark.parametrize("lang", LANGS)
def test_a_blank_release_says_nothing_is_written_yet(lang):
    summary = run_cells(submission(SLUG, lang, {}))
    assert summary.splitlines()[0] == summary_line(lang, 0, len(TASKS)), summary
    todo = CHECK_MY_WORK[lang]["todo"]
    assert all(line.endswith(todo) for line in lines_of(summary).values()), summary


@pytest.mark.parametrize("lang", LANGS)
def test_a_known_wrong_answer_is_named_with_the_first_line_of_its_message(lang):
    caught = 0
    for answer in wrong.load(SLUG):
        nb = submission(SLUG, lang, {**reference_answers(SLUG, lang), answer.grade_id: answer.code})
        summary = run_cells(nb)
        lines = lines_of(summary)
        assert list(lines) == TASKS, summary
        others = [line for task, line in lines.items() if task != answer.grade_id]
        assert all("✓" in line for line in others), f"{answer.name}: only its own task may fail\n{summary}"
        if "✗" in lines[answer.grade_id]:
            caught += 1
            why = lines[answer.grade_id].split(": ", 1)[1]
            assert why and "\n" not in why and "Traceback" not in why, summary
            assert summary.splitlines()[0] == summary_line(lang, len(TASKS) - 1, len(TASKS)), summary
    assert caught, "some known-wrong answer of the chapter fails its visible self-check"


def test_a_failing_check_reports_its_exception_type_and_never_raises():
    answers = {**reference_answers(SLUG, "en"), "replace_row": "def replace_row(x, i, row):\n    return 1 / 0\n"}
    summary = run_cells(submission(SLUG, "en", answers))
    assert lines_of(summary)["replace_row"] == "  ✗ replace_row: ZeroDivisionError: division by zero", summary
    answers["replace_row"] = "def replace_row(x, i, row):\n    return x\n"  # wrong: the visible assertion's message
    summary = run_cells(submission(SLUG, "en", answers))
    assert lines_of(summary)["replace_row"] == "  ✗ replace_row: row 1 should be [0, 1, 2, 3]", summary
