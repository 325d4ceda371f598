"""The rule that names a known mistake: an exact match of a task's failures, never a guess."""
import json

from autograder.grading import misconceptions
from autograder.grading.misconceptions import CRASHED, Table
from autograder.grading.plan import instructor_from_notebook, make_plan
from autograder.grading.results import apply_result
from grading_fixtures import instructor_notebook, student_notebook

INSTRUCTOR = instructor_from_notebook(instructor_notebook())
ASSERTED = misconceptions.asserted(7)
NEG = misconceptions.student_raised("TypeError", 9)
TABLE = {"format": misconceptions.FORMAT, "lang": "en", "tasks": {"test_double": [
    {"name": "triple", "signature": [["test_negative", ASSERTED], ["test_small", ASSERTED]], "hint": "Two, not three."},
    {"name": "sign", "signature": [["test_negative", ASSERTED]], "hint": "Mind the sign."},
    {"name": "typed", "signature": [["test_negative", NEG]], "hint": "Negative numbers raise."},
]}}


def record(**outcomes):
    """test name -> kind of failure ('' passes)."""
    return {"results": {n: [not kind, "safe", "full", kind] for n, kind in outcomes.items()}, "visible": None}


def test_an_exact_match_names_its_mistake():
    table = Table.from_json(TABLE)
    assert table.match("test_double", record(test_small=ASSERTED, test_negative=ASSERTED)).name == "triple"
    assert table.match("test_double", record(test_small="", test_negative=ASSERTED)).name == "sign"


def test_the_way_a_test_fails_is_part_of_the_signature():
    table = Table.from_json(TABLE)
    assert table.match("test_double", record(test_small="", test_negative=NEG)).name == "typed"
    other = misconceptions.student_raised("NameError", 9)  # a typo is not the known mistake
    assert table.match("test_double", record(test_small="", test_negative=other)) is None
    elsewhere = misconceptions.asserted(8)  # another check of the same test
    assert table.match("test_double", record(test_small="", test_negative=elsewhere)) is None


def test_no_hint_for_a_pass_a_partial_match_a_crash_or_another_task():
    table = Table.from_json(TABLE)
    assert table.match("test_double", record(test_small="", test_negative="")) is None
    assert table.match("test_double", record(test_small=ASSERTED, test_negative="")) is None  # subset of triple
    assert table.match("test_double", record(test_small=CRASHED, test_negative=ASSERTED)) is None
    assert table.match("test_other", record(test_small=ASSERTED, test_negative=ASSERTED)) is None


def test_one_signature_with_two_hints_names_neither():
    data = json.loads(json.dumps(TABLE))
    data["tasks"]["test_double"].append({"name": "sign2", "signature": [["test_negative", ASSERTED]], "hint": "Other."})
    assert Table.from_json(data).match("test_double", record(test_small="", test_negative=ASSERTED)) is None


def test_a_missing_or_broken_table_grades_without_hints(tmp_path):
    assert Table().match("test_double", record(test_small=ASSERTED, test_negative=ASSERTED)) is None
    assert misconceptions.load(tmp_path, "a1").by_task == {}
    (tmp_path / misconceptions.FOLDER).mkdir()
    misconceptions.path(tmp_path, "a1").write_text('{"format": 99}')
    assert misconceptions.load(tmp_path, "a1").by_task == {}
    misconceptions.path(tmp_path, "a1").write_text(json.dumps(TABLE))
    assert misconceptions.load(tmp_path, "a1").match(
        "test_double", record(test_small="", test_negative=ASSERTED)).hint == "Mind the sign."


def test_the_hint_and_each_outcome_reach_the_notebook():
    nb = student_notebook("def double(x):\n    return 2 * abs(x)\n")
    result = {"steps": {}, "scores": {"test_double": 1.0}, "crashes": [], "notes": [],
              "tests": {"test_double": record(test_small="", test_negative=ASSERTED)}}
    apply_result(nb, make_plan(nb, INSTRUCTOR), INSTRUCTOR, result, None, None, "safe", Table.from_json(TABLE))
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double")
    assert cell.metadata["autograder"] == {"tests": {"test_small": True, "test_negative": False},
                                           "misconception": {"name": "sign", "hint": "Mind the sign."}}
    assert "Likely cause" in cell.outputs[0]["text"] and "Mind the sign." in cell.outputs[0]["text"]


def test_without_a_match_the_notebook_says_nothing_about_a_cause():
    nb = student_notebook("def double(x):\n    return x\n")
    result = {"steps": {}, "scores": {"test_double": 0.0}, "crashes": [], "notes": [],
              "tests": {"test_double": record(test_small=CRASHED, test_negative=ASSERTED)}}
    apply_result(nb, make_plan(nb, INSTRUCTOR), INSTRUCTOR, result, None, None, "safe", Table.from_json(TABLE))
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double")
    assert "misconception" not in cell.metadata["autograder"]
    assert "Likely cause" not in cell.outputs[0]["text"]
