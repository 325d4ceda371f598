"""Hidden tests behave as pytest users expect: parametrize, fixtures, raises, approx, rewritten asserts."""
from __future__ import annotations

import pytest

from autograder.grading import grader, plan, testcell

HIDDEN = '''
import pytest


@pytest.fixture
def offset():
    return 10


@pytest.fixture
def shifted(offset):
    log.append("setup")
    yield offset + 1
    log.append("teardown")


@pytest.mark.parametrize("x, want", [(1, 2), (2, 4), (3, 7)])
def test_double(x, want):
    assert double(x) == want


@pytest.mark.parametrize("n", [0, 1], ids=["zero", "one"])
@pytest.mark.parametrize("m", [5])
def test_grid(n, m, shifted):
    assert shifted == 11 and m == 5 and n in (0, 1)


def test_raises_and_approx():
    with pytest.raises(ValueError):
        double("boom")
    assert double(0.1) == pytest.approx(0.2)
'''


def cell() -> plan.TestsCell:
    return plan.TestsCell.parse("t", 3.0, "", HIDDEN, None)


def test_each_parametrization_is_a_case():
    assert cell().test_names == ("test_double[1-2]", "test_double[2-4]", "test_double[3-7]",
                                 "test_grid[zero-5]", "test_grid[one-5]", "test_raises_and_approx")
    assert cell().test_functions == ("test_double", "test_grid", "test_raises_and_approx")


def run(student):
    """The trusted grader's loop with ``double`` answered in-process by ``student``."""
    results, log = {}, []

    def call(name, args, kwargs):
        try:
            return student(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 -- as the sandbox reports it: a type name and a message
            raise grader.StudentError.of(name, type(exc).__name__, str(exc)) from None

    hidden = plan.TestsCell(**{**cell().__dict__, "hidden": "log = []\n" + cell().hidden})
    grader.run_hidden_tests(hidden, "en", ["double"], call, set(),
                            lambda n, ok, safe, full, kind: results.__setitem__(n, (ok, safe, full)))
    return results, log


def test_a_wrong_answer_fails_exactly_its_cases():
    results, _ = run(lambda x: 2 * x if not isinstance(x, str) else int(x))
    assert sorted(n for n, (ok, _, _) in results.items() if not ok) == ["test_double[3-7]"]
    safe, full = results["test_double[3-7]"][1:]
    assert "assert 6 == 7" in full          # pytest's rewritten assertion
    assert "6" not in safe                  # the safe text has no value


def test_pytest_raises_sees_the_students_exception_type():
    assert run(lambda x: 2 * x if not isinstance(x, str) else int(x))[0]["test_raises_and_approx"][0]
    did_not_raise = run(lambda x: 2 * x)[0]["test_raises_and_approx"]       # "boom" * 2 raises nothing
    assert not did_not_raise[0] and "DID NOT RAISE" in did_not_raise[2]
    assert did_not_raise[1] == "the result is not what this test expects"
    wrong_type = run(lambda x: 2 * x if not isinstance(x, str) else x + 1)[0]["test_raises_and_approx"]
    assert not wrong_type[0] and "TypeError" in wrong_type[1]                # str + int: TypeError, not ValueError


def test_partial_credit_counts_cases():
    assert testcell.partial_credit(3.0, 4, len(cell().test_names)) == 2.0


def test_the_in_kernel_runner_collects_the_same_cases(capsys):
    namespace = {"LANG": "en", "double": lambda x: 2 * x if not isinstance(x, str) else int(x)}
    exec(compile("log = []\n" + HIDDEN, "<cell>", "exec"), namespace)
    earned = testcell.run_tests(namespace["test_double"], namespace["test_grid"],
                                namespace["test_raises_and_approx"], points=3.0)
    out = capsys.readouterr().out
    assert "FAIL test_double[3-7]" in out and "ok   test_grid[one-5]" in out
    assert earned == testcell.partial_credit(3.0, 5, 6)
    assert namespace["log"] == ["setup", "teardown"] * 2      # a yield fixture is torn down after each case


def in_kernel_test():
    value = 1 + 1
    assert value == 3


def test_the_in_kernel_runner_rewrites_assertions():
    with pytest.raises(AssertionError, match=r"assert 2 == 3"):
        testcell.rewritten(in_kernel_test)()


def test_a_hidden_block_that_breaks_while_set_up_fails_its_tests_not_the_batch():
    broken = plan.TestsCell(**{**cell().__dict__, "hidden": "import no_such_module_here\n" + cell().hidden})
    results = {}
    grader.run_hidden_tests(broken, "en", ["double"], lambda *a: None, {"test_grid[zero-5]"},
                            lambda n, ok, safe, full, kind: results.__setitem__(n, (ok, safe, full)))
    assert set(results) == set(cell().test_names) - {"test_grid[zero-5]"}   # decided ones are not touched
    assert not any(ok for ok, _, _ in results.values())
    assert all("ModuleNotFoundError" in full for _, _, full in results.values())
