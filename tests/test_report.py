"""`make report`, the fast layer: table layout, reading the grader's marks, both languages, and bad input.

The report of a really graded class (the course `make demo` grades) is checked in test_demo.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.grading import report
from autograder.notebook_format import LANGS
from conftest import ROOT, run

CHAPTER = "06_control_flow"  # an assignment name; nothing here is graded


def make_report(course: Path, assignment: str = CHAPTER, lang: str = "en"):
    return run(["make", "-s", "report", f"DIR={course}", f"ASSIGNMENT={assignment}", f"COURSE_LANG={lang}"],
               cwd=ROOT, check=False)


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


@pytest.mark.parametrize("lang", LANGS)
def test_the_printed_report_and_its_figures_speak_the_course_language(tmp_path, lang):
    course = hand_made_course(tmp_path, lang)
    data = report.ClassData(lang, "hw1", {"ann": "Ann A", "bob": "Bob B", "cy": "Cy C"},
                            [report.Task("hw1", "test_task", 2.0, {"ann": 1.0, "bob": 0.0})], {"ann": 1.0, "bob": 0.0},
                            {})
    report.read_marks(course, data)
    text = report.render(data, tmp_path, ["tasks.csv"])
    for key in ("tasks", "tests", "misconceptions"):
        assert report.say(key, lang) + "\n" in text
    assert report.say("no_submission", lang, count=1, students="cy (Cy C)") in text
    block = text.split(report.say("tests", lang) + "\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(block) == 2 + 2 and len({report.display_width(line) for line in block}) == 1, block
    assert report.plot(data, tmp_path) == []  # every label drawn: the CJK font is there for zh
    assert (tmp_path / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
