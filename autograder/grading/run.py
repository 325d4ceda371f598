"""One ``nbgrader autograde`` command as one object: everything that lives for the run, and only for it.

``RobustExporter`` creates the run when nbgrader creates it (once per command) and
``SandboxedExecute`` reaches it through the exporter, its parent. The run repairs
what a killed run left, starts the zygote while nbgrader is still setting up, reads
each instructor's copy once, and owns the batch that grades every pending submission.
"""
from __future__ import annotations

import atexit
import dataclasses
import json
import logging
import os
import threading
from concurrent.futures import Future
from pathlib import Path

from autograder.grading import misconceptions, sandbox
from autograder.grading.batch import Batch
from autograder.grading.engines import DaskEngine, LocalEngine
from autograder.grading.exporter import read_submission
from autograder.grading.grader import Settings, Zygote
from autograder.grading.journal import Journal
from autograder.grading.messages import say
from autograder.grading.plan import Instructor, instructor_from_notebook, make_plan

QUESTION_CACHE = "question-cache"
# Caches of older versions: the one named jax-cache held the reference solution's compiled code.
LEGACY_CACHES = ("jax-cache",)


def _log_through(app_log: logging.Logger) -> None:
    """The package's own loggers (journal, hooks, batch) write where nbgrader's log writes."""
    ours = logging.getLogger("autograder")
    for handler in app_log.handlers:
        if handler not in ours.handlers:
            ours.addHandler(handler)
    if ours.handlers:
        ours.propagate = False
    ours.setLevel(min(app_log.getEffectiveLevel(), logging.WARNING))


class AutogradeRun:
    def __init__(self, converter):
        self.converter = converter
        self.coursedir = converter.coursedir
        self.log = converter.log
        _log_through(converter.log)
        self.root = self.coursedir.root or os.getcwd()
        self.journal = Journal(self.root)
        self.journal.remove_half_written(Path(self.root) / self.coursedir.autograded_directory)
        self.instructors: dict[tuple[str, str], tuple[dict, Instructor]] = {}
        self.tables: dict[str, misconceptions.Table] = {}
        self.batch: Batch | None = None
        self.not_isolated: str | None = None  # why this run grades without a sandbox (shown in every notebook)
        self._zygote: Future = Future()
        threading.Thread(target=self._prestart, daemon=True, name="prestart").start()

    def _prestart(self) -> None:
        """Start the zygote and import JAX while nbgrader is still setting up (both take seconds)."""
        try:
            zygote = Zygote()
            # Imported before any grading thread runs hidden tests: two threads importing JAX at
            # once can see it half initialised.
            import jax.numpy  # noqa: F401
        except BaseException as exc:  # noqa: BLE001 -- the batch waiting on it reports it
            self._zygote.set_exception(exc)
        else:
            self._zygote.set_result(zygote)

    def instructor_copy(self, assignment: str, notebook: str) -> tuple[dict, Instructor]:
        """The instructor's notebook from the course's ``source/`` folder, read once per run."""
        key = (assignment, notebook)
        if key not in self.instructors:
            folder = Path(self.coursedir.format_path(self.coursedir.source_directory, ".", assignment))
            source = json.loads((folder / f"{notebook}.ipynb").read_text(encoding="utf-8"))
            self.instructors[key] = (source, instructor_from_notebook(source))
        return self.instructors[key]

    def misconceptions(self, assignment: str) -> misconceptions.Table:
        """The assignment's known-mistake signatures from the course directory, read once per run."""
        if assignment not in self.tables:
            self.tables[assignment] = misconceptions.load(self.root, assignment)
        return self.tables[assignment]

    def instructor(self, assignment: str, notebook: str) -> Instructor:
        """The instructor's copy, with the batch prepared for it (cache warmed, reference checked)."""
        source, instructor = self.instructor_copy(assignment, notebook)
        self.batch.prepare(source, instructor, f"{assignment}/{notebook}")
        return instructor

    # -- the batch, configured by the first SandboxedExecute
    def batch_for(self, options) -> Batch:
        if self.batch is None:
            settings = self._settings(options)
            for legacy in LEGACY_CACHES:
                self.journal.clear(legacy)
            if options.dask_scheduler:
                self._zygote.add_done_callback(lambda f: f.exception() is None and f.result().close())
                engine = DaskEngine(options.dask_scheduler)
            else:
                engine = LocalEngine(self._zygote.result())
                if settings.isolate and options.warm_cache:
                    settings = dataclasses.replace(settings, cache_dir=str(self.journal.root / QUESTION_CACHE))
            self.batch = Batch(engine, settings, self.journal, options.workers or os.cpu_count() or 1)
            atexit.register(self.batch.close)
            if options.prefetch:
                self._prefetch_all()
        return self.batch

    def _settings(self, options) -> Settings:
        limits = sandbox.Limits(options.memory_mb, options.cpu_seconds, options.wall_seconds, options.step_seconds,
                                options.output_kb, options.processes, options.disk_mb)
        isolate = False
        if options.isolation != "off":
            works, why = sandbox.namespaces_work()
            if works:
                isolate = True
            elif options.isolation == "required":
                raise RuntimeError(f"SandboxedExecute.isolation = 'required' but namespaces do not work here: {why}")
            else:
                self.not_isolated = why
        else:
            self.not_isolated = "isolation = 'off' in nbgrader_config.py"
        if not isolate:
            banner = "!" * 78
            self.log.warning("\n%s\n%s\n%s", banner, say("not_isolated", "en", detail=self.not_isolated), banner)
        return Settings(limits, isolate, hide=sandbox.hidden_paths(self.root), required=options.isolation == "required")

    def _prefetch_all(self) -> None:
        """Submit every pending submission now, so that later notebooks find their result ready."""
        coursedir = self.coursedir
        for pattern, notebooks in sorted(getattr(self.converter, "assignments", {}).items()):
            parts = Path(pattern).parts
            student, assignment = parts[-2], parts[-1]
            dest = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
            if dest.exists() and not self.converter.force:
                continue
            for nb_path in notebooks:
                name = Path(nb_path).stem
                try:
                    instructor = self.instructor(assignment, name)
                except (OSError, ValueError, KeyError):
                    continue
                nb, _ = read_submission(nb_path)
                self.batch.submit((assignment, student, name), make_plan(nb, instructor), instructor,
                                  str(Path(nb_path).parent))
