"""What a failed hidden test may tell a student (``autograder.grading.feedback``), in-process and fast."""
from __future__ import annotations

import ast

import pytest

from autograder.grading import feedback
from autograder.grading.grader import StudentError, compile_hidden, failure_texts
from autograder.grading import plan

HIDDEN = '''
import numpy as np


def test_literal():
    out = 2
    assert out == 3, "out should be 3"


def test_bilingual_fstring():
    out = (1, 1)
    assert out == (5, 7), {"en": f"shape {out}, expected (5, 7)", "zh": f"形状为 {out}，应为 (5, 7)"}[LANG]


def test_numpy_err_msg():
    np.testing.assert_allclose(np.arange(3.0), np.zeros(3),
                               err_msg={"en": "values differ", "zh": "数值不一致"}[LANG])


def test_computed_message():
    out = [4, 5]
    assert not out, repr(out)


def test_no_message():
    assert 1 + 1 == 3


def test_crash():
    return {}["missing"]
'''


def cell() -> plan.TestsCell:
    return plan.TestsCell.parse("t", 1.0, "", HIDDEN, None)


def texts(name: str, lang: str = "en") -> tuple[str, str]:
    namespace = {"LANG": lang}
    exec(compile_hidden(cell()), namespace)
    with pytest.raises(Exception) as info:
        namespace[name]()
    return failure_texts(info.value, cell(), lang)[:2]


def test_literal_messages_are_kept():
    assert texts("test_literal")[0] == "out should be 3"


def test_how_a_test_failed_names_the_line_of_the_hidden_block():
    """The kind is part of a misconception's signature: an assertion, or a type of exception, at one line."""
    namespace = {"LANG": "en"}
    exec(compile_hidden(cell()), namespace)
    kinds = {}
    for name in ("test_literal", "test_numpy_err_msg"):
        with pytest.raises(Exception) as info:
            namespace[name]()
        kinds[name] = failure_texts(info.value, cell(), "en")[2]
    lines = HIDDEN.splitlines()
    for name, kind in kinds.items():
        start = next(i for i, line in enumerate(lines, 1) if line.startswith(f"def {name}("))
        assert kind.startswith("assert@") and int(kind.split("@")[1]) > start, kind
    assert len(set(kinds.values())) == 2


def test_fstring_values_are_left_out_of_the_safe_text():
    safe, full = texts("test_bilingual_fstring")
    assert safe == "shape …, expected (5, 7)"
    assert "shape (1, 1), expected (5, 7)" in full
    assert texts("test_bilingual_fstring", "zh")[0] == "形状为 …，应为 (5, 7)"


def test_numpy_testing_keeps_err_msg_and_drops_the_arrays():
    safe, full = texts("test_numpy_err_msg")
    assert safe == "values differ"
    assert "Mismatched elements" in full and "Mismatched" not in safe


def test_a_computed_message_falls_back_to_a_generic_line():
    safe, full = texts("test_computed_message")
    assert "4" not in safe and "[4, 5]" in full


def test_full_text_has_pytest_rewritten_assertions():
    safe, full = texts("test_no_message")
    assert "assert (1 + 1) == 3" in full or "assert 2 == 3" in full, full
    assert "2" not in safe


def test_a_crashing_test_shows_its_type_only():
    safe, full = texts("test_crash")
    assert "KeyError" in safe and "missing" not in safe and "missing" in full


def test_student_exceptions_show_known_types_only():
    known = StudentError("f", "ValueError", "x = [1, 2, 3]")
    safe, full, kind = failure_texts(known, cell(), "en")
    assert safe == "f raised ValueError" and "x = [1, 2, 3]" in full and kind == "student:ValueError"
    own = StudentError("f", "Leak_42", "")
    assert "42" not in failure_texts(own, cell(), "en")[0]
    assert "42" not in failure_texts(own, cell(), "en")[2]  # the kind (part of a signature) carries no student data
    assert feedback.exception_type("TracerBoolConversionError", "en") == "TracerBoolConversionError"


@pytest.mark.parametrize("src,want", [
    ('"plain"', "plain"),
    ('f"a {x} b"', "a … b"),
    ('{"en": "yes", "zh": "是"}[LANG]', "yes"),
    ('"a" + f"{x}"', "a…"),
    ("repr(x)", None),
    ('{"en": repr(x)}[LANG]', None),
])
def test_render_literal(src, want):
    assert feedback.render_literal(ast.parse(src, mode="eval").body, "en") == want
