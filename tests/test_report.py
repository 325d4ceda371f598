"""`make report`: class analytics after `nbgrader autograde`, checked against the gradebook of a real graded course.

One course per language is graded once (reference, blank, one known-wrong answer, plus a
roster student who never submitted); every check of that kind reads its report. The error
cases and the table layout need no grading and run in the fast layer.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from autograder.grading import report
from autograder.notebook_format import LANGS
from conftest import ROOT, run

CHAPTER = "06_control_flow"  # grades fastest: its questions compile in ~10 s
WRONG = "python_if_chain"     # a piecewise mistake with a signature of its own
STUDENTS = ("reference", "blank", "mistaken")
ABSENT = "absent"


def make_report(course: Path, assignment: str = CHAPTER, lang: str = "en"):
    return run(["make", "-s", "report", f"DIR={course}", f"ASSIGNMENT={assignment}", f"COURSE_LANG={lang}"],
               cwd=ROOT, check=False)


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------ fast: layout, reading marks, errors


def test_tables_align_columns_with_chinese_text():
    text = report.table(["任务", "平均分", "提示"], [["test_a", "1.50", "短"], ["test_long_name", "10.00", "很长的提示"]],
                        numeric={1})
    lines = text.splitlines()
    ends = {report.display_width(line[: line.index(v) + len(v)]) for line, v in zip(lines[2:], ["1.50", "10.00"])}
    assert len(ends) == 1, text  # right-aligned numbers end in the same column
    hints = {report.display_width(line[: line.index(v)]) for line, v in zip([lines[0], *lines[2:]], ["提示", "短", "很长的提示"])}
    assert len(hints) == 1, text  # and the text after a Chinese header starts in one column
    assert report.display_width(lines[0].split("  ")[0]) == 4  # two Chinese characters are four columns wide


def hand_made_course(tmp_path: Path, lang: str = "en") -> Path:
    """A course with two autograded notebooks marked the way results.py marks them, and no gradebook."""
    course = tmp_path / "course"
    course.mkdir(parents=True)
    (course / report.CONFIG).write_text(f"c.CourseDirectory.course_id = 'learn-jax-{lang}'\n", encoding="utf-8")
    marks = {
        "ann": {"tests": {"test_a": True, "test_b": False}, "misconception": {"name": "sign", "hint": "Mind the sign."}},
        "bob": {"tests": {"test_a": False, "test_b": False}},
    }
    for student, mark in marks.items():
        folder = course / report.AUTOGRADED / student / "hw1"
        folder.mkdir(parents=True)
        cells = [{"cell_type": "code", "source": "", "outputs": [], "metadata": {
            "nbgrader": {"grade": True, "grade_id": "test_task", "points": 2}, "autograder": mark}}]
        (folder / "hw1.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}}), encoding="utf-8")
    return course


def test_marks_of_hand_made_notebooks_become_failure_and_mistake_counts(tmp_path):
    course = hand_made_course(tmp_path)
    data = report.ClassData("en", "hw1", {"ann": "Ann A", "bob": "", "cy": ""},
                            [report.Task("hw1", "test_task", 2.0, {"ann": 1.0, "bob": 0.0})], {"ann": 1.0, "bob": 0.0}, {})
    report.read_marks(course, data)
    assert report.test_rows(data) == [{"task": "test_task", "test": "test_b", "failures": 2, "students": 2},
                                      {"task": "test_task", "test": "test_a", "failures": 1, "students": 2}]
    assert report.misconception_rows(data) == [{"task": "test_task", "name": "sign", "count": 1, "hint": "Mind the sign."}]
    assert report.task_rows(data) == [{"task": "test_task", "students_graded": 2, "mean_score": 0.5, "max_points": 2.0,
                                       "full_marks_rate": 0.0}]
    rows = {r["student"]: r for r in report.student_rows(data)}
    assert rows["cy"]["status"] == "no_submission" and rows["ann"]["misconceptions"] == "sign"


def test_a_graded_student_without_an_autograded_notebook_is_a_warning(tmp_path):
    course = hand_made_course(tmp_path)
    data = report.ClassData("en", "hw1", {"dan": ""}, [report.Task("hw1", "test_task", 2.0, {"dan": 2.0})], {"dan": 2.0}, {})
    warnings = []
    report.read_marks(course, data, warnings.append)
    assert len(warnings) == 1 and "dan" in warnings[0] and report.test_rows(data) == []


def test_the_course_language_comes_from_its_config(tmp_path):
    assert report.course_language(hand_made_course(tmp_path / "a", "zh")) == "zh"
    assert report.course_language(hand_made_course(tmp_path / "b", "en"), fallback="zh") == "en"
    assert report.course_language(tmp_path / "nowhere", fallback="zh") == "zh"


@pytest.mark.parametrize("lang", LANGS)
def test_a_missing_course_is_refused_in_the_requested_language(tmp_path, lang):
    result = make_report(tmp_path / "nowhere", lang=lang)
    assert result.returncode != 0
    assert report.say("no_course", lang, path=tmp_path / "nowhere", config=report.CONFIG) in result.stderr


def test_a_course_without_gradebook_is_refused_and_none_is_created(tmp_path):
    course = hand_made_course(tmp_path, "zh")
    result = make_report(course)
    assert result.returncode != 0
    assert report.say("no_gradebook", "zh", path=course, gradebook=report.GRADEBOOK) in result.stderr
    assert not (course / report.GRADEBOOK).exists()


def test_make_report_needs_both_arguments():
    result = run(["make", "-s", "report", "DIR=somewhere"], cwd=ROOT, check=False)
    assert result.returncode == 2 and "usage: make report DIR=<course> ASSIGNMENT=" in result.stderr


def test_missing_glyphs_in_a_figure_are_caught(tmp_path, monkeypatch):
    """Without the CJK font, Chinese labels are empty boxes: the report must say so, not save them silently."""
    data = report.ClassData("zh", "hw1", {"ann": ""}, [report.Task("hw1", "test_task", 2.0, {"ann": 1.0})], {"ann": 1.0}, {})
    monkeypatch.setattr(report, "_font_settings", lambda lang: {"font.sans-serif": ["DejaVu Sans"]})
    problems = report.plot(data, tmp_path)
    assert problems and all("mplfonts" in p for p in problems)


# ------------------------------------------------------------------ a real graded course per language


@pytest.fixture(scope="module", params=[
    pytest.param(lang, marks=[pytest.mark.grading, pytest.mark.xdist_group(f"report-{lang}")]) for lang in LANGS])
def graded(request, tmp_path_factory):
    from autograder.authoring import wrong
    from gradelib import grade, new_course, read_scores, reference_answers, submission

    lang = request.param
    course = new_course(tmp_path_factory.mktemp(f"report-{lang}"), lang, warm=CHAPTER)
    run(["nbgrader", "db", "student", "add", ABSENT, "--first-name=Ab", "--last-name=Sent"], cwd=course)
    answers = reference_answers(CHAPTER, lang)
    mistake = next(a for a in wrong.load(CHAPTER) if a.name == WRONG)
    grade(course, CHAPTER, {
        "reference": submission(CHAPTER, lang, answers),
        "blank": submission(CHAPTER, lang, {}),
        "mistaken": submission(CHAPTER, lang, {**answers, mistake.grade_id: mistake.code}),
    })
    result = make_report(course)
    folder = course / report.FOLDER / CHAPTER
    return {"lang": lang, "course": course, "result": result, "folder": folder, "mistake": mistake,
            "scores": read_scores(course, CHAPTER, list(STUDENTS))}


def test_report_runs_cleanly(graded):
    result = graded["result"]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no warning: every notebook is marked, every glyph drawn
    for name in ("scores.png", "tasks.png"):
        assert (graded["folder"] / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_task_means_and_full_marks_follow_the_gradebook(graded):
    from gradelib import max_points

    scores, lang = graded["scores"], graded["lang"]
    rows = {r["task"]: r for r in read_csv(graded["folder"] / "tasks.csv")}
    points = max_points(CHAPTER, lang)
    assert list(rows) == list(points)  # every task, in the notebook's order
    for task, row in rows.items():
        got = [scores[s][task] for s in STUDENTS]
        assert int(row["students_graded"]) == len(STUDENTS)
        assert float(row["mean_score"]) == pytest.approx(sum(got) / len(got), abs=1e-6)
        assert float(row["max_points"]) == points[task]
        assert float(row["full_marks_rate"]) == pytest.approx(sum(g == points[task] for g in got) / len(got), abs=1e-6)
    assert float(rows[f"test_{graded['mistake'].grade_id}"]["full_marks_rate"]) < 1


def test_failing_test_counts_match_the_known_wrong_answer(graded):
    """blank fails every hidden test, the reference none, the mistake exactly its recorded signature."""
    from autograder import paths

    mistake = graded["mistake"]
    task = f"test_{mistake.grade_id}"
    recorded = json.loads(paths.signatures_path(CHAPTER).read_text(encoding="utf-8"))["tasks"][mistake.grade_id]
    signature = {name for name, _ in recorded[mistake.name][task]}
    rows = read_csv(graded["folder"] / "tests.csv")
    assert signature and {(r["task"], r["test"]) for r in rows} >= {(task, name) for name in signature}
    for r in rows:
        expected = 1 + (r["task"] == task and r["test"] in signature)
        assert (int(r["failures"]), int(r["students"])) == (expected, len(STUDENTS)), r
    failures = [int(r["failures"]) for r in rows]
    assert failures == sorted(failures, reverse=True)


def test_the_matched_mistake_is_counted_with_its_hint_in_the_course_language(graded):
    mistake, lang = graded["mistake"], graded["lang"]
    rows = read_csv(graded["folder"] / "misconceptions.csv")
    assert rows == [{"task": f"test_{mistake.grade_id}", "name": mistake.name, "count": "1", "hint": mistake.hint[lang]}]


def test_a_roster_student_without_submission_is_listed_not_counted(graded):
    lang, out = graded["lang"], graded["result"].stdout
    rows = {r["student"]: r for r in read_csv(graded["folder"] / "students.csv")}
    assert rows[ABSENT]["status"] == "no_submission" and rows[ABSENT]["score"] == ""
    assert {s for s, r in rows.items() if r["status"] == "graded"} == set(STUDENTS)
    assert report.say("title", lang, assignment=CHAPTER, graded=3, roster=4) in out
    name = "SentAb" if lang == "zh" else "Ab Sent"  # Chinese names: family name first, no space
    assert report.say("no_submission", lang, count=1, students=f"{ABSENT} ({name})") in out


def test_the_printed_tables_are_aligned_and_in_the_course_language(graded):
    lang, out = graded["lang"], graded["result"].stdout
    for key in ("tasks", "tests", "misconceptions"):
        assert report.say(key, lang) in out
    block = out.split(report.say("tasks", lang) + "\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(block) == 2 + 4  # header, rule, the chapter's four tasks
    assert len({report.display_width(line) for line in block}) == 1, block  # the last column is numeric: one width


def test_an_unknown_assignment_names_the_known_ones(graded):
    result = make_report(graded["course"], assignment="99_nothing")
    assert result.returncode != 0
    assert report.say("unknown_assignment", graded["lang"], assignment="99_nothing", known=CHAPTER) in result.stderr


def test_an_assignment_nobody_has_handed_in_is_an_empty_class(graded, tmp_path):
    from nbgrader.api import Gradebook

    # a copy: the graded course stays as the other tests read it
    course = tmp_path / "copy"
    course.mkdir()
    shutil.copy(graded["course"] / report.CONFIG, course / report.CONFIG)
    shutil.copy(graded["course"] / report.GRADEBOOK, course / report.GRADEBOOK)
    with Gradebook(f"sqlite:///{course / report.GRADEBOOK}") as gb:
        gb.add_assignment("07_scan")
    result = make_report(course, assignment="07_scan")
    assert result.returncode != 0
    assert report.say("empty_class", graded["lang"], assignment="07_scan", roster=4) in result.stderr
