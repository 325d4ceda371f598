"""Naming the likely misconception behind a failed task, from the known-wrong answers' signatures.

Every known-wrong answer of a task was graded when the course was built: the hidden
tests it fails, each with how it failed (an assertion, or the exception the student's
code or the test raised) and at which line of the hidden block, are its signature.
``make course`` writes them, with each answer's hint in the course's language, to
``<course>/misconceptions/<assignment>.json``.

The rule, chosen so that the grader never guesses: a task's failures get a hint only
when they are exactly one known signature -- the same failed tests, each failing the
same way at the same line. A subset or a superset is no match; a task where a test
crashed the sandbox or ran out of time never matches; nor does a task with no failure.
Authors cannot ship two answers of one task with the same signature and different
hints (check-sync), so an exact match names one hint.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

FOLDER = "misconceptions"
FORMAT = 1
# How one hidden test failed, the last field of its result: what went wrong and at which line of
# the hidden block, so two mistakes caught by different checks of one test stay apart.
CRASHED = "crash"              # the sandbox died, the time ran out, or the submission was refused
log = logging.getLogger(__name__)


def _at(kind: str, line: int | None) -> str:
    return kind if line is None else f"{kind}@{line}"


def asserted(line: int | None) -> str:
    """An assert, pytest.raises or np.testing check did not hold."""
    return _at("assert", line)


def student_raised(exception_type: str, line: int | None) -> str:
    """The student's code raised (the type as the safe feedback shows it: only well-known names)."""
    return _at(f"student:{exception_type}", line)


def test_raised(exception_type: str, line: int | None) -> str:
    """The hidden test itself raised, on what the student's code returned."""
    return _at(f"test:{exception_type}", line)


Signature = frozenset  # of (test name, kind) pairs


def signature(record: dict) -> Signature | None:
    """The failed tests of one tests cell's record, or None when there is nothing to diagnose."""
    failed = []
    for name, verdict in (record.get("results") or {}).items():
        if verdict[0]:
            continue
        kind = verdict[3] if len(verdict) > 3 else CRASHED
        if kind == CRASHED:
            return None
        failed.append((name, kind))
    return frozenset(failed) or None


def encode(sig: Signature) -> list[list[str]]:
    return sorted([name, kind] for name, kind in sig)


@dataclass(frozen=True)
class Misconception:
    name: str
    hint: str


class Table:
    """One assignment's known signatures, by tests cell grade_id."""

    def __init__(self, by_task: dict[str, dict[Signature, list[Misconception]]] | None = None):
        self.by_task = by_task or {}

    def match(self, grade_id: str, record: dict) -> Misconception | None:
        sig = signature(record)
        if sig is None:
            return None
        found = self.by_task.get(grade_id, {}).get(sig, [])
        return found[0] if len({m.hint for m in found}) == 1 else None

    @classmethod
    def from_json(cls, data: dict) -> "Table":
        if data.get("format") != FORMAT:
            raise ValueError(f"misconceptions format {data.get('format')!r}, expected {FORMAT}")
        by_task: dict[str, dict[Signature, list[Misconception]]] = {}
        for grade_id, entries in data["tasks"].items():
            for entry in entries:
                sig = frozenset((str(n), str(k)) for n, k in entry["signature"])
                by_task.setdefault(grade_id, {}).setdefault(sig, []).append(
                    Misconception(str(entry["name"]), str(entry["hint"])))
        return cls(by_task)


def path(course_root: str | Path, assignment: str) -> Path:
    return Path(course_root) / FOLDER / f"{assignment}.json"


def load(course_root: str | Path, assignment: str) -> Table:
    """The assignment's table; an empty one (no hints, grading unchanged) when the course has none or it is broken."""
    file = path(course_root, assignment)
    if not file.is_file():
        return Table()
    try:
        return Table.from_json(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s: unreadable, so feedback names no misconception (%s)", file, exc)
        return Table()
