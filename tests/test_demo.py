"""`make demo`: the instructor's whole job, run once; read from what it printed and what it left in build/demo.

The demo is also this suite's run of the stock nbgrader command chain on a `make course` directory (release,
fetch, submit, collect, autograde, feedback, export), of `make report` on a really graded class, and of
formgrader in a real browser: one graded course serves all of them.
"""
from __future__ import annotations

import csv
import html
import json
import re
import secrets
import shutil
import time
import urllib.request

import nbformat
import pytest

import browserlib
from autograder import demo, paths
from autograder.grading import report
from autograder.grading.messages import say
from conftest import ROOT, run, tool_env

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("demo")]
LANG = "en"
SLUG = demo.SLUG


@pytest.fixture(scope="module")
def ran():
    result = run(["make", "-s", "demo", f"COURSE_LANG={LANG}"], cwd=ROOT, check=False)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    roster = demo.roster(LANG)
    grades = {r["student_id"]: r for r in csv.DictReader((demo.COURSE / "grades.csv").open(encoding="utf-8"))
              if r["assignment"] == SLUG}
    return {"out": result.stdout, "roster": roster, "by_role": {s.role: s for s in roster if s.role != "mistake"},
            "grades": grades, "handed_in": [s for s in roster if s.role != "absent"]}


