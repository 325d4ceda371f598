"""Runs the pytest-style hidden tests of one autograder cell inside the kernel.

nbgrader scores a test cell by whether it raises, so every test function is
run, each failure is reported by name with its message, and one
AssertionError at the end fails the cell.
"""
import traceback

LABELS = {
    "en": {"ok": "ok  ", "fail": "FAIL", "summary": "{n} of {total} hidden tests failed"},
    "zh": {"ok": "通过", "fail": "失败", "summary": "{total} 个隐藏测试中有 {n} 个未通过"},
}


def run_tests(*tests):
    # The notebook's set-up cell defines LANG; the tests share the notebook's globals.
    lang = tests[0].__globals__.get("LANG", "en") if tests else "en"
    labels = LABELS.get(lang, LABELS["en"])
    failures = []
    for test in tests:
        try:
            test()
        except Exception as exc:  # a crashing test is a failing test
            message = str(exc) or type(exc).__name__
            if not isinstance(exc, AssertionError):
                message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            failures.append(f"{test.__name__}: {message}")
            print(f"{labels['fail']} {test.__name__}: {message}")
        else:
            print(f"{labels['ok']} {test.__name__}")
    if failures:
        summary = labels["summary"].format(n=len(failures), total=len(tests))
        raise AssertionError(summary + "\n" + "\n".join(failures))
