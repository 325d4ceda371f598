"""Kill `nbgrader autograde` mid-batch, run it again: every submission graded exactly once, nothing half-written."""
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from gradelib import max_points, new_course, read_scores, reference_answers, submission

pytestmark = pytest.mark.grading

SLUG = "01_jax_numpy"


def test_killed_batch_resumes_and_grades_each_submission_once(tmp_path):
    course = new_course(tmp_path, "en", warm=SLUG)
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write("\nc.SandboxedExecute.workers = 1\n")  # slow enough to be killed in the middle
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["nbgrader", "generate_assignment", SLUG], cwd=course, env=env, check=True,
                   capture_output=True)
    students = [f"s{i}" for i in range(6)]
    full = submission(SLUG, "en", reference_answers(SLUG, "en"))
    for s in students:
        (course / "submitted" / s / SLUG).mkdir(parents=True)
        nbformat.write(full, course / "submitted" / s / SLUG / f"{SLUG}.ipynb")

    first = subprocess.Popen(["nbgrader", "autograde", SLUG], cwd=course, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = course / ".autograder" / "done" / SLUG
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and first.poll() is None:
        if done.is_dir() and len(list(done.iterdir())) >= 2:
            break
        time.sleep(0.05)
    assert first.poll() is None, "the first run finished before it could be interrupted"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    finished_before = {p.name for p in done.iterdir()}
    assert 2 <= len(finished_before) < len(students)

    second = subprocess.run(["nbgrader", "autograde", SLUG], cwd=course, env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr[-3000:]
    # the students finished before the kill are skipped, the rest graded now
    for s in finished_before:
        assert f"Skipping existing assignment: {course}/autograded/{s}/{SLUG}" in second.stderr
    left = len(students) - len(finished_before)
    assert "grading: 100%" in second.stderr and f" {left}/{left} " in second.stderr  # progress: only the rest
    assert {p.name for p in done.iterdir()} == set(students)
    scores = read_scores(course, SLUG, students)
    assert all(scores[s] == max_points(SLUG, "en") for s in students), scores
    rows = subprocess.run([sys.executable, "-c",
                           "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]);"
                           "print(db.execute('select count(*) from submitted_assignment').fetchone()[0])",
                           str(course / "gradebook.db")], capture_output=True, text=True, check=True)
    assert int(rows.stdout) == len(students)
