"""`make course` gives a directory where the stock nbgrader commands run a whole class with no edits."""
import csv
import html

import nbformat
import pytest

from autograder import paths
from autograder.authoring import wrong
from autograder.grading.messages import say
from autograder.notebook_format import LANGS
from conftest import ROOT, run
from gradelib import reference_answers

pytestmark = pytest.mark.grading
# The chain needs one assignment; this one warms its compile cache in ~10 s (chapter 01's questions take ~45 s).
CHAPTER = "06_control_flow"


def test_make_course_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "keep.txt").write_text("instructor notes")
    result = run(["make", "-s", "course", f"DIR={tmp_path}", "COURSE_LANG=en"], cwd=ROOT, check=False)
    assert result.returncode != 0
    assert "not empty" in result.stderr
    assert (tmp_path / "keep.txt").read_text() == "instructor notes"


def test_make_course_rejects_an_unknown_language(tmp_path):
    result = run(["make", "-s", "course", f"DIR={tmp_path / 'c'}", "COURSE_LANG=fr"], cwd=ROOT, check=False)
    assert result.returncode != 0 and "invalid choice: 'fr'" in result.stderr
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("lang", LANGS)
def test_release_submit_collect_autograde_feedback_export(tmp_path, lang):
    slug = CHAPTER
    course = tmp_path / "course"
    run(["make", "-s", "course", f"DIR={course}", f"COURSE_LANG={lang}"], cwd=ROOT)
    assert {p.name for p in (course / "source").iterdir()} == set(paths.chapters("exercise"))

    run(["nbgrader", "generate_assignment", slug], cwd=course)
    # nbgrader's release is the committed one (Colab badge included): students of a course and
    # students who open the repository get the same notebook, and no link to the solutions.
    generated = nbformat.read(course / "release" / slug / f"{slug}.ipynb", as_version=4)
    committed = nbformat.read(ROOT / paths.release_notebook(slug, lang), as_version=4)
    assert [c.source for c in generated.cells] == [c.source for c in committed.cells]
    assert "solutions/" not in generated.cells[0].source
    run(["nbgrader", "release_assignment", slug], cwd=course)

    # The students' side: separate folders that know only the course id and the exchange.
    mistake = wrong.load(slug)[0]
    answers = reference_answers(slug, lang)
    exchange = f"--Exchange.root={course / 'exchange'}"
    course_id = f"--course=learn-jax-{lang}"
    for student, filled in (("right", answers), ("mistaken", {**answers, mistake.grade_id: mistake.code})):
        home = tmp_path / student
        home.mkdir()
        run(["nbgrader", "fetch_assignment", slug, course_id, exchange], cwd=home)
        fetched = home / slug / f"{slug}.ipynb"
        nb = nbformat.read(fetched, as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in filled:
                cell.source = filled[grade_id]
        nbformat.write(nb, fetched)
        # one login here, so each student names itself (on a JupyterHub, nbgrader takes the user's login)
        run(["nbgrader", "submit", slug, course_id, exchange, f"--student={student}"], cwd=home)

    run(["nbgrader", "collect", slug], cwd=course)
    run(["nbgrader", "autograde", slug], cwd=course)
    run(["nbgrader", "generate_feedback", slug], cwd=course)
    run(["nbgrader", "export"], cwd=course)

    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open()) if r["assignment"] == slug}
    assert set(rows) == {"right", "mistaken"}, rows
    assert float(rows["right"]["score"]) == float(rows["right"]["max_score"]) > 0
    assert float(rows["mistaken"]["score"]) < float(rows["mistaken"]["max_score"])
    feedback = {s: (course / "feedback" / s / slug / f"{slug}.html").read_text(encoding="utf-8") for s in rows}
    assert "test_" in feedback["right"]  # per-test results reach the student
    # the known mistake is named, in the course's language, to the student who made it and nobody else
    cause = html.escape(say("misconception", lang, hint=mistake.hint[lang]))
    assert cause in feedback["mistaken"], mistake.name
    assert say("misconception", lang, hint="").split("{")[0][:8] not in feedback["right"]


def test_stock_nbgrader_gives_check_my_work_nothing_and_restores_an_edited_one(tmp_path):
    """Without the hardened block, nbgrader runs the instructor's check-my-work cell: locked, no points, never raising."""
    from autograder.notebook_format import CHECK_MY_WORK_ID
    from gradelib import grade, max_points, new_course, submission

    lang, slug = "en", CHAPTER
    course = new_course(tmp_path, lang)
    config = course / "nbgrader_config.py"
    text = config.read_text(encoding="utf-8")
    start, end = text.index("from autograder.grading.exporter"), text.index("c.Execute.timeout")
    config.write_text(text[:start] + text[end:], encoding="utf-8")  # stock nbgrader: Execute in the kernel
    students = {}
    for name, edit in (("raises", "raise RuntimeError('boom')"), ("loops", "while True:\n    pass")):
        nb = submission(slug, lang, reference_answers(slug, lang))
        (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == CHECK_MY_WORK_ID]
        cell.source = edit
        students[name] = nb
    scores = grade(course, slug, students)
    assert scores == {name: max_points(slug, lang) for name in students}, scores
    assert CHECK_MY_WORK_ID not in max_points(slug, lang)
