"""`c.SandboxedExecute.feedback = "full"`: failures show values, rewritten assertions and messages.

The default ("safe") is covered by the adversarial suite's feedback cases; this is the
other setting, graded by one real `nbgrader autograde` of chapter 01.
"""
from __future__ import annotations

import json

import pytest

from autograder.authoring import wrong
from gradelib import grade, new_course, reference_answers, submission

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("feedback-full")]

SLUG, LANG = "01_jax_numpy", "en"
RAISES = '''
def replace_row(x, i, row):
    raise ValueError("inputs: " + repr(int(i)))
'''
WRONG_SHAPE = '''
def replace_row(x, i, row):
    return jnp.zeros((1, 1))
'''


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    course = new_course(tmp_path_factory.mktemp("feedback-full"), LANG, warm=SLUG)
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as f:
        f.write('\nc.SandboxedExecute.feedback = "full"\nc.SandboxedExecute.isolation = "required"\n')
    ref = reference_answers(SLUG, LANG)
    partial = {a.name: a for a in wrong.load(SLUG)}["arange_mask_ignores_negative_index"].code
    students = {"raises": {**ref, "replace_row": RAISES}, "wrong-shape": {**ref, "replace_row": WRONG_SHAPE},
                "partial": {**ref, "replace_row": partial}}
    scores = grade(course, SLUG, {s: submission(SLUG, LANG, a) for s, a in students.items()})

    def outputs(student):
        nb = json.loads((course / "autograded" / student / SLUG / f"{SLUG}.ipynb").read_text(encoding="utf-8"))
        return "\n".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))

    return scores, outputs


def test_full_feedback_shows_the_students_exception_message(full):
    _, outputs = full
    assert "replace_row raised ValueError: inputs: 3" in outputs("raises")


def test_full_feedback_shows_rewritten_assertions(full):
    _, outputs = full
    text = outputs("wrong-shape")
    assert "the result must have the shape of x" in text      # the author's message...
    assert "assert (1, 1) == (5, 7)" in text                  # ...and pytest's explanation of the assert


def test_full_feedback_shows_numpy_testing_values(full):
    _, outputs = full
    assert "Mismatched elements" in outputs("partial")


def test_the_setting_changes_no_score(full):
    scores, _ = full
    assert scores["raises"]["test_replace_row"] == 0
    # arange_mask_ignores_negative_index fails 2 of the 4 hidden tests, as in the adversarial suite
    assert scores["partial"]["test_replace_row"] == pytest.approx(2 * 2 / 4, abs=1e-5)
