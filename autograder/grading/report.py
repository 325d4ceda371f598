"""`make report`: class analytics of one autograded assignment, from the gradebook and the autograded notebooks.

Scores come from nbgrader's gradebook (``<course>/gradebook.db``), so the report agrees with
``nbgrader export``. What the gradebook does not hold -- each hidden test's outcome and the
known mistake a task's failures matched -- comes from the autograded notebooks, where the
grader marks every tests cell (``cell.metadata["autograder"]``, written by ``results.py``).

Written under ``<course>/reports/<assignment>/``: ``tasks.csv``, ``tests.csv``,
``misconceptions.csv``, ``students.csv``, ``scores.png`` and ``tasks.png``; the same tables are
printed, in the course's language. CSV headers stay English identifiers in both languages, so
one script reads the reports of every course.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.notebook_format import LANGS

FOLDER = "reports"
AUTOGRADED = "autograded"  # nbgrader's default autograded_directory, which `make course` keeps
GRADEBOOK = "gradebook.db"
CONFIG = "nbgrader_config.py"
# The Chinese font of the figures: the one authoring/source.py registers for lessons (mplfonts ships it).
CJK_FONT_PACKAGE, CJK_FONT_FILE, CJK_FONT_FAMILY = "mplfonts", "fonts/NotoSansCJKsc-Regular.otf", "Noto Sans CJK SC"
MISSING_GLYPH = re.compile(r"Glyph \d+.*? missing from (?:current )?font")
FULL_MARKS_TOLERANCE = 1e-9  # partial credit is rounded to 6 places; a full score is never below max by more

TEXT = {
    "title": {"en": "Report on {assignment}: {graded} of {roster} students graded",
              "zh": "{assignment} 的报告：共 {roster} 名学生，已评分 {graded} 名"},
    "total": {"en": "Total: mean {mean:.2f} of {max:g} points, {full} with full marks",
              "zh": "总分：平均 {mean:.2f} 分（满分 {max:g}），{full} 名学生得满分"},
    "no_submission": {"en": "No submission ({count}): {students}", "zh": "未提交（{count} 名）：{students}"},
    "tasks": {"en": "Tasks", "zh": "各任务"},
    "tests": {"en": "Hidden tests, most failed first", "zh": "隐藏测试（失败最多的在前）"},
    "misconceptions": {"en": "Known mistakes, most frequent first", "zh": "常见错误（出现最多的在前）"},
    "none": {"en": "(none)", "zh": "（无）"},
    "h_task": {"en": "task", "zh": "任务"},
    "h_graded": {"en": "graded", "zh": "已评分"},
    "h_mean": {"en": "mean", "zh": "平均分"},
    "h_max": {"en": "max", "zh": "满分"},
    "h_full": {"en": "full marks", "zh": "满分率"},
    "h_test": {"en": "test", "zh": "测试"},
    "h_failures": {"en": "failures", "zh": "失败次数"},
    "h_students": {"en": "students", "zh": "学生数"},
    "h_name": {"en": "mistake", "zh": "错误"},
    "h_count": {"en": "count", "zh": "人数"},
    "h_hint": {"en": "hint", "zh": "提示"},
    "written": {"en": "Written to {folder}: {files}", "zh": "已写入 {folder}：{files}"},
    "plot_scores": {"en": "{assignment}: total scores of {n} students", "zh": "{assignment}：{n} 名学生的总分分布"},
    "plot_scores_x": {"en": "total score (out of {max:g})", "zh": "总分（满分 {max:g}）"},
    "plot_scores_y": {"en": "students", "zh": "学生人数"},
    "plot_tasks": {"en": "{assignment}: full marks per task", "zh": "{assignment}：各任务的满分率"},
    "plot_tasks_x": {"en": "students with full marks (%)", "zh": "得满分的学生（%）"},
    "no_notebook": {"en": "report: warning: {path} is missing, so {student}'s hidden tests are not counted",
                    "zh": "report：警告：缺少 {path}，{student} 的隐藏测试结果未计入"},
    "no_marks": {"en": "report: warning: {count} autograded notebooks carry no per-test outcomes (graded by stock "
                       "nbgrader or an older grader): tests.csv and misconceptions.csv leave them out",
                 "zh": "report：警告：有 {count} 份已评分的 notebook 没有逐个测试的结果（由原版 nbgrader 或旧版评分程序评分），"
                       "tests.csv 和 misconceptions.csv 未计入它们"},
    "glyphs": {"en": "report: {file} has characters its font cannot draw ({detail}); is mplfonts installed?",
               "zh": "report：{file} 中有字体无法显示的字符（{detail}）；mplfonts 装好了吗？"},
    # errors
    "no_course": {"en": "report: {path} is not a course directory (no {config}); make course DIR=... writes one",
                  "zh": "report：{path} 不是课程目录（没有 {config}）；可以用 make course DIR=... 创建"},
    "no_gradebook": {"en": "report: {path} has no {gradebook} yet; run nbgrader collect and nbgrader autograde "
                           "in the course first",
                     "zh": "report：{path} 中还没有 {gradebook}；请先在课程目录中运行 nbgrader collect 和 nbgrader autograde"},
    "unknown_assignment": {"en": "report: the gradebook has no assignment {assignment!r}; it has: {known}",
                           "zh": "report：成绩册中没有作业 {assignment!r}；现有的作业：{known}"},
    "empty_class": {"en": "report: no submission of {assignment} has been autograded yet ({roster} students in "
                          "the roster); run nbgrader collect {assignment} and nbgrader autograde {assignment} first",
                    "zh": "report：{assignment} 还没有任何已自动评分的提交（名单中有 {roster} 名学生）；"
                          "请先运行 nbgrader collect {assignment} 和 nbgrader autograde {assignment}"},
}


def phrase(texts: dict[str, dict[str, str]], key: str, lang: str, **values) -> str:
    """texts[key] in `lang` (English where it has none), filled in."""
    table = texts[key]
    return table.get(lang, table["en"]).format(**values)


def say(key: str, lang: str, **values) -> str:
    return phrase(TEXT, key, lang, **values)


class ReportError(Exception):
    """A course the report cannot be made for; the message is in the course's language."""


