"""Runs the pytest-style hidden tests of one autograder cell inside the kernel.

nbgrader scores a test cell by whether it raises, so every test function is
run, each failure is reported by name with its message, and one
AssertionError at the end fails the cell.
"""
import traceback


def run_tests(*tests):
    failures = []
    for test in tests:
        try:
            test()
        except Exception as exc:  # a crashing test is a failing test
            message = str(exc) or type(exc).__name__
            if not isinstance(exc, AssertionError):
                message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            failures.append(f"{test.__name__}: {message}")
            print(f"FAIL {test.__name__}: {message}")
        else:
            print(f"ok   {test.__name__}")
    if failures:
        raise AssertionError("\n".join(failures))
