"""Writing a grading result into the notebook nbgrader then saves: outputs, per-test reports, notes.

The tests cells get one stdout report (the visible self-check's output, then a line
per hidden test), plus an ``execute_result`` holding the partial credit where some
tests failed -- nbgrader's ``SaveAutoGrades`` reads the score from there -- or an
error where all failed.
"""
from __future__ import annotations

import hashlib

import nbformat

from autograder.grading.messages import say
from autograder.grading.misconceptions import Table
from autograder.grading.plan import Instructor, Plan, TestsCell
from autograder.grading.testcell import partial_credit


# nbformat.v4.new_* validate every node against the JSON schema, which costs milliseconds each;
# nbgrader validates the whole notebook when it writes it anyway.
def new_cell(cell_type: str, source: str):
    node = {"cell_type": cell_type, "id": "", "metadata": {}, "source": source}
    if cell_type == "code":
        node.update(outputs=[], execution_count=None)
    return nbformat.from_dict(node)


def _stream(name: str, text: str):
    return nbformat.from_dict({"output_type": "stream", "name": name, "text": text})


def _error(ename: str, evalue: str, traceback: list[str]):
    return nbformat.from_dict({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback})


def _result(text: str):
    return nbformat.from_dict({"output_type": "execute_result", "execution_count": None,
                               "data": {"text/plain": text}, "metadata": {}})


def _cell_outputs(out: dict) -> list:
    """A student cell's outputs (tests cells get the report built in ``apply_result``)."""
    outputs = []
    if out.get("stdout"):
        outputs.append(_stream("stdout", out["stdout"]))
    if out.get("stderr"):
        outputs.append(_stream("stderr", out["stderr"]))
    if out.get("error"):
        ename, evalue, tb = out["error"]
        outputs.append(_error(ename, evalue, tb.splitlines()))
    elif out.get("result") is not None:
        outputs.append(_result(out["result"]))
    return outputs


def _tests_cell(t: TestsCell):
    source = t.visible.rstrip() + "\n### BEGIN HIDDEN TESTS\n" + t.hidden.strip("\n") + "\n### END HIDDEN TESTS\n"
    cell = new_cell("code", source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "task": False,
                                 "grade_id": t.grade_id, "points": t.points, "schema_version": 3}
    return cell


def apply_result(nb, plan: Plan, instructor: Instructor, result: dict, problem, not_isolated,
                 detail: str = "safe", misconceptions: Table | None = None) -> None:
    """Outputs and reports into ``nb``; each tests cell's metadata gets ``autograder: {tests, misconception}``
    (each hidden test's outcome, and the known mistake its failures match), for reports and analytics."""
    lang = instructor.lang
    misconceptions = misconceptions or Table()
    pick = 2 if detail == "full" else 1  # [ok, safe message, full message]
    steps = result.get("steps", {})
    for i, step in enumerate(plan.steps):
        if step.cell is not None and step.cell < len(nb.cells) and nb.cells[step.cell].cell_type == "code":
            nb.cells[step.cell].outputs = _cell_outputs(steps.get(str(i), {}))
    test_ids = {t.grade_id for t in instructor.tests}
    present = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and meta.get("grade_id") in test_ids:
            present.setdefault(meta["grade_id"], cell)
    for t in instructor.tests:
        cell = present.get(t.grade_id)
        if cell is None:
            cell = _tests_cell(t)
            cell.id = f"restored-{hashlib.sha1(t.grade_id.encode()).hexdigest()[:8]}"
            nb.cells.append(cell)
        points = float(cell.metadata["nbgrader"].get("points", t.points))
        record = result.get("tests", {}).get(t.grade_id, {})
        results = record.get("results", {})
        lines = []
        visible = record.get("visible") or {}
        report = visible.get("stdout", "") + visible.get("stderr", "")
        if visible.get("error"):
            lines.append(say("visible_failed", lang, error=f"{visible['error'][0]}: {visible['error'][1]}"[:300]))
        passed = 0
        for name in t.test_names:
            verdict = results.get(name) or [False] + [say("crash:budget", lang)] * 2
            ok, message = verdict[0], verdict[pick]
            passed += bool(ok)
            lines.append(f"{say('ok' if ok else 'fail', lang)} {name}" + ("" if ok else f": {message}"))
        total = len(t.test_names)
        earned = partial_credit(points, passed, total)
        lines.append(say("score", lang, passed=passed, total=total, earned=earned, points=points))
        marks = {"tests": {name: bool((results.get(name) or [False])[0]) for name in t.test_names}}
        known = misconceptions.match(t.grade_id, record)
        if known is not None:
            lines.append(say("misconception", lang, hint=known.hint))
            marks["misconception"] = {"name": known.name, "hint": known.hint}
        cell.metadata["autograder"] = marks
        cell.outputs = [_stream("stdout", report + "\n".join(lines) + "\n")]
        if passed == 0:
            cell.outputs.append(_error("AssertionError", say("all_failed", lang, total=total), []))
        elif passed < total:
            cell.outputs.append(_result(repr(earned)))
    notes = [say("unreadable", lang, detail=problem)] if problem else []
    if (nb.metadata.get("autograder") or {}).get("converted"):
        notes.append(say("converted", lang))
    notes += [say(n, lang) for n in dict.fromkeys(plan.notes)]
    notes += [why[pick - 1] for why in result.get("crashes", [])]
    if not_isolated:
        notes.append(say("not_isolated", lang, detail=not_isolated))
    if notes:
        note = new_cell("markdown", "\n".join(f"> {n}  " for n in notes))
        note.id = "autograder-notes"
        nb.cells.insert(0, note)