# ------------------------------------------------------------------ reading the course


def course_language(course: Path, fallback: str = "en") -> str:
    """The language `make course` recorded in the course's config (its course id), else ``fallback``."""
    try:
        text = (course / CONFIG).read_text(encoding="utf-8")
    except OSError:
        return fallback
    if m := re.search(r"""^c\.CourseDirectory\.course_id\s*=\s*['"]learn-jax-(\w+)['"]""", text, re.M):
        if m.group(1) in LANGS:
            return m.group(1)
    if m := re.search(r"for the (English|Chinese) edition", text):
        return {"English": "en", "Chinese": "zh"}[m.group(1)]
    return fallback


@dataclass
class Task:
    notebook: str
    grade_id: str
    max_points: float
    scores: dict[str, float] = field(default_factory=dict)  # student -> score, graded students only

    def label(self, single_notebook: bool) -> str:
        return self.grade_id if single_notebook else f"{self.notebook}/{self.grade_id}"


@dataclass
class Marks:
    """What the grader wrote on one student's tests cell."""
    tests: dict[str, bool]
    misconception: dict | None


@dataclass
class ClassData:
    lang: str
    assignment: str
    roster: dict[str, str]                          # student id -> name ("" when the roster has none)
    tasks: list[Task]
    totals: dict[str, float]                         # graded student -> total score
    marks: dict[tuple[str, str], dict[str, Marks]]   # (notebook, grade_id) -> student -> marks
    unmarked: int = 0                                # graded notebooks with no per-test outcomes

    @property
    def max_total(self) -> float:
        return sum(t.max_points for t in self.tasks)

    @property
    def graded(self) -> list[str]:
        return sorted(self.totals)

    @property
    def missing(self) -> list[str]:
        return sorted(set(self.roster) - set(self.totals))


def _name(student, lang: str) -> str:
    if lang == "zh":  # family name first, no space
        return f"{student.last_name or ''}{student.first_name or ''}"
    return " ".join(p for p in (student.first_name, student.last_name) if p)


