"""`make demo`: one whole class on a throw-away course, with the real nbgrader commands.

Under ``build/demo/`` (wiped first): ``make course``, a roster of six students, the
assignment generated and released; each student fetches it through the exchange in a home
of their own, answers and submits: one complete (the reference answers), one partial, two
with a known mistake from ``NN_slug.wrong.yml`` (different tasks), one hostile (reads the
gradebook, floods its output, loops forever); a sixth on the roster never hands in. The
assignment has a due date a week ahead. Then the instructor collects, autogrades,
generates and releases feedback, exports grades and makes the class report.

Every command runs in a subprocess, exactly as an instructor or a student would type it;
``build/demo/commands.txt`` lists them in order (paths under the course relative to it),
and the instructors' guide is checked against that list. It is the one top-level module
besides ``build.py`` that uses both halves: authoring gives the answers, grading the report.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import paths
from autograder.authoring import wrong
from autograder.grading.report import display_width, phrase, table
from autograder.notebook_format import LANGS

SLUG = "06_control_flow"  # the chapter that grades fastest (its questions compile in ~10 s)
DEMO = paths.ROOT / "build" / "demo"
COURSE = DEMO / "course"
HOMES = DEMO / "students"
COMMANDS = DEMO / "commands.txt"
# One cell or hidden test may run 15 s here, not the default 60: the hostile student's endless
# loop is what reaches the limit, and the demo should not wait a minute for it.
STEP_SECONDS = 15
CONFIG_NOTE = {
    "en": "# make demo: a cell or hidden test may run {s} s (default 60), so the hostile endless loop ends sooner",
    "zh": "# make demo：每个单元或隐藏测试最多运行 {s} 秒（默认 60 秒），让恶意提交的死循环早点结束",
}


@dataclass(frozen=True)
class Student:
    id: str
    first_name: str
    last_name: str
    role: str  # complete, partial, mistake, hostile, absent
    mistake: wrong.WrongAnswer | None = None

    def name(self, lang: str) -> str:
        return f"{self.last_name}{self.first_name}" if lang == "zh" else f"{self.first_name} {self.last_name}"


ROLES = ("complete", "partial", "mistake", "mistake", "hostile", "absent")
# (id, first name, last name) for ROLES in order. nbgrader grades students in the order of their ids, and the
# hostile one's id comes first: its endless loop then runs beside the others instead of after them.
NAMES = {
    "en": [("lovelace", "Ada", "Lovelace"), ("hopper", "Grace", "Hopper"), ("turing", "Alan", "Turing"),
           ("noether", "Emmy", "Noether"), ("hacker", "Mallory", "Hacker"), ("babbage", "Charles", "Babbage")],
    "zh": [("wangfang", "芳", "王"), ("lina", "娜", "李"), ("zhangwei", "伟", "张"),
           ("liuyang", "洋", "刘"), ("anqiang", "强", "安"), ("zhaolei", "磊", "赵")],
}
DUE_IN_DAYS = 7

TEXT = {
    "wiped": {"en": "demo: {path} wiped (a throw-away course; nothing outside it is touched), course language: {language}",
              "zh": "demo：已清空 {path}（一次性的演示课程，不会动它以外的任何文件），课程语言：{language}"},
    "step": {"en": "[{i:2d}] {what}", "zh": "[{i:2d}] {what}"},
    "course": {"en": "create the course", "zh": "创建课程"},
    "limit": {"en": "nbgrader_config.py: step limit {s} s for the demo", "zh": "nbgrader_config.py：演示用的单步时限 {s} 秒"},
    "roster": {"en": "import the roster ({n} students)", "zh": "导入学生名单（{n} 名学生）"},
    "due": {"en": "due date {date}", "zh": "截止时间 {date}"},
    "generate": {"en": "generate the student version", "zh": "生成学生版"},
    "release": {"en": "release it to the exchange", "zh": "发布到交换目录"},
    "student": {"en": "{id} fetches, answers, submits ({role})", "zh": "{id} 获取作业、作答、提交（{role}）"},
    "short:complete": {"en": "complete", "zh": "完整"},
    "short:partial": {"en": "partial", "zh": "部分完成"},
    "short:mistake": {"en": "mistake", "zh": "常见错误"},
    "short:hostile": {"en": "hostile", "zh": "恶意"},
    "collect": {"en": "collect the submissions", "zh": "收取提交"},
    "autograde": {"en": "autograde (hardened grader)", "zh": "自动评分（加固的评分程序）"},
    "feedback": {"en": "generate feedback", "zh": "生成反馈"},
    "release_feedback": {"en": "release feedback", "zh": "发布反馈"},
    "export": {"en": "export grades", "zh": "导出成绩"},
    "report": {"en": "class report", "zh": "班级报告"},
    "role:complete": {"en": "complete: the reference answers", "zh": "完整：参考答案"},
    "role:partial": {"en": "partial: {n} of {total} tasks answered, the rest blank",
                     "zh": "部分完成：做了 {n}/{total} 个任务，其余留空"},
    "role:mistake": {"en": "known mistake {name} in {task}", "zh": "{task} 中的常见错误 {name}"},
    "role:hostile": {"en": "hostile: reads the gradebook and hidden tests, floods output, loops forever; answers {task} only",
                     "zh": "恶意：读取成绩册和隐藏测试、刷屏输出、死循环；只答了 {task}"},
    "role:absent": {"en": "no submission", "zh": "未提交"},
    "grades": {"en": "Grades (nbgrader export, {path})", "zh": "成绩（nbgrader export，{path}）"},
    "h_student": {"en": "student", "zh": "学生"},
    "h_name": {"en": "name", "zh": "姓名"},
    "h_role": {"en": "submission", "zh": "提交内容"},
    "h_score": {"en": "score", "zh": "得分"},
    "h_max": {"en": "max", "zh": "满分"},
    "outputs": {"en": "Outputs", "zh": "输出"},
    "out_feedback": {"en": "feedback, one HTML per student:", "zh": "反馈（每名学生一个 HTML）："},
    "out_released": {"en": "feedback released to students (nbgrader fetch_feedback): {path}",
                     "zh": "已发布给学生的反馈（学生用 nbgrader fetch_feedback 获取）：{path}"},
    "out_grades": {"en": "grades: {path}", "zh": "成绩：{path}"},
    "out_report": {"en": "report: {path}", "zh": "报告：{path}"},
    "out_commands": {"en": "every command run, in order: {path}", "zh": "运行过的全部命令（按顺序）：{path}"},
    "total": {"en": "demo: done in {s:.1f} s", "zh": "demo：完成，用时 {s:.1f} 秒"},
    "failed": {"en": "demo: this command failed (exit code {rc}), run in {cwd}:\n  {cmd}\n{output}",
               "zh": "demo：这条命令失败了（退出码 {rc}），运行目录 {cwd}：\n  {cmd}\n{output}"},
}


def say(key: str, lang: str, **values) -> str:
    return phrase(TEXT, key, lang, **values)


class DemoError(Exception):
    pass


# ------------------------------------------------------------------ the class


def answers_of(lang: str) -> dict[str, str]:
    """The reference answer of every solution cell (the instructor's notebook)."""
    nb = nbformat.read(paths.ROOT / paths.instructor_notebook(SLUG, lang), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def two_mistakes() -> list[wrong.WrongAnswer]:
    """A wrong answer in each of the first two tasks that have one whose recorded signature no other answer
    of its task shares: the report then names the very mistake the student made (answers with one
    signature share one hint, and the report names the first of them)."""
    recorded = json.loads(paths.signatures_path(SLUG).read_text(encoding="utf-8"))["tasks"]
    picked: dict[str, wrong.WrongAnswer] = {}
    for answer in wrong.load(SLUG):
        known = recorded.get(answer.grade_id, {})
        if answer.alone or answer.name not in known:
            continue
        if [sig for sig in known.values() if sig == known[answer.name]] == [known[answer.name]]:
            picked.setdefault(answer.grade_id, answer)
    if len(picked) < 2:
        raise DemoError(f"{SLUG}: fewer than two tasks have a wrong answer with a signature of its own (make signatures)")
    return list(picked.values())[:2]


def roster(lang: str) -> list[Student]:
    mistakes = two_mistakes()
    out, m = [], iter(mistakes)
    for (sid, first, last), role in zip(NAMES[lang], ROLES, strict=True):
        out.append(Student(sid, first, last, role, next(m) if role == "mistake" else None))
    return out


def role_text(student: Student, lang: str, tasks: list[str]) -> str:
    if student.role == "partial":
        return say("role:partial", lang, n=len(tasks) // 2, total=len(tasks))
    if student.role == "mistake":
        return say("role:mistake", lang, name=student.mistake.name, task=student.mistake.grade_id)
    if student.role == "hostile":
        return say("role:hostile", lang, task=tasks[0])
    if student.role == "absent":
        return say("role:absent", lang)
    return say("role:complete", lang)


def hostile_cells(course: Path) -> list[str]:
    """What the hostile student adds after the imports; in the sandbox the course is not there to read.

    The attack only reads: on a machine without the sandbox (the grader then warns loudly) a
    throw-away course should still end with honest grades.
    """
    gradebook = course / "gradebook.db"
    source = course / "source" / SLUG / f"{SLUG}.ipynb"
    return [
        "# Read the instructor's gradebook and the hidden tests.\n"
        f"print(open({str(gradebook)!r}, 'rb').read(4096))\n"
        f"print(open({str(source)!r}, encoding='utf-8').read())\n",
        "# Flood the grader with 20 MiB of output.\n"
        "for _ in range(20):\n"
        "    print('x' * 2**20)\n",
        "# Never finish.\n"
        "while True:\n"
        "    pass\n",
    ]


def fill(nb, student: Student, reference: dict[str, str], course: Path):
    """The fetched release with this student's answers (cells left alone keep the release's stub)."""
    tasks = list(reference)
    if student.role == "complete":
        answers = reference
    elif student.role == "partial":
        answers = {t: reference[t] for t in tasks[: len(tasks) // 2]}
    elif student.role == "mistake":
        answers = {**reference, student.mistake.grade_id: student.mistake.code}
    else:
        answers = {tasks[0]: reference[tasks[0]]}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    if student.role == "hostile":
        imports = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "import jax" in c.source)
        for k, src in enumerate(hostile_cells(course)):
            nb.cells.insert(imports + 1 + k, nbformat.v4.new_code_cell(src))
    return nb


# ------------------------------------------------------------------ running commands


class Runner:
    """Runs each command in a subprocess, records it for commands.txt, and says what failed."""

    def __init__(self, lang: str):
        self.lang = lang
        self.commands: list[str] = []
        self.env = dict(os.environ)
        bindir = str(Path(sys.executable).parent)
        self.env["PATH"] = os.pathsep.join([bindir, self.env.get("PATH", "")])  # nbgrader of this interpreter
        self.env["PYTHONPATH"] = os.pathsep.join(p for p in (str(paths.ROOT), self.env.get("PYTHONPATH", "")) if p)
        self.env.pop("MAKELEVEL", None)  # a sub-make would print "Entering directory" lines
        self.env["PYTHONUNBUFFERED"] = "1"
        self.lock = threading.Lock()
        self.pending: dict[str, list[str]] = {}  # commands of people working at the same time, by person

    def settle(self, keys: list[str]) -> None:
        """Commands run side by side go into the list person by person, in the order given."""
        for key in keys:
            self.commands += self.pending.pop(key, [])

    def shown(self, arg: str) -> str:
        """An argument as commands.txt shows it: paths under the course relative to the course."""
        if arg == str(COURSE):
            return "."
        return arg.replace(str(COURSE) + "/", "").replace(str(paths.ROOT) + "/", "")

    def __call__(self, cmd: list[str], cwd: Path, home: Path | None = None, key: str | None = None) -> str:
        shown = shlex.join(self.shown(str(a)) for a in cmd)
        with self.lock:
            if key is None:
                self.commands.append(shown)
            else:
                self.pending.setdefault(key, []).append(shown)
        env = dict(self.env, HOME=str(home)) if home else self.env
        proc = subprocess.run([str(a) for a in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr).strip().splitlines()
            raise DemoError(say("failed", self.lang, rc=proc.returncode, cwd=paths.shown(cwd),
                                cmd=shlex.join(map(str, cmd)), output="\n".join(output[-40:])))
        return proc.stdout


def padded(text: str) -> str:
    """The text of a step, padded so that the times line up (Chinese characters are two columns wide)."""
    return text + " " * max(1, 58 - display_width(text))


def line(text: str, seconds: float) -> None:
    print(f"{padded(text)}{seconds:6.1f} s", flush=True)


def step(lang: str, i: int, what: str, action):
    """One line per step: what it does, then, once done, how long it took."""
    print(padded(say("step", lang, i=i, what=what)), end="", flush=True)
    start = time.perf_counter()
    value = action()
    print(f"{time.perf_counter() - start:6.1f} s", flush=True)
    return value


# ------------------------------------------------------------------ the demo


def demo(lang: str) -> int:
    start = time.perf_counter()
    students = roster(lang)
    reference = answers_of(lang)
    tasks = list(reference)
    shutil.rmtree(DEMO, ignore_errors=True)
    HOMES.mkdir(parents=True)
    print(say("wiped", lang, path=paths.shown(DEMO), language=lang))
    run = Runner(lang)
    n = iter(range(1, 100))
    try:
        report = walk_through(lang, run, n, students, reference)
    finally:  # what ran so far, also when a step failed
        COMMANDS.write_text("\n".join(run.commands) + "\n", encoding="utf-8")
    print()
    print(grade_table(lang, students, tasks))
    print()
    print(report.rstrip())
    print()
    print(outputs(lang, students))
    print()
    print(say("total", lang, s=time.perf_counter() - start))
    return 0


def walk_through(lang: str, run: Runner, n, students: list[Student], reference: dict[str, str]) -> str:
    """Every step of the class, each printed as it goes; returns the printed report."""
    course_id = f"learn-jax-{lang}"
    exchange = COURSE / "exchange"
    nbgrader = "nbgrader"

    step(lang, next(n), say("course", lang), lambda: run(
        ["make", "course", f"DIR={paths.shown(COURSE)}", f"COURSE_LANG={lang}"], paths.ROOT))

    def lower_limit():
        config = COURSE / "nbgrader_config.py"
        with config.open("a", encoding="utf-8") as f:
            f.write("\n" + CONFIG_NOTE[lang].format(s=STEP_SECONDS) + f"\nc.SandboxedExecute.step_seconds = {STEP_SECONDS}\n")

    step(lang, next(n), say("limit", lang, s=STEP_SECONDS), lower_limit)

    def import_roster():
        with (COURSE / "roster.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "first_name", "last_name", "email"])
            writer.writerows([s.id, s.first_name, s.last_name, f"{s.id}@example.edu"] for s in students)
        run([nbgrader, "db", "student", "import", "roster.csv"], COURSE)

    step(lang, next(n), say("roster", lang, n=len(students)), import_roster)
    # A week from now: every submission is on time (nbgrader counts any time after it as late; see the guide).
    due = (datetime.now(timezone.utc) + timedelta(days=DUE_IN_DAYS)).strftime("%Y-%m-%d %H:%M:%S UTC")
    step(lang, next(n), say("due", lang, date=due),
         lambda: run([nbgrader, "db", "assignment", "add", SLUG, f"--duedate={due}"], COURSE))
    step(lang, next(n), say("generate", lang), lambda: run([nbgrader, "generate_assignment", SLUG], COURSE))
    step(lang, next(n), say("release", lang), lambda: run([nbgrader, "release_assignment", SLUG], COURSE))

    # They hand in at the same time, as a class does (and nbgrader's start-up is most of each command's time).
    def hand_in(student: Student) -> float:
        begin = time.perf_counter()
        home = HOMES / student.id
        home.mkdir()
        where = [f"--course={course_id}", f"--Exchange.root={exchange}"]
        run([nbgrader, "fetch_assignment", SLUG, *where], home, home, key=student.id)
        fetched = home / SLUG / f"{SLUG}.ipynb"
        nbformat.write(fill(nbformat.read(fetched, as_version=4), student, reference, COURSE), fetched)
        # one login for the whole class, so each names itself (on a JupyterHub nbgrader takes the login)
        run([nbgrader, "submit", SLUG, *where, f"--student={student.id}"], home, home, key=student.id)
        return time.perf_counter() - begin

    try:
        handing_in = [s for s in students if s.role != "absent"]
        with ThreadPoolExecutor(len(handing_in)) as pool:
            futures = {pool.submit(hand_in, s): s for s in handing_in}
            for future in as_completed(futures):  # one line as each student is done
                student = futures[future]
                seconds = future.result()
                what = say("student", lang, id=student.id, role=say(f"short:{student.role}", lang))
                line(say("step", lang, i=next(n), what=what), seconds)
    finally:
        run.settle([s.id for s in students])

    for key, cmd in (("collect", ["collect", SLUG]), ("autograde", ["autograde", SLUG]),
                     ("feedback", ["generate_feedback", SLUG]), ("release_feedback", ["release_feedback", SLUG]),
                     ("export", ["export"])):
        step(lang, next(n), say(key, lang), lambda cmd=cmd: run([nbgrader, *cmd], COURSE))
    return step(lang, next(n), say("report", lang), lambda: run(
        ["make", "report", f"DIR={paths.shown(COURSE)}", f"ASSIGNMENT={SLUG}"], paths.ROOT))


def grade_table(lang: str, students: list[Student], tasks: list[str]) -> str:
    grades = COURSE / "grades.csv"
    rows = {r["student_id"]: r for r in csv.DictReader(grades.open(encoding="utf-8")) if r["assignment"] == SLUG}
    t = lambda key: say(key, lang)  # noqa: E731
    body = [[s.id, s.name(lang), role_text(s, lang, tasks), f"{float(rows[s.id]['score']):g}",
             f"{float(rows[s.id]['max_score']):g}"] for s in students if s.id in rows]  # export lists absent ones at 0
    return (say("grades", lang, path=paths.shown(grades)) + "\n"
            + table([t("h_student"), t("h_name"), t("h_score"), t("h_max"), t("h_role")],
                    [[r[0], r[1], r[3], r[4], r[2]] for r in body], numeric={2, 3}))


def outputs(lang: str, students: list[Student]) -> str:
    lines = [say("outputs", lang), "  " + say("out_feedback", lang)]
    lines += [f"    {paths.shown(COURSE / 'feedback' / s.id / SLUG / f'{SLUG}.html')}" for s in students
              if s.role != "absent"]
    lines.append("  " + say("out_released", lang, path=paths.shown(COURSE / "exchange" / f"learn-jax-{lang}" / "feedback")))
    lines.append("  " + say("out_grades", lang, path=paths.shown(COURSE / "grades.csv")))
    lines.append("  " + say("out_report", lang, path=paths.shown(COURSE / "reports" / SLUG)))
    lines.append("  " + say("out_commands", lang, path=paths.shown(COMMANDS)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--lang", choices=LANGS, default="en", help="the course's language (COURSE_LANG)")
    args = parser.parse_args(argv)
    try:
        return demo(args.lang)
    except DemoError as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
