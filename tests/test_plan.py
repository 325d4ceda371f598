"""The plan: what runs for a submission, whatever the student did to the notebook's structure."""
import copy

from autograder.grading.plan import instructor_from_notebook, make_plan, split_tests_source
from grading_fixtures import SETUP, TESTS, cell, instructor_notebook, student_notebook

INSTRUCTOR = instructor_from_notebook(instructor_notebook())


def kinds(plan):
    return [(s.kind, s.grade_id) for s in plan.steps]


def test_the_instructors_copy_is_read_into_tests_answers_and_fixed_cells():
    (tests,) = INSTRUCTOR.tests
    assert INSTRUCTOR.lang == "en" and INSTRUCTOR.answers == ["double"] and INSTRUCTOR.fixed == {"setup": SETUP}
    assert tests.test_names == ("test_small", "test_negative") and tests.points == 2.0 and tests.anchor == "double"
    assert INSTRUCTOR.student_names == ["double"]
    assert "run_tests" not in tests.hidden  # the in-kernel runner line is not a hidden test


def test_split_keeps_the_visible_part_and_drops_runner_lines_old_and_new():
    visible, hidden = split_tests_source(TESTS.replace("autograder.grading.testcell", "autograder.testcell"))
    assert visible.strip() == "assert double(1) == 2"
    assert "def test_small" in hidden and "import run_tests" not in hidden and "run_tests(" not in hidden


def test_a_normal_submission_runs_setup_answer_then_tests():
    plan = make_plan(student_notebook(), INSTRUCTOR)
    assert kinds(plan) == [("fixed", "setup"), ("cell", "double"), ("tests", "test_double")]
    assert plan.notes == []


def test_a_deleted_tests_cell_still_runs_after_its_answer():
    nb = student_notebook()
    del nb.cells[3]
    nb.cells.append(cell("code", "print('extra')"))
    plan = make_plan(nb, INSTRUCTOR)
    assert kinds(plan) == [("fixed", "setup"), ("cell", "double"), ("tests", "test_double"), ("cell", None)]
    assert "tests_cell_missing" in plan.notes


def test_an_edited_setup_cell_is_replaced_by_the_instructors_and_a_missing_one_runs_first():
    nb = student_notebook()
    nb.cells[1].source = "LANG = 'zh'\nmath = None\n"
    assert make_plan(nb, INSTRUCTOR).steps[0].source == SETUP
    del nb.cells[1]
    plan = make_plan(nb, INSTRUCTOR)
    assert plan.steps[0].kind == "fixed" and plan.steps[0].cell is None and "fixed_cell_missing" in plan.notes


def test_a_copied_grade_id_is_just_student_code_and_a_text_tests_cell_is_noted():
    nb = student_notebook()
    nb.cells.insert(3, copy.deepcopy(nb.cells[2]))
    nb.cells[3].source = "def double(x):\n    return 0\n"
    plan = make_plan(nb, INSTRUCTOR)
    assert [s.grade_id for s in plan.steps if s.kind == "cell"] == ["double", None]
    nb = student_notebook()
    nb.cells[3].cell_type = "markdown"
    assert "tests_cell_not_code" in make_plan(nb, INSTRUCTOR).notes


def test_a_notebook_that_is_not_one_gives_an_empty_plan_with_every_test():
    for broken in ({}, {"cells": "x"}, {"cells": [1, None, {"cell_type": "markdown", "source": 3}]}):
        plan = make_plan(broken, INSTRUCTOR)
        assert kinds(plan) == [("fixed", "setup"), ("tests", "test_double")]
        assert {"tests_cell_missing", "fixed_cell_missing"} <= set(plan.notes)


def test_the_fingerprint_follows_the_students_code_and_the_limits():
    a = make_plan(student_notebook(), INSTRUCTOR).fingerprint(INSTRUCTOR, {"step_seconds": 60})
    assert a == make_plan(student_notebook(), INSTRUCTOR).fingerprint(INSTRUCTOR, {"step_seconds": 60})
    assert a != make_plan(student_notebook("def double(x):\n    return x + x\n"),
                          INSTRUCTOR).fingerprint(INSTRUCTOR, {"step_seconds": 60})
    assert a != make_plan(student_notebook(), INSTRUCTOR).fingerprint(INSTRUCTOR, {"step_seconds": 30})


def test_the_check_my_work_cell_is_left_out_whatever_the_submission_made_of_it():
    from autograder.notebook_format import CHECK_MY_WORK_ID

    instructor_nb = instructor_notebook()
    instructor_nb.cells.append(cell("code", "print('summary')", CHECK_MY_WORK_ID, locked=True))
    instructor = instructor_from_notebook(instructor_nb)
    assert instructor.skipped == {CHECK_MY_WORK_ID} and CHECK_MY_WORK_ID not in instructor.fixed
    nb = student_notebook()
    nb.cells.append(cell("code", "while True:\n    pass", CHECK_MY_WORK_ID, locked=True))
    assert kinds(make_plan(nb, instructor)) == [("fixed", "setup"), ("cell", "double"), ("tests", "test_double")]
    del nb.cells[-1]  # deleted: nothing is missing either
    plan = make_plan(nb, instructor)
    assert kinds(plan) == [("fixed", "setup"), ("cell", "double"), ("tests", "test_double")] and plan.notes == []
    nb.cells.append(cell("code", "x = 1", CHECK_MY_WORK_ID))
    nb.cells.append(cell("code", "y = 2", CHECK_MY_WORK_ID))  # a second cell with that id is the student's own code
    assert kinds(make_plan(nb, instructor))[-1] == ("cell", None)
