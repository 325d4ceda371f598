"""Grading many submissions at once: a pool of sandboxes, a journal of results, a progress bar.

``Batch`` knows nothing of nbgrader: it takes plans and the instructor's copy and
returns results (see ``grader.Submission``). ``run.AutogradeRun`` drives it from
``nbgrader autograde``; ``grade_notebooks`` drives it from the command line and
the test suite, so all three grade the same way.
"""
from __future__ import annotations

import dataclasses
import logging
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from autograder.grading import sandbox
from autograder.grading.engines import Engine, LocalEngine
from autograder.grading.grader import Settings
from autograder.grading.journal import Journal
from autograder.grading.messages import say
from autograder.grading.misconceptions import CRASHED
from autograder.grading.plan import Instructor, Plan, instructor_from_notebook, make_plan
from autograder.grading.questions import questions_only

RESULT_FORMAT = 3  # per failed test: a safe and a full message, and how it failed (misconceptions)
log = logging.getLogger(__name__)


def refused(instructor: Instructor, why: list[str]) -> dict:
    """The result of a submission that is not graded at all: every test fails with ``why`` [safe, full]."""
    return {"steps": {}, "scores": {t.grade_id: 0.0 for t in instructor.tests}, "crashes": [why], "notes": [],
            "tests": {t.grade_id: {"results": {n: [False, *why, CRASHED] for n in t.test_names}, "visible": None}
                      for t in instructor.tests},
            "seconds": 0.0}


class Batch:
    """Grades submissions on ``workers`` threads, each driving one sandbox at a time."""

    def __init__(self, engine: Engine, settings: Settings, journal: Journal, workers: int):
        self.engine, self.settings, self.journal = engine, settings, journal
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade")
        self.futures: dict[tuple, Future] = {}
        self.lock = threading.Lock()
        self.prepared: set[str] = set()
        self.progress = tqdm(total=0, desc="grading", unit="submission", file=sys.stderr, dynamic_ncols=True,
                             mininterval=0.5 if sys.stderr.isatty() else 10.0)

    # -- before the students
    def prepare(self, source: dict, instructor: Instructor, label: str) -> None:
        """Once per instructor's copy: warm the compilation cache, then check the reference beside the students."""
        if instructor.fingerprint in self.prepared:
            return
        self.prepared.add(instructor.fingerprint)
        self.warm_questions(source, instructor)
        self.pool.submit(self._check_reference, source, instructor, label)

    def warm_questions(self, source: dict, instructor: Instructor) -> None:
        """Fill JAX's compilation cache with what the questions alone compile (``questions``).

        The run grades the instructor's notebook with every answer replaced by a fixed
        stand-in: the set-up cells, the visible self-checks and the probes run, the
        hidden tests send their inputs, and nothing of the reference solution exists.
        Student sandboxes read the cache and cannot write it, so nothing in it comes
        from the solution or from another submission.
        """
        if not (self.engine.shares_cache and self.settings.isolate and self.settings.cache_dir):
            return
        marker = self.journal.root / "warmed" / instructor.fingerprint
        if marker.exists():
            return
        Path(self.settings.cache_dir).mkdir(parents=True, exist_ok=True)
        settings = dataclasses.replace(self.settings, cache_writable=True)
        self.engine.grade(make_plan(questions_only(source, instructor.student_names), instructor), instructor,
                          settings, None)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()

    def _check_reference(self, source: dict, instructor: Instructor, label: str) -> None:
        """Grade the instructor's own notebook and say if it loses points with its own hidden tests."""
        try:
            result = self.engine.grade(make_plan(source, instructor), instructor, self.settings, None)
        except Exception:
            log.exception("%s: the instructor's solution could not be graded", label)
            return
        got, full = sum(result["scores"].values()), sum(t.points for t in instructor.tests)
        if got < full:
            log.warning("%s: the instructor's solution scores %s of %s with its own hidden tests", label, got, full)

    # -- the students
    def submit(self, key: tuple[str, str, str], plan: Plan, instructor: Instructor, files: str | None) -> Future:
        """Grade one submission (assignment, student, notebook); the same key and plan share one future."""
        fingerprint = plan.fingerprint(instructor, {**self.settings.limits.as_dict(), "results": RESULT_FORMAT})
        with self.lock:
            existing = self.futures.get(key)
            if existing is not None and existing.fingerprint == fingerprint:
                return existing
            self.progress.total += 1
            self.progress.refresh()
            future = self.pool.submit(self._grade, key, plan, instructor, fingerprint, files)
            future.fingerprint = fingerprint
            self.futures[key] = future
            return future

    def _grade(self, key, plan: Plan, instructor: Instructor, fingerprint: str, files: str | None) -> dict:
        result = self.journal.load(key, fingerprint)
        if result is None:
            size = sandbox.own_files_size(files)
            if size > sandbox.FILES_LIMIT_BYTES:
                text = say("files_too_large", instructor.lang, size_mb=size / 2**20,
                           limit_mb=sandbox.FILES_LIMIT_BYTES / 2**20)
                result = refused(instructor, [text, text])
            else:
                result = self.engine.grade(plan, instructor, self.settings, files)
            result["fingerprint"] = fingerprint
            self.journal.store(key, result)
        with self.lock:
            self.progress.update(1)
        return result

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.engine.close()
        self.progress.close()


def local_batch(root: str, workers: int = 1) -> Batch:
    """A batch outside nbgrader, sandboxed where namespaces work; its journal lives under ``root``."""
    settings = Settings(sandbox.Limits(), sandbox.namespaces_work()[0], hide=sandbox.hidden_paths(root))
    return Batch(LocalEngine(), settings, Journal(root), workers)


def grade_notebooks(batch: Batch, instructor_nb: dict, submissions: dict, assignment: str = "notebook") -> dict:
    """Grade notebooks (name -> notebook) against an instructor's notebook; name -> result.

    The same sandboxes, hidden tests and partial credit as ``nbgrader autograde`` with
    this plugin: for authors trying their known-wrong answers and for the test suite.
    """
    instructor = instructor_from_notebook(instructor_nb)
    futures = {name: batch.submit((assignment, name, assignment), make_plan(nb, instructor), instructor, None)
               for name, nb in submissions.items()}
    return {name: future.result() for name, future in futures.items()}
