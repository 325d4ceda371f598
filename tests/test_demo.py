"""`make demo`: the instructor's whole job, run once, read from what it printed and what it left in build/demo."""
from __future__ import annotations

import csv
import re

import pytest

from autograder import demo
from autograder.grading import report
from conftest import ROOT, run

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("demo")]
LANG = "en"


@pytest.fixture(scope="module")
def ran():
    result = run(["make", "-s", "demo", f"COURSE_LANG={LANG}"], cwd=ROOT, check=False)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    students = {s.role: s for s in demo.roster(LANG) if s.role != "mistake"}
    grades = {r["student_id"]: r for r in csv.DictReader((demo.COURSE / "grades.csv").open(encoding="utf-8"))
              if r["assignment"] == demo.SLUG}
    return {"out": result.stdout, "students": students, "grades": grades}


def printed_scores(out: str) -> dict[str, tuple[float, float]]:
    """student -> (score, max) from the grade table the demo printed."""
    table = out.split(demo.say("grades", LANG, path="build/demo/course/grades.csv"), 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        m = re.match(r"(\S+)\s+.*?\s+([\d.]+)\s+([\d.]+)\s+\S", line)
        assert m, line
        rows[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return rows


def test_the_grade_table_shows_five_students_as_their_submissions_deserve(ran):
    shown = printed_scores(ran["out"])
    roster = [s.id for s in demo.roster(LANG)]
    assert sorted(shown) == sorted(roster) and len(shown) == 5
    complete, partial, hostile = (ran["students"][r].id for r in ("complete", "partial", "hostile"))
    assert shown[complete][0] == shown[complete][1] > 0
    assert shown[hostile][0] <= shown[partial][0] < shown[partial][1]
    for student, (score, top) in shown.items():  # the table is grades.csv
        assert (score, top) == (float(ran["grades"][student]["score"]), float(ran["grades"][student]["max_score"]))


def test_every_student_gets_feedback_and_the_report_is_written(ran):
    for student in demo.roster(LANG):
        page = demo.COURSE / "feedback" / student.id / demo.SLUG / f"{demo.SLUG}.html"
        assert "test_" in page.read_text(encoding="utf-8"), page
    folder = demo.COURSE / report.FOLDER / demo.SLUG
    assert {p.name for p in folder.iterdir()} >= {"tasks.csv", "tests.csv", "misconceptions.csv", "scores.png", "tasks.png"}
    assert report.say("tasks", LANG) in ran["out"]  # the report is printed too


def test_the_report_names_both_planted_mistakes(ran):
    planted = {(f"test_{s.mistake.grade_id}", s.mistake.name) for s in demo.roster(LANG) if s.role == "mistake"}
    with (demo.COURSE / report.FOLDER / demo.SLUG / "misconceptions.csv").open(encoding="utf-8") as f:
        assert {(r["task"], r["name"]) for r in csv.DictReader(f)} == planted


def test_commands_txt_lists_the_real_chain_in_order_with_course_relative_paths(ran):
    lines = demo.COMMANDS.read_text(encoding="utf-8").splitlines()
    verbs = [" ".join(line.split()[:3 if line.startswith("nbgrader db") else 2]) for line in lines]
    assert verbs == (["make course", "nbgrader db student", "nbgrader generate_assignment", "nbgrader release_assignment"]
                     + ["nbgrader fetch_assignment", "nbgrader submit"] * 5
                     + ["nbgrader collect", "nbgrader autograde", "nbgrader generate_feedback",
                        "nbgrader release_feedback", "nbgrader export", "make report"]), lines
    assert lines[1] == "nbgrader db student import roster.csv"
    assert all(str(demo.COURSE) not in line and str(ROOT) not in line for line in lines), lines
    assert "--Exchange.root=exchange" in lines[4]
    assert [line.rsplit("=", 1)[1] for line in lines if line.startswith("nbgrader submit")] == \
        [s.id for s in demo.roster(LANG)]


def test_the_roster_was_imported_with_names(ran):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{demo.COURSE / 'gradebook.db'}") as gb:
        names = {s.id: (s.first_name, s.last_name) for s in gb.students}
    assert names == {s.id: (s.first_name, s.last_name) for s in demo.roster(LANG)}


def test_each_step_is_one_timed_line_and_the_total_is_printed(ran):
    steps = [line for line in ran["out"].splitlines() if re.match(r"\[\s*\d+\]", line)]
    assert len(steps) == 16 and all(re.search(r"\d+\.\d s$", line) for line in steps), steps
    total = re.escape(demo.say("total", LANG, s=0.0)).replace(r"0\.0", r"\d+\.\d")
    assert re.search(total, ran["out"]), total
