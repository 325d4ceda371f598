"""A tiny instructor's notebook for in-process tests of the grading core (no JAX, no nbgrader run)."""
import nbformat

SETUP = 'LANG = "en"\nimport math\n'
ANSWER = "def double(x):\n    return 2 * x\n"
TESTS = ("assert double(1) == 2\n"
         "### BEGIN HIDDEN TESTS\n"
         "def test_small():\n    assert double(2) == 4\n\n\n"
         "def test_negative():\n    assert double(-3) == -6\n"
         "from autograder.grading.testcell import run_tests\nrun_tests(test_small, test_negative, points=2)\n"
         "### END HIDDEN TESTS\n")


def cell(kind: str, source: str, grade_id: str | None = None, **nbgrader):
    c = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if grade_id:
        c.metadata["nbgrader"] = {"grade_id": grade_id, "grade": False, "solution": False, "locked": False,
                                  "schema_version": 3, **nbgrader}
    return c


def instructor_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell("markdown", "# Doubling", "intro", locked=True),
                cell("code", SETUP, "setup", locked=True),
                cell("code", ANSWER, "double", solution=True),
                cell("code", TESTS, "test_double", grade=True, locked=True, points=2)]
    return nb


def student_notebook(answer: str = ANSWER):
    nb = instructor_notebook()
    nb.cells[2].source = answer
    nb.cells[3].source = TESTS.split("### BEGIN HIDDEN TESTS")[0]
    return nb
