"""Runs the pytest-style hidden tests of one autograder cell inside a Jupyter kernel.

This is the stock-nbgrader path (an instructor's own run, or a course without the
hardened pipeline). Scoring matches the hardened grader: a cell's points are
split equally across its test functions. nbgrader reads a number returned by
the cell as partial credit and an error as zero, so: all pass -> nothing,
some fail -> the points earned, all fail -> AssertionError.
"""
import traceback

from autograder.messages import say


def partial_credit(points: float, passed: int, total: int) -> float:
    """A tests cell's points split equally over its hidden tests (the grader's rounding)."""
    return round(points * passed / total, 6) if total else 0.0


def run_tests(*tests, points=None):
    # The notebook's set-up cell defines LANG; the tests share the notebook's globals.
    lang = tests[0].__globals__.get("LANG", "en") if tests else "en"
    failures = []
    for test in tests:
        try:
            test()
        except Exception as exc:  # a crashing test is a failing test
            message = str(exc) or type(exc).__name__
            if not isinstance(exc, AssertionError):
                message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            failures.append(f"{test.__name__}: {message}")
            print(f"{say('fail', lang)} {test.__name__}: {message}")
        else:
            print(f"{say('ok', lang)} {test.__name__}")
    if not failures:
        return None
    passed, total = len(tests) - len(failures), len(tests)
    if passed == 0 or points is None:
        raise AssertionError(say("all_failed", lang, total=total) + "\n" + "\n".join(failures))
    earned = partial_credit(points, passed, total)
    print(say("score", lang, passed=passed, total=total, earned=earned, points=points))
    return earned
