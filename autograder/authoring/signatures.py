"""What each known-wrong answer fails: its signature, recorded once so the grader can name the mistake.

``make signatures`` grades every known-wrong answer (in the same rounds as the tests:
``wrong.rounds``) and writes ``solutions/NN_slug.signatures.json``: for each answer, the
hidden tests of its own task that fail and how each fails (``misconceptions.signature``).
The file also holds a hash of what produced it (the exercise source and the wrong
answers' code), so check-sync sees a stale file without grading anything, and the
grading tests check every recorded signature against a real grading run.
``make course`` turns it, with each answer's hint, into the course's misconception table.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from autograder import paths
from autograder.authoring import wrong
from autograder.authoring.generate import course_source
from autograder.authoring.source import SourceError, read_source
from autograder.grading import misconceptions
from autograder.grading.plan import instructor_from_notebook

FORMAT = 1


def inputs_hash(slug: str) -> str:
    """What the signatures depend on: the exercise source, the wrong answers' code, the signature scheme."""
    answers = [[a.grade_id, a.name, a.code, a.alone] for a in wrong.load(slug)]
    blob = json.dumps([misconceptions.FORMAT, paths.source_path(slug, "exercise").read_text(encoding="utf-8"),
                       answers], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def tests_cells_of(instructor) -> dict[str, list[str]]:
    """Solution grade_id -> the tests cells that grade it."""
    out: dict[str, list[str]] = {}
    for t in instructor.tests:
        out.setdefault(t.anchor, []).append(t.grade_id)
    return out


def compute(slug: str, workers: int = 2) -> dict:
    """Grade every known-wrong answer of ``slug`` and return the signatures file's content."""
    from autograder.grading.batch import grade_notebooks, local_batch

    nb = course_source(read_source(paths.source_path(slug, "exercise")), slug, "en")
    instructor = instructor_from_notebook(nb)
    cells = tests_cells_of(instructor)
    students = {}
    for r, packed in enumerate(wrong.rounds(wrong.load(slug), wrong.task_dependencies(slug))):
        submission = nb
        for answer in packed.values():
            submission = wrong.substitute(submission, answer.grade_id, answer.code)
        students[f"round-{r}"] = (submission, packed)
    with tempfile.TemporaryDirectory(prefix=f"signatures-{slug}-") as tmp:
        batch = local_batch(tmp, workers=workers)
        try:
            results = grade_notebooks(batch, nb, {name: s for name, (s, _) in students.items()},
                                      assignment=slug)
        finally:
            batch.close()
    tasks: dict[str, dict] = {}
    for name, (_, packed) in students.items():
        for answer in packed.values():
            tests = {}
            for grade_id in cells.get(answer.grade_id, []):
                sig = misconceptions.signature(results[name]["tests"].get(grade_id, {}))
                tests[grade_id] = None if sig is None else misconceptions.encode(sig)
            tasks.setdefault(answer.grade_id, {})[answer.name] = tests
    return {"format": FORMAT, "inputs": inputs_hash(slug), "tasks": tasks}


def write(slug: str, data: dict) -> Path:
    path = paths.signatures_path(slug)
    path.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load(slug: str) -> dict:
    path = paths.signatures_path(slug)
    shown = paths.shown(path)
    if not path.is_file():
        raise SourceError(f"{shown}: missing; run `make signatures SLUG={slug}`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SourceError(f"{shown}: not valid JSON ({exc}); run `make signatures SLUG={slug}`") from exc
    if data.get("format") != FORMAT:
        raise SourceError(f"{shown}: format {data.get('format')!r}, expected {FORMAT}; run `make signatures`")
    return data


def problems(slug: str) -> list[str]:
    """Why the recorded signatures cannot name each mistake, or are stale (check-sync)."""
    shown = paths.shown(paths.signatures_path(slug))
    try:
        data = load(slug)
        answers = wrong.load(slug)
        current = inputs_hash(slug)
    except SourceError as exc:
        return [str(exc)]
    if data.get("inputs") != current:
        return [f"{shown}: out of date (the exercise or its wrong answers changed); run `make signatures SLUG={slug}`"]
    out, seen = [], {}
    for a in answers:
        tests = (data.get("tasks") or {}).get(a.grade_id, {}).get(a.name)
        if tests is None:
            out.append(f"{shown}: no signature for {a.grade_id}/{a.name}; run `make signatures SLUG={slug}`")
            continue
        if not any(tests.values()):
            out.append(f"{shown}: {a.grade_id}/{a.name} fails no hidden test of its task, or crashes "
                       "the sandbox: the grader could never recognise it")
        for grade_id, sig in tests.items():
            if not sig:
                continue
            key = (grade_id, json.dumps(sig))
            other = seen.setdefault(key, a)
            if other is not a and other.hint != a.hint:
                out.append(f"{paths.shown(paths.wrong_answers_path(slug))}: {a.grade_id}: {other.name} and {a.name} "
                           f"fail {grade_id} the same way but have different hints; merge them or make the hidden "
                           "tests tell them apart")
    return out


def course_table(slug: str, lang: str) -> dict:
    """The course's misconception table of one assignment (``misconceptions.Table.from_json``), in ``lang``."""
    data, hints = load(slug), {a.name: a.hint[lang] for a in wrong.load(slug)}
    tasks: dict[str, list] = {}
    for answers in data["tasks"].values():
        for name, tests in sorted(answers.items()):
            for grade_id, sig in tests.items():
                if sig and name in hints:
                    tasks.setdefault(grade_id, []).append({"name": name, "signature": sig, "hint": hints[name]})
    return {"format": misconceptions.FORMAT, "lang": lang, "tasks": tasks}
