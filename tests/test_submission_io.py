"""Reading whatever file a student submits, and writing a result back into the notebook."""
import json

import nbformat
import pytest

from autograder.grading.exporter import read_submission
from autograder.grading.plan import instructor_from_notebook, make_plan
from autograder.grading.results import apply_result
from grading_fixtures import instructor_notebook, student_notebook

INSTRUCTOR = instructor_from_notebook(instructor_notebook())
KNOWN = INSTRUCTOR.grade_ids


@pytest.mark.parametrize("data,problem", [
    (b"", "empty file"), (b"\xff\xfe\x00binary", "not text"), (b"{not json", "invalid JSON"),
    (b"[1, 2]", "JSON but not a notebook"), (b'{"cells": 3}', "no list of cells"),
])
def test_unreadable_files_become_an_empty_notebook_with_the_reason(tmp_path, data, problem):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(data)
    nb, why = read_submission(str(path), KNOWN)
    assert problem in why and nb.cells == [] and nb.metadata["autograder"]["problem"] == why
    nbformat.validate(nb)


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path):
    nb, why = read_submission(str(tmp_path / "absent.ipynb"), KNOWN)
    assert why.startswith("cannot read the file") and nb.cells == []


def test_cells_keep_their_code_and_only_trusted_metadata(tmp_path):
    nb = json.loads(nbformat.writes(student_notebook()))
    nb["cells"][2]["metadata"]["nbgrader"].update(points=True, grade="yes", extra={"x": 1}, schema_version=1)
    nb["cells"][2]["source"] = ["def double(x):\n", "    return 2 * x\n"]
    nb["cells"].append({"cell_type": "code", "source": "x = 1", "metadata": {"nbgrader": {"grade_id": "invented"}}})
    nb["cells"].append({"cell_type": "code", "source": "y = 2",
                        "metadata": {"nbgrader": {"grade_id": "double", "solution": True}}})
    nb["cells"].append({"cell_type": "weird", "source": "z"})
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    got, why = read_submission(str(path), KNOWN)
    assert why is None
    answer = got.cells[2]
    assert answer.source == "def double(x):\n    return 2 * x\n"
    # points=True, grade="yes" and an unknown key are dropped; the schema is normalised
    assert set(answer.metadata["nbgrader"]) == {"grade_id", "solution", "locked", "schema_version"}
    assert answer.metadata["nbgrader"]["schema_version"] == 3 and answer.metadata["nbgrader"]["solution"] is True
    assert "nbgrader" not in got.cells[4].metadata  # an invented grade_id is student code
    assert "nbgrader" not in got.cells[5].metadata  # a second "double" too
    assert len(got.cells) == 6  # the cell of an unknown type is gone
    nbformat.validate(got)


def test_an_nbformat_3_notebook_is_converted(tmp_path):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
          "worksheets": [{"cells": [{"cell_type": "code", "input": "print(1)", "outputs": [], "language": "python"}]}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    nb, why = read_submission(str(path), KNOWN)
    assert why is None and nb.metadata["autograder"] == {"converted": "nbformat 3"}
    assert [c.source for c in nb.cells] == ["print(1)"]


def result(passed: dict, visible_error=None, crashes=()):
    tests = {"test_double": {"results": {n: [ok, f"safe {n}", f"full {n}"] for n, ok in passed.items()},
                             "visible": {"stdout": "checked\n", "stderr": "",
                                         "error": visible_error}}}
    return {"steps": {"1": {"stdout": "hi\n", "stderr": "", "result": None, "error": None}}, "tests": tests,
            "scores": {}, "crashes": list(crashes), "notes": []}


def written(res, detail="safe", notebook=None, not_isolated=None):
    nb = notebook or student_notebook()
    apply_result(nb, make_plan(nb, INSTRUCTOR), INSTRUCTOR, res, None, not_isolated, detail)
    nbformat.validate(nb)
    return nb


def test_partial_credit_is_the_value_nbgrader_reads():
    nb = written(result({"test_small": True, "test_negative": False}))
    tests = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double")
    report = tests.outputs[0].text
    assert report.startswith("checked\n") and "ok   test_small" in report and "FAIL test_negative: safe" in report
    assert "1 of 2 hidden tests passed: 1 of 2 points" in report
    assert tests.outputs[1].output_type == "execute_result" and tests.outputs[1].data["text/plain"] == "1.0"
    assert nb.cells[2].outputs[0].text == "hi\n"  # the answer cell's own output


def test_all_failed_is_an_error_and_full_detail_shows_the_full_text():
    nb = written(result({"test_small": False, "test_negative": False}), detail="full")
    tests = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double")
    assert "full test_small" in tests.outputs[0].text and "safe test_small" not in tests.outputs[0].text
    assert tests.outputs[-1].output_type == "error"


def test_full_marks_leave_no_value_and_untested_names_fail():
    nb = written(result({"test_small": True, "test_negative": True}))
    tests = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double")
    assert [o.output_type for o in tests.outputs] == ["stream"]
    nb = written(result({"test_small": True}))  # a test with no verdict (budget spent) fails
    tests = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double")
    assert "FAIL test_negative" in tests.outputs[0].text


def test_a_deleted_tests_cell_is_restored_and_notes_come_first():
    nb = student_notebook()
    del nb.cells[3]
    nb = written(result({"test_small": True, "test_negative": True}, crashes=[["safe crash", "full crash"]]),
                 notebook=nb, not_isolated="no namespaces")
    assert nb.cells[-1].metadata["nbgrader"]["grade_id"] == "test_double"
    assert nb.cells[0].id == "autograder-notes"
    assert "safe crash" in nb.cells[0].source and "full crash" not in nb.cells[0].source
    assert "WITHOUT a sandbox (no namespaces)" in nb.cells[0].source


def test_a_failed_self_check_is_reported_but_decides_nothing():
    nb = written(result({"test_small": True, "test_negative": True}, visible_error=["AssertionError", "boom", "tb"]))
    tests = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double")
    assert "visible self-check failed: AssertionError: boom" in tests.outputs[0].text
    assert [o.output_type for o in tests.outputs] == ["stream"]