def printed_scores(out: str) -> dict[str, tuple[float, float]]:
    """student -> (score, max) from the grade table the demo printed."""
    table = out.split(demo.say("grades", LANG, path="build/demo/course/grades.csv"), 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        m = re.match(r"(\S+)\s+.*?\s+([\d.]+)\s+([\d.]+)\s+\S", line)
        assert m, line
        rows[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return rows


# ------------------------------------------------------------------ the class, as nbgrader saw it


def test_the_grade_table_shows_every_student_as_their_submission_deserves(ran):
    shown = printed_scores(ran["out"])
    assert sorted(shown) == sorted(s.id for s in ran["roster"]) and len(shown) == 6
    complete, partial, hostile, absent = (ran["by_role"][r].id for r in ("complete", "partial", "hostile", "absent"))
    assert shown[complete][0] == shown[complete][1] > 0
    assert 0 < shown[hostile][0] <= shown[partial][0] < shown[partial][1]
    assert shown[absent][0] == 0
    for mistaken in (s for s in ran["roster"] if s.role == "mistake"):
        assert shown[partial][0] < shown[mistaken.id][0] < shown[complete][0]
    for student, (score, top) in shown.items():  # the table is grades.csv
        assert (score, top) == (float(ran["grades"][student]["score"]), float(ran["grades"][student]["max_score"]))


def test_the_release_nbgrader_generated_is_the_committed_one(ran):
    # Students of a course and students who open the repository get the same notebook, with no link to solutions.
    generated = nbformat.read(demo.COURSE / "release" / SLUG / f"{SLUG}.ipynb", as_version=4)
    committed = nbformat.read(ROOT / paths.release_notebook(SLUG, LANG), as_version=4)
    assert [c.source for c in generated.cells] == [c.source for c in committed.cells]
    assert "solutions/" not in generated.cells[0].source


def test_feedback_names_each_known_mistake_to_the_student_who_made_it_only(ran):
    pages = {s.id: html.unescape((demo.COURSE / "feedback" / s.id / SLUG / f"{SLUG}.html").read_text(encoding="utf-8"))
             for s in ran["handed_in"]}
    assert all("test_" in page for page in pages.values())  # per-test results reach every student
    assert not (demo.COURSE / "feedback" / ran["by_role"]["absent"].id).exists()
    released = demo.COURSE / "exchange" / f"learn-jax-{LANG}" / "feedback"
    assert len(list(released.glob("*.html"))) == len(ran["handed_in"])  # nbgrader release_feedback
    lead = say("misconception", LANG, hint="").split("{")[0][:8]
    for student in ran["handed_in"]:
        if student.role == "mistake":
            assert say("misconception", LANG, hint=student.mistake.hint[LANG]) in pages[student.id]
        else:
            assert lead not in pages[student.id], student


def test_commands_txt_lists_the_real_chain_in_order_with_course_relative_paths(ran):
    lines = demo.COMMANDS.read_text(encoding="utf-8").splitlines()
    verbs = [" ".join(line.split()[:3 if line.startswith("nbgrader db") else 2]) for line in lines]
    assert verbs == (["make course", "nbgrader db student", "nbgrader db assignment", "nbgrader generate_assignment",
                      "nbgrader release_assignment"]
                     + ["nbgrader fetch_assignment", "nbgrader submit"] * 5
                     + ["nbgrader collect", "nbgrader autograde", "nbgrader generate_feedback",
                        "nbgrader release_feedback", "nbgrader export", "make report"]), lines
    assert lines[1] == "nbgrader db student import roster.csv"
    assert re.fullmatch(rf"nbgrader db assignment add {SLUG} '--duedate=\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC'",
                        lines[2]), lines[2]
    assert all(str(demo.COURSE) not in line and str(ROOT) not in line for line in lines), lines
    assert "--Exchange.root=exchange" in lines[5]
    assert [line.rsplit("=", 1)[1] for line in lines if line.startswith("nbgrader submit")] == \
        [s.id for s in ran["handed_in"]]


def test_the_roster_and_the_due_date_are_in_the_gradebook(ran):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{demo.COURSE / 'gradebook.db'}") as gb:
        names = {s.id: (s.first_name, s.last_name) for s in gb.students}
        due = gb.find_assignment(SLUG).duedate
        on_time = all(gb.find_submission(SLUG, s.id).total_seconds_late == 0 for s in ran["handed_in"])
    assert names == {s.id: (s.first_name, s.last_name) for s in ran["roster"]}
    assert due is not None and on_time


def test_each_step_is_one_timed_line_and_the_total_is_printed(ran):
    steps = [line for line in ran["out"].splitlines() if re.match(r"\[\s*\d+\]", line)]
    assert len(steps) == 17 and all(re.search(r"\d+\.\d s$", line) for line in steps), steps
    total = re.escape(demo.say("total", LANG, s=0.0)).replace(r"0\.0", r"\d+\.\d")
    assert re.search(total, ran["out"]), total


# ------------------------------------------------------------------ make report on the graded class


def make_report(assignment: str = SLUG, course=None):
    return run(["make", "-s", "report", f"DIR={course or demo.COURSE}", f"ASSIGNMENT={assignment}"],
               cwd=ROOT, check=False)


@pytest.fixture(scope="module")
def reported(ran):
    """`make report` again, as an instructor would after the demo: nothing on stderr is allowed."""
    result = make_report()
    return {"result": result, "folder": demo.COURSE / report.FOLDER / SLUG}


def read_csv(path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_report_runs_cleanly_and_is_printed_by_the_demo(ran, reported):
    result = reported["result"]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no warning: every notebook is marked, every glyph drawn
    for name in ("scores.png", "tasks.png"):
        assert (reported["folder"] / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.say("tasks", LANG) in ran["out"]


def test_task_means_and_full_marks_follow_the_gradebook(ran, reported):
    from gradelib import max_points, read_scores

    students = [s.id for s in ran["handed_in"]]
    scores = read_scores(demo.COURSE, SLUG, students)
    rows = {r["task"]: r for r in read_csv(reported["folder"] / "tasks.csv")}
    points = max_points(SLUG, LANG)
    assert list(rows) == list(points)  # every task, in the notebook's order
    for task, row in rows.items():
        got = [scores[s][task] for s in students]
        assert int(row["students_graded"]) == len(students)
        assert float(row["mean_score"]) == pytest.approx(sum(got) / len(got), abs=1e-6)
        assert float(row["max_points"]) == points[task]
        assert float(row["full_marks_rate"]) == pytest.approx(sum(g == points[task] for g in got) / len(got), abs=1e-6)


def expected_failures(ran) -> dict[tuple[str, str], int]:
    """(task, hidden test) -> how many students fail it, from what each one handed in.

    A blank task fails every hidden test; a known mistake fails exactly its recorded signature; right answers fail
    none. The hostile student answers the first task only (its loop is cut off by the step limit).
    """
    recorded = json.loads(paths.signatures_path(SLUG).read_text(encoding="utf-8"))["tasks"]
    reference = demo.answers_of(LANG)
    tasks = list(reference)
    tests_of = {}
    for row in read_csv(demo.COURSE / report.FOLDER / SLUG / "tests.csv"):
        tests_of.setdefault(row["task"], []).append(row["test"])
    counts = {(task, test): 0 for task, tests in tests_of.items() for test in tests}
    for student in ran["handed_in"]:
        blank = {"partial": tasks[len(tasks) // 2:], "hostile": tasks[1:]}.get(student.role, [])
        for task in blank:
            for test in tests_of[f"test_{task}"]:
                counts[(f"test_{task}", test)] += 1
        if student.role == "mistake":
            task = f"test_{student.mistake.grade_id}"
            for name, _ in recorded[student.mistake.grade_id][student.mistake.name][task]:
                counts[(task, name)] += 1
    return counts


def test_failing_test_counts_follow_what_each_student_handed_in(ran, reported):
    rows = read_csv(reported["folder"] / "tests.csv")
    expected = expected_failures(ran)
    assert {(r["task"], r["test"]): int(r["failures"]) for r in rows} == expected
    assert {int(r["students"]) for r in rows} == {len(ran["handed_in"])}
    failures = [int(r["failures"]) for r in rows]
    assert failures == sorted(failures, reverse=True)


def test_each_planted_mistake_is_counted_once_with_its_hint(ran, reported):
    rows = read_csv(reported["folder"] / "misconceptions.csv")
    planted = [s.mistake for s in ran["roster"] if s.role == "mistake"]
    assert sorted(rows, key=lambda r: r["name"]) == sorted(
        ({"task": f"test_{m.grade_id}", "name": m.name, "count": "1", "hint": m.hint[LANG]} for m in planted),
        key=lambda r: r["name"])


def test_a_roster_student_without_submission_is_listed_not_counted(ran, reported):
    absent = ran["by_role"]["absent"]
    out = reported["result"].stdout
    rows = {r["student"]: r for r in read_csv(reported["folder"] / "students.csv")}
    assert rows[absent.id]["status"] == "no_submission" and rows[absent.id]["score"] == ""
    assert {s for s, r in rows.items() if r["status"] == "graded"} == {s.id for s in ran["handed_in"]}
    assert report.say("title", LANG, assignment=SLUG, graded=5, roster=6) in out
    assert report.say("no_submission", LANG, count=1, students=f"{absent.id} ({absent.name(LANG)})") in out


def test_the_printed_tables_are_aligned(reported):
    out = reported["result"].stdout
    block = out.split(report.say("tasks", LANG) + "\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(block) == 2 + 4  # header, rule, the chapter's four tasks
    assert len({report.display_width(line) for line in block}) == 1, block  # the last column is numeric: one width


def test_an_unknown_assignment_names_the_known_ones(ran):
    result = make_report(assignment="99_nothing")
    assert result.returncode != 0
    assert report.say("unknown_assignment", LANG, assignment="99_nothing", known=SLUG) in result.stderr


def test_an_assignment_nobody_has_handed_in_is_an_empty_class(ran, tmp_path):
    from nbgrader.api import Gradebook

    course = tmp_path / "copy"  # a copy: the demo's course stays as the other tests read it
    course.mkdir()
    shutil.copy(demo.COURSE / report.CONFIG, course / report.CONFIG)
    shutil.copy(demo.COURSE / report.GRADEBOOK, course / report.GRADEBOOK)
    with Gradebook(f"sqlite:///{course / report.GRADEBOOK}") as gb:
        gb.add_assignment("07_scan")
    result = make_report(assignment="07_scan", course=course)
    assert result.returncode != 0
    assert report.say("empty_class", LANG, assignment="07_scan", roster=6) in result.stderr


# ------------------------------------------------------------------ the instructor's browser: formgrader, feedback


@pytest.fixture(scope="module")
def formgrader(ran, tmp_path_factory):
    """`jupyter server` in the demo's course, as an instructor starts it to review (nbgrader's formgrader is on)."""
    port, token = browserlib.free_port(), secrets.token_hex(24)
    scratch = tmp_path_factory.mktemp("formgrader")
    env = tool_env()
    env["JUPYTER_RUNTIME_DIR"] = str(scratch / "runtime")
    cmd = ["jupyter", "server", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.token={token}", *(["--allow-root"] if browserlib.is_root() else [])]
    log = scratch / "server.log"
    base = f"http://127.0.0.1:{port}"
    with browserlib.running(cmd, demo.COURSE, env, log) as proc:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"jupyter server exited:\n{log.read_text(encoding='utf-8')[-4000:]}"
            assert time.monotonic() < deadline, f"no answer in 120 s:\n{log.read_text(encoding='utf-8')[-4000:]}"
            try:
                request = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"})
                urllib.request.urlopen(request, timeout=5).close()
                break
            except OSError:
                time.sleep(0.3)
        yield base, token


@pytest.fixture(scope="module")
def browser():
    with browserlib.chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser):
    context = browserlib.new_context(browser)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_formgrader_lists_the_assignment_and_every_autograded_score(ran, formgrader, page):
    base, token = formgrader
    page.goto(f"{base}/formgrader/manage_assignments?token={token}")
    row = page.locator("tr", has_text=SLUG).first
    row.wait_for()
    browserlib.screenshot(page, "formgrader-assignments.png")
    page.goto(f"{base}/formgrader/gradebook/{SLUG}/{SLUG}?token={token}")
    rows = page.locator("#main-table tr")
    rows.nth(len(ran["handed_in"]) - 1).wait_for()  # the table fills in once the gradebook API answers
    page.get_by_role("button", name="Show All Names").click()  # formgrader hides who is who until asked
    for student in ran["handed_in"]:
        grade = ran["grades"][student.id]
        shown = f"{float(grade['score']):g} / {float(grade['max_score']):g}"
        name = page.locator("td.name", has_text=f"{student.last_name}, {student.first_name}")
        name.wait_for(state="visible")
        line = page.locator("#main-table tr", has=name)
        assert shown in re.sub(r"(\d)\.0\b", r"\1", line.inner_text()), (student.id, line.inner_text())
    assert rows.count() == len(ran["handed_in"])  # the absent student has no submission to list
    browserlib.screenshot(page, "formgrader-submissions.png")


def test_a_feedback_page_shows_the_likely_cause(ran, page):
    student = next(s for s in ran["roster"] if s.role == "mistake")
    feedback = demo.COURSE / "feedback" / student.id / SLUG / f"{SLUG}.html"
    page.goto(feedback.as_uri())
    cause = page.get_by_text(say("misconception", LANG, hint=student.mistake.hint[LANG]), exact=False).first
    cause.scroll_into_view_if_needed()
    assert cause.is_visible()
    # read whole on the page: the output wraps instead of running on behind a scroll bar
    assert cause.evaluate("el => el.scrollWidth <= el.clientWidth"), cause.evaluate("el => el.outerHTML")[:300]
    browserlib.screenshot(page, "feedback-likely-cause.png")


# ------------------------------------------------------------------ the instructors' guide shows what the demo ran


GUIDES = [ROOT / "docs" / "instructors.md", ROOT / "docs" / "instructors.zh.md"]


def _verb(command: str) -> str:
    words = command.split()
    return " ".join(words[:4] if words[:2] == ["nbgrader", "db"] else words[:2])


def _options(command: str) -> set[str]:
    # --student names the student only because the demo's class shares one login; a real student omits it
    return {word.split("=")[0] for word in command.split() if word.startswith("--")} - {"--student"}


def _guide_commands(path) -> list[str]:
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", path.read_text(encoding="utf-8"), re.M | re.S)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()
            if line.startswith(("nbgrader ", "make "))]


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_the_instructors_guide_shows_every_command_the_demo_ran(ran, guide):
    shown = _guide_commands(guide)
    for command in dict.fromkeys(demo.COMMANDS.read_text(encoding="utf-8").splitlines()):
        same_verb = [c for c in shown if _verb(c) == _verb(command)]
        assert same_verb, f"{guide.name} never shows `{_verb(command)}` (the demo ran `{command}`)"
        assert any(_options(command) <= _options(c) for c in same_verb), (command, same_verb)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_nbgrader_command_in_the_guide_exists(guide):
    from nbgrader.apps.dbapp import DbApp, DbAssignmentApp, DbStudentApp
    from nbgrader.apps.nbgraderapp import NbGraderApp

    db = {"student": DbStudentApp.subcommands, "assignment": DbAssignmentApp.subcommands}
    for command in _guide_commands(guide):
        words = command.split()
        if words[0] != "nbgrader":
            continue
        assert words[1] in NbGraderApp.subcommands, command
        if words[1] == "db":
            assert words[2] in DbApp.subcommands and words[3] in db[words[2]], command
