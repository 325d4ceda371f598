"""Where namespaces are unavailable, grading still works, and says loudly what is not isolated."""
import os
import subprocess
import sys

import nbformat
import pytest

from gradelib import max_points, new_course, read_scores, reference_answers, submission

pytestmark = pytest.mark.grading

SLUG = "01_jax_numpy"


def test_grades_without_a_sandbox_and_warns(tmp_path):
    course = new_course(tmp_path, "en")
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write('\nc.SandboxedExecute.isolation = "off"\n')
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["nbgrader", "generate_assignment", SLUG], cwd=course, env=env, check=True, capture_output=True)
    for student, answers in {"reference": reference_answers(SLUG, "en"), "blank": {}}.items():
        (course / "submitted" / student / SLUG).mkdir(parents=True)
        nbformat.write(submission(SLUG, "en", answers), course / "submitted" / student / SLUG / f"{SLUG}.ipynb")
    run = subprocess.run(["nbgrader", "autograde", SLUG], cwd=course, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr.count("graded WITHOUT a sandbox") == 1  # once per run, not per submission
    scores = read_scores(course, SLUG, ["reference", "blank"])
    assert scores["reference"] == max_points(SLUG, "en")
    assert sum(scores["blank"].values()) == 0
    feedback = (course / "autograded" / "reference" / SLUG / f"{SLUG}.ipynb").read_text(encoding="utf-8")
    assert "WITHOUT a sandbox" in feedback  # the student's notebook says it too