def read_gradebook(course: Path, assignment: str, lang: str) -> ClassData:
    """Scores of every graded submission, the roster and the tasks of ``assignment``, from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    db = course / GRADEBOOK
    if not db.is_file():  # Gradebook() would create an empty one
        raise ReportError(say("no_gradebook", lang, path=course, gradebook=GRADEBOOK))
    with Gradebook(f"sqlite:///{db}") as gb:
        try:
            spec = gb.find_assignment(assignment)
        except MissingEntry:
            known = ", ".join(sorted(a.name for a in gb.assignments)) or say("none", lang)
            raise ReportError(say("unknown_assignment", lang, assignment=assignment, known=known)) from None
        tasks = {(nb.name, cell.name): Task(nb.name, cell.name, float(cell.max_score))
                 for nb in spec.notebooks for cell in nb.grade_cells}
        roster = {s.id: _name(s, lang) for s in gb.students}
        totals: dict[str, float] = {}
        for sub in gb.assignment_submissions(assignment):
            grades = [(nb.name, g) for nb in sub.notebooks for g in nb.grades]
            # a submission row whose notebooks were never autograded has no score at all
            if not any(g.auto_score is not None or g.manual_score is not None for _, g in grades):
                continue
            total = 0.0
            for nb_name, g in grades:
                score = float(g.score or 0.0)
                total += score
                task = tasks.setdefault((nb_name, g.name), Task(nb_name, g.name, float(g.max_score or 0.0)))
                task.scores[sub.student.id] = score
            totals[sub.student.id] = total
            roster.setdefault(sub.student.id, _name(sub.student, lang))
    if not totals:
        raise ReportError(say("empty_class", lang, assignment=assignment, roster=len(roster)))
    order = source_order(course, assignment, {nb for nb, _ in tasks})
    ordered = sorted(tasks.values(), key=lambda t: (t.notebook, order.get((t.notebook, t.grade_id), len(order)), t.grade_id))
    return ClassData(lang, assignment, roster, ordered, totals, {})


def source_order(course: Path, assignment: str, notebooks: set[str]) -> dict[tuple[str, str], int]:
    """Where each cell sits in the instructor's notebook (the gradebook keeps no order)."""
    order = {}
    for name in notebooks:
        try:
            cells = json.loads((course / "source" / assignment / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError):
            continue  # an instructor who moved the source away gets the tasks by name
        order |= {(name, c.get("metadata", {}).get("nbgrader", {}).get("grade_id")): i for i, c in enumerate(cells)}
    return order


def read_marks(course: Path, data: ClassData, warn=print) -> None:
    """Each graded student's per-test outcomes and matched mistake, from their autograded notebooks."""
    notebooks = sorted({t.notebook for t in data.tasks})
    for student in data.graded:
        for name in notebooks:
            path = course / AUTOGRADED / student / data.assignment / f"{name}.ipynb"
            try:
                nb = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                warn(say("no_notebook", data.lang, path=path, student=student))
                continue
            found = False
            for cell in nb.get("cells", []):
                meta = cell.get("metadata", {})
                gid = meta.get("nbgrader", {}).get("grade_id")
                marks = meta.get("autograder")
                if not meta.get("nbgrader", {}).get("grade") or not isinstance(marks, dict):
                    continue
                found = True
                tests = {str(k): bool(v) for k, v in (marks.get("tests") or {}).items()}
                known = marks.get("misconception")
                data.marks.setdefault((name, gid), {})[student] = Marks(tests, known if isinstance(known, dict) else None)
            data.unmarked += not found


def load(course: Path, assignment: str, fallback_lang: str = "en", warn=print) -> ClassData:
    course = Path(course)
    lang = course_language(course, fallback_lang)
    if not (course / CONFIG).is_file():
        raise ReportError(say("no_course", lang, path=course, config=CONFIG))
    data = read_gradebook(course, assignment, lang)
    read_marks(course, data, warn)
    if data.unmarked:
        warn(say("no_marks", lang, count=data.unmarked))
    return data


# ------------------------------------------------------------------ the tables


def full_marks(score: float, max_points: float) -> bool:
    return score >= max_points - FULL_MARKS_TOLERANCE


def task_rows(data: ClassData) -> list[dict]:
    single = len({t.notebook for t in data.tasks}) == 1
    rows = []
    for t in data.tasks:
        scores = list(t.scores.values())
        n = len(scores)
        rows.append({
            "task": t.label(single),
            "students_graded": n,
            "mean_score": round(sum(scores) / n, 6) if n else 0.0,
            "max_points": t.max_points,
            "full_marks_rate": round(sum(full_marks(s, t.max_points) for s in scores) / n, 6) if n else 0.0,
        })
    return rows


def test_rows(data: ClassData) -> list[dict]:
    """Every hidden test seen, most failures first (ties: the order of tasks and of tests in the notebook)."""
    single = len({t.notebook for t in data.tasks}) == 1
    rows = []
    for t in data.tasks:
        failures: Counter[str] = Counter()
        seen: Counter[str] = Counter()
        for marks in data.marks.get((t.notebook, t.grade_id), {}).values():
            for test, ok in marks.tests.items():
                seen[test] += 1
                failures[test] += not ok
        rows += [{"task": t.label(single), "test": test, "failures": failures[test], "students": seen[test]}
                 for test in seen]
    order = {id(r): i for i, r in enumerate(rows)}
    return sorted(rows, key=lambda r: (-r["failures"], order[id(r)]))


def misconception_rows(data: ClassData) -> list[dict]:
    single = len({t.notebook for t in data.tasks}) == 1
    counts: Counter[tuple[str, str]] = Counter()
    hints: dict[tuple[str, str], str] = {}
    for t in data.tasks:
        for marks in data.marks.get((t.notebook, t.grade_id), {}).values():
            if marks.misconception:
                key = (t.label(single), str(marks.misconception.get("name", "")))
                counts[key] += 1
                hints.setdefault(key, str(marks.misconception.get("hint", "")))
    return [{"task": task, "name": name, "count": n, "hint": hints[(task, name)]}
            for (task, name), n in counts.most_common()]


def student_rows(data: ClassData) -> list[dict]:
    """One row per student in the roster or the gradebook: graded with a score, or no submission."""
    mistakes: dict[str, list[str]] = {}
    for per_student in data.marks.values():
        for student, marks in per_student.items():
            if marks.misconception:
                mistakes.setdefault(student, []).append(str(marks.misconception.get("name", "")))
    rows = []
    for student in sorted(data.roster):
        graded = student in data.totals
        rows.append({"student": student, "name": data.roster[student],
                     "status": "graded" if graded else "no_submission",
                     "score": round(data.totals[student], 6) if graded else "",
                     "max_score": data.max_total,
                     "misconceptions": " ".join(mistakes.get(student, []))})
    return rows


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


# ------------------------------------------------------------------ printing


def display_width(text: str) -> int:
    """Terminal columns of ``text``: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(headers: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    """Aligned columns, numbers to the right; the last column is not padded (hints may be long)."""
    cells = [[str(h) for h in headers]] + [[str(v) for v in row] for row in rows]
    widths = [max(display_width(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for r, row in enumerate(cells):
        parts = []
        for i, value in enumerate(row):
            pad = " " * (widths[i] - display_width(value))
            last = i == len(row) - 1
            parts.append(pad + value if i in numeric and r else value + ("" if last else pad))
        lines.append("  ".join(parts).rstrip())
        if r == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render(data: ClassData, folder: Path, files: list[str]) -> str:
    lang = data.lang
    t = lambda key: say(key, lang)  # noqa: E731
    tasks, tests, mistakes = task_rows(data), test_rows(data), misconception_rows(data)
    totals = list(data.totals.values())
    out = [say("title", lang, assignment=data.assignment, graded=len(totals), roster=len(set(data.roster))),
           say("total", lang, mean=sum(totals) / len(totals), max=data.max_total,
               full=sum(full_marks(s, data.max_total) for s in totals))]
    if data.missing:
        out.append(say("no_submission", lang, count=len(data.missing),
                       students=", ".join(f"{s} ({data.roster[s]})" if data.roster[s] else s for s in data.missing)))
    out += ["", t("tasks"), table(
        [t("h_task"), t("h_graded"), t("h_mean"), t("h_max"), t("h_full")],
        [[r["task"], r["students_graded"], f"{r['mean_score']:.2f}", f"{r['max_points']:g}",
          f"{r['full_marks_rate']:.0%}"] for r in tasks], numeric={1, 2, 3, 4})]
    out += ["", t("tests"), table(
        [t("h_task"), t("h_test"), t("h_failures"), t("h_students")],
        [[r["task"], r["test"], r["failures"], r["students"]] for r in tests], numeric={2, 3})
        if tests else t("none")]
    out += ["", t("misconceptions"), table(
        [t("h_task"), t("h_name"), t("h_count"), t("h_hint")],
        [[r["task"], r["name"], r["count"], r["hint"]] for r in mistakes], numeric={2})
        if mistakes else t("none")]
    out += ["", say("written", lang, folder=folder, files=", ".join(files))]
    return "\n".join(out)


# ------------------------------------------------------------------ figures


def _font_settings(lang: str) -> dict:
    """rcParams for the figures; for Chinese, the CJK font of mplfonts registered in memory (not installed)."""
    if lang != "zh":
        return {}
    import importlib.resources

    import matplotlib
    from matplotlib import font_manager

    font = importlib.resources.files(CJK_FONT_PACKAGE) / CJK_FONT_FILE
    if CJK_FONT_FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(font))
    return {"font.sans-serif": [CJK_FONT_FAMILY, *matplotlib.rcParams["font.sans-serif"]],
            "font.family": "sans-serif"}


def plot(data: ClassData, folder: Path) -> list[str]:
    """scores.png and tasks.png; returns every missing-glyph warning matplotlib gave while drawing them."""
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: no global figure state, no GUI backend

    lang = data.lang
    problems = []
    with matplotlib.rc_context(_font_settings(lang)), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = Figure(figsize=(6.4, 4.0), layout="constrained")
        ax = fig.add_subplot()
        top = max(data.max_total, max(data.totals.values()), 1.0)
        # one bar per whole point (centred on it) while that stays readable; partial credit falls into the nearest
        span = (-0.5, round(top) + 0.5) if top <= 30 else (0.0, top)
        bins = round(top) + 1 if top <= 30 else 20
        ax.hist(list(data.totals.values()), bins=bins, range=span, color="#4C72B0", edgecolor="white")
        ax.set_title(say("plot_scores", lang, assignment=data.assignment, n=len(data.totals)))
        ax.set_xlabel(say("plot_scores_x", lang, max=data.max_total))
        ax.set_ylabel(say("plot_scores_y", lang))
        ax.yaxis.get_major_locator().set_params(integer=True)
        fig.savefig(folder / "scores.png", dpi=120)
        problems += [("scores.png", str(w.message)) for w in caught if MISSING_GLYPH.search(str(w.message))]
        caught.clear()

        rows = task_rows(data)
        fig = Figure(figsize=(6.4, 1.2 + 0.45 * len(rows)), layout="constrained")
        ax = fig.add_subplot()
        labels = [r["task"] for r in rows][::-1]  # first task on top
        rates = [100 * r["full_marks_rate"] for r in rows][::-1]
        bars = ax.barh(labels, rates, color="#55A868")
        ax.bar_label(bars, labels=[f"{v:.0f}%" for v in rates], padding=3)
        ax.set_xlim(0, 110)
        ax.set_title(say("plot_tasks", lang, assignment=data.assignment))
        ax.set_xlabel(say("plot_tasks_x", lang))
        fig.savefig(folder / "tasks.png", dpi=120)
        problems += [("tasks.png", str(w.message)) for w in caught if MISSING_GLYPH.search(str(w.message))]
    return [say("glyphs", lang, file=file, detail=detail) for file, detail in dict.fromkeys(problems)]


# ------------------------------------------------------------------ the command


CSV_COLUMNS = {
    "tasks.csv": (task_rows, ["task", "students_graded", "mean_score", "max_points", "full_marks_rate"]),
    "tests.csv": (test_rows, ["task", "test", "failures", "students"]),
    "misconceptions.csv": (misconception_rows, ["task", "name", "count", "hint"]),
    "students.csv": (student_rows, ["student", "name", "status", "score", "max_score", "misconceptions"]),
}
FIGURES = ["scores.png", "tasks.png"]


def make_report(course: Path, assignment: str, fallback_lang: str = "en", warn=print) -> tuple[Path, str, list[str]]:
    """Write the report; returns its folder, the printed text and any figure problems."""
    course = Path(course).resolve()
    data = load(course, assignment, fallback_lang, warn)
    folder = course / FOLDER / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for name, (rows, columns) in CSV_COLUMNS.items():
        write_csv(folder / name, rows(data), columns)
    problems = plot(data, folder)
    return folder, render(data, folder, [*CSV_COLUMNS, *FIGURES]), problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.grading.report", description=__doc__.split("\n")[0])
    parser.add_argument("course", type=Path, help="the course directory (make course DIR=...)")
    parser.add_argument("assignment", help="the assignment, e.g. 06_control_flow")
    parser.add_argument("--lang", choices=LANGS, default="en",
                        help="language of the messages when the course does not record one (COURSE_LANG)")
    args = parser.parse_args(argv)
    warn = lambda text: print(text, file=sys.stderr)  # noqa: E731
    try:
        _, text, problems = make_report(args.course.expanduser(), args.assignment, args.lang, warn)  # zsh: DIR=~/x
    except ReportError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(text)
    for problem in problems:
        warn(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
