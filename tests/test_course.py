"""`make course` gives a directory where the stock nbgrader commands run a whole class with no edits.

The whole chain, release to export, runs once in test_demo.py (`make demo`); here: bad input, and stock nbgrader.
"""

import pytest

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


def test_a_tilde_in_dir_means_home_as_in_any_shell(tmp_path):
    """zsh passes `DIR=~/jax-course` on unexpanded: the course goes to the home folder, not to a folder named ~."""
    from conftest import tool_env

    env = {**tool_env(), "HOME": str(tmp_path)}
    run(["make", "-s", "course", "DIR=~/jax-course", "COURSE_LANG=en"], cwd=ROOT, env=env)
    assert (tmp_path / "jax-course" / "nbgrader_config.py").exists()
    assert not (ROOT / "~").exists()
