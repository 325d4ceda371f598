"""What to run for one submission, built from the instructor's copy and the student's cells.

The submission is data: its code cells are the student's program, nothing more.
Test cells, their hidden tests, their points and the instructor's fixed cells
always come from the instructor's copy, whatever the submission's metadata says.
Each tests cell runs right after the student's answer cell it follows in the
instructor's notebook (or at the end when that cell is gone), so deleting,
moving or editing a tests cell changes nothing. The instructor's "check my work" cell
(it reruns the self-checks and earns nothing) is not run at all, nor what stands in its place.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field

from autograder.notebook_format import CHECK_MY_WORK_ID, HIDDEN_BEGIN, HIDDEN_END, defined_names, is_runner_line
from autograder.grading.testcell import PARSE_LOCK, case_names



@dataclass(frozen=True)
class TestsCell:
    grade_id: str
    points: float
    visible: str          # what the student saw: runs in the sandbox, decides nothing
    hidden: str           # imports, fixtures, probe_ and test_ functions
    anchor: str | None    # grade_id of the answer cell it checks
    test_names: tuple[str, ...] = ()      # the cases, one per parametrization: what partial credit counts
    probe_names: tuple[str, ...] = ()
    probe_source: str = ""  # imports and probe_ functions: the part that runs next to student code
    test_functions: tuple[str, ...] = ()  # the test_ functions the cases come from

    @classmethod
    def parse(cls, grade_id, points, visible, hidden, anchor) -> "TestsCell":
        with PARSE_LOCK:
            tree = ast.parse(hidden)
        funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        keep = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                or (isinstance(n, ast.FunctionDef) and n.name.startswith("probe_"))]
        functions = tuple(n.name for n in funcs if n.name.startswith("test_"))
        with PARSE_LOCK:
            names = case_names(hidden, functions)
        return cls(grade_id, points, visible, hidden, anchor, names,
                   tuple(n.name for n in funcs if n.name.startswith("probe_")),
                   "\n\n".join(ast.get_source_segment(hidden, n) for n in keep), functions)


@dataclass(frozen=True)
class Instructor:
    """The instructor's copy of one notebook, as far as grading needs it."""

    lang: str
    fixed: dict[str, str]            # grade_id -> source of locked code cells (set-up, imports), in order
    answers: list[str]               # grade_ids of solution cells, in order
    tests: list[TestsCell]
    student_names: list[str]         # names the answer cells define: what hidden tests call
    grade_ids: frozenset[str] = frozenset()  # every cell id the copy has (prose cells too)
    skipped: frozenset[str] = frozenset()    # cells that grading leaves out: "check my work"

    def tests_cell(self, grade_id: str) -> TestsCell:
        return next(t for t in self.tests if t.grade_id == grade_id)

    @functools.cached_property
    def fingerprint(self) -> str:  # computed once: every submission's plan fingerprint includes it
        blob = json.dumps([self.lang, self.fixed, self.answers,
                           [t.__dict__ for t in self.tests], self.student_names], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Step:
    kind: str                 # "cell", "fixed" or "tests"
    source: str
    cell: int | None = None   # index of the notebook cell its outputs belong to
    grade_id: str | None = None


@dataclass
class Plan:
    steps: list[Step]
    notes: list[str] = field(default_factory=list)  # message keys for the log and the feedback

    def fingerprint(self, instructor: Instructor, limits: dict) -> str:
        blob = json.dumps([[s.kind, s.source, s.grade_id] for s in self.steps], ensure_ascii=False)
        return hashlib.sha256((blob + instructor.fingerprint + json.dumps(limits, sort_keys=True))
                              .encode()).hexdigest()


def split_tests_source(source: str) -> tuple[str, str]:
    """(visible part, hidden block) of a tests cell."""
    if HIDDEN_BEGIN not in source:
        return source, ""
    head, rest = source.split(HIDDEN_BEGIN, 1)
    hidden, _, tail = rest.partition(HIDDEN_END)
    visible = re.sub(r"\n?[ \t]*#*[ \t]*$", "", head) + ("\n" + tail if tail.strip() else "")
    # The runner call that `make notebooks` appends belongs to in-kernel grading only.
    hidden = "\n".join(line for line in hidden.splitlines() if not is_runner_line(line))
    return visible, hidden


def _nbg(cell) -> dict:
    meta = cell.get("metadata") or {}
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def _source(cell) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        src = "".join(str(s) for s in src)
    return src if isinstance(src, str) else ""


def instructor_from_notebook(nb) -> Instructor:
    """Read the instructor's notebook (nbgrader source version, hidden tests included)."""
    fixed, answers, tests, skipped = {}, [], [], set()
    lang, last_answer = "en", None
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        meta = _nbg(cell)
        gid, src = meta.get("grade_id"), _source(cell)
        if m := re.search(r'^LANG = "(en|zh)"', src, re.M):
            lang = m.group(1)
        if gid == CHECK_MY_WORK_ID and not meta.get("solution") and not meta.get("grade"):
            skipped.add(gid)
        elif meta.get("solution"):
            answers.append(gid)
            last_answer = gid
        elif meta.get("grade"):
            visible, hidden = split_tests_source(src)
            tests.append(TestsCell.parse(gid, float(meta["points"]), visible, hidden, last_answer))
        elif gid:
            fixed[gid] = src
    names: set[str] = set()
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code" and _nbg(cell).get("solution"):
            try:
                with PARSE_LOCK:
                    names |= defined_names(_source(cell))
            except SyntaxError:
                pass
    grade_ids = frozenset(_nbg(c)["grade_id"] for c in nb["cells"] if isinstance(_nbg(c).get("grade_id"), str))
    return Instructor(lang, fixed, answers, tests, sorted(names), grade_ids, frozenset(skipped))


def make_plan(nb, instructor: Instructor) -> Plan:
    """The steps for a submission notebook (a dict as read from JSON; may be odd in any way)."""
    plan = Plan([])
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        cells = []
    test_ids = {t.grade_id for t in instructor.tests}
    seen_fixed, seen_tests, seen_ids = set(), set(), set()
    pending = {t.anchor: [] for t in instructor.tests}
    for t in instructor.tests:
        pending[t.anchor].append(t)
    body: list[Step] = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        gid = _nbg(cell).get("grade_id")
        gid = gid if isinstance(gid, str) else None
        if gid in seen_ids:
            gid = None  # a duplicated grade_id is just student code from the second time on
        elif gid:
            seen_ids.add(gid)
        if gid in instructor.skipped:
            continue  # runs the self-checks again and decides nothing: neither its copy nor the submission's runs
        if gid in test_ids:
            seen_tests.add(gid)
            if cell.get("cell_type") != "code":
                plan.notes.append("tests_cell_not_code")
            continue  # the instructor's copy runs in its place, anchored below
        if gid in instructor.fixed:
            seen_fixed.add(gid)
            body.append(Step("fixed", instructor.fixed[gid], index, gid))
            continue
        if cell.get("cell_type") != "code":
            continue
        body.append(Step("cell", _source(cell), index, gid if gid in instructor.answers else None))
        if gid is not None and gid in pending:
            body += [Step("tests", "", None, t.grade_id) for t in pending.pop(gid)]
    missing_fixed = [g for g in instructor.fixed if g not in seen_fixed]
    plan.steps = [Step("fixed", instructor.fixed[g], None, g) for g in missing_fixed] + body
    for tests in pending.values():
        plan.steps += [Step("tests", "", None, t.grade_id) for t in tests]
    if set(test_ids) - seen_tests:
        plan.notes.append("tests_cell_missing")
    if missing_fixed:
        plan.notes.append("fixed_cell_missing")
    return plan
