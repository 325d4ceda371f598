"""How the hardened pipeline plugs into stock ``nbgrader autograde`` through configuration.

* ``RobustExporter`` (``c.Autograde.exporter_class``) reads any submission file:
  invalid JSON, nbformat 3, empty or binary files become a clean notebook with a
  note instead of a crashed batch; on start it removes results a killed run left
  half-written, so the same command resumes.
* ``SandboxedExecute`` replaces nbgrader's ``Execute`` in
  ``c.Autograde.autograde_preprocessors``: it grades the notebook in a sandbox
  (see ``grader``) and writes outputs and partial-credit results into the tests
  cells, which nbgrader's own ``SaveAutoGrades`` then stores in the gradebook.
  The first call starts grading every pending submission of the assignment in
  parallel, so later calls find their result ready.
* ``mark_started`` / ``mark_done`` (pre/post convert hooks) record which
  submissions have a complete grade.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Enum, Float, Int, Unicode

from autograder import paths, sandbox
from autograder.feedback import DETAILS
from autograder.grader import Settings, Submission, Zygote
from autograder.messages import say
from autograder.questions import questions_only
from autograder.plan import Instructor, Plan, TestsCell, instructor_from_notebook, make_plan
from autograder.testcell import partial_credit

STATE_DIR = ".autograder"
QUESTION_CACHE = "question-cache"
# Caches of older versions: the one named jax-cache held the reference solution's compiled code.
LEGACY_CACHES = ("jax-cache",)
RESULT_FORMAT = 2  # results keep a safe and a full message per failed test
_state: dict = {"root": None}


def _done_marker(root: str, assignment: str, student: str) -> Path:
    return Path(root) / STATE_DIR / "done" / assignment / student


def _submissions(notebooks) -> set[tuple[str, str]]:
    # nbgrader passes the command-line patterns as assignment/student; the paths name the real ones:
    # submitted/<student>/<assignment>/<notebook>.ipynb
    return {(Path(nb).parts[-2], Path(nb).parts[-3]) for nb in notebooks}


def mark_started(assignment, student, notebooks, **_):
    for a, s in _submissions(notebooks) if _state["root"] else ():
        _done_marker(_state["root"], a, s).unlink(missing_ok=True)
    # nbgrader copies a submission's files with shutil.copy, which follows links: a link to
    # ../../gradebook.db would come back in the feedback. A link is not the student's work.
    for folder in {Path(nb).parent for nb in notebooks}:
        for path in folder.rglob("*"):
            if path.is_symlink():
                log = getattr(_state.get("converter"), "log", None)
                if log is not None:
                    log.warning("%s: removed a symbolic link from the submission (to %s)", path, os.readlink(path))
                path.unlink()


def mark_done(assignment, student, notebooks, **_):
    for a, s in _submissions(notebooks) if _state["root"] else ():
        marker = _done_marker(_state["root"], a, s)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))


# ------------------------------------------------------------------ reading submissions


# nbformat.v4.new_* validate every node against the JSON schema, which costs milliseconds each;
# nbgrader validates the whole notebook when it writes it anyway.
def _cell(cell_type: str, source: str):
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


def _clean_cell(raw, index: int):
    if not isinstance(raw, dict) or raw.get("cell_type") not in ("code", "markdown", "raw"):
        return None
    src = raw.get("source", "")
    if isinstance(src, list):
        src = "".join(s for s in src if isinstance(s, str))
    if not isinstance(src, str):
        return None
    cell = _cell(raw["cell_type"], src)
    cell.id = f"cell-{index:04d}"
    meta = raw.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    if isinstance(nbg, dict):
        kept = {k: v for k, v in nbg.items()
                if (k in ("grade_id", "checksum", "cell_type") and isinstance(v, str))
                or (k in ("grade", "solution", "locked", "task") and isinstance(v, bool))
                or (k == "points" and isinstance(v, (int, float)) and not isinstance(v, bool))
                or (k == "schema_version" and isinstance(v, int))}
        if isinstance(kept.get("grade_id"), str):
            # nbgrader refuses metadata of another schema for the whole batch: normalise it
            kept["schema_version"] = 3
            cell.metadata["nbgrader"] = kept
    return cell


def read_submission(path: str, known_ids: set[str] | None = None) -> tuple[nbformat.NotebookNode, str | None]:
    """A clean v4 notebook holding whatever could be salvaged, and what was wrong (or None).

    nbgrader metadata survives only where it can be trusted to mean something: a
    grade_id the instructor's copy has (``known_ids``), seen for the first time.
    """
    problem = None
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        data, problem = b"", f"cannot read the file: {exc.strerror}"
    raw = None
    if problem is None:
        try:
            raw = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            problem = "the file is not text (binary?)"
        except ValueError as exc:
            problem = "empty file" if not data.strip() else f"invalid JSON ({exc.msg}, line {exc.lineno})"
    if raw is not None and not isinstance(raw, dict):
        problem, raw = "the file is JSON but not a notebook", None
    converted = False
    if raw is not None and raw.get("nbformat") == 3:
        try:
            raw = nbformat.convert(nbformat.from_dict(raw), 4)
            converted = True
        except Exception:  # noqa: BLE001 -- a broken v3 file is just unreadable
            problem, raw = "a broken nbformat 3 notebook", None
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    cells = raw.get("cells") if isinstance(raw, dict) else None
    if raw is not None and not isinstance(cells, list):
        problem = problem or "the notebook has no list of cells"
        cells = []
    seen: set[str] = set()
    for i, cell in enumerate(cells or []):
        clean = _clean_cell(cell, i)
        if clean is None:
            continue
        gid = clean.metadata.get("nbgrader", {}).get("grade_id")
        if gid is not None and (gid in seen or (known_ids is not None and gid not in known_ids)):
            del clean.metadata["nbgrader"]  # a copied or invented grade_id: just student code
        elif gid is not None:
            seen.add(gid)
        nb.cells.append(clean)
    meta = raw.get("metadata") if isinstance(raw, dict) else None
    earlier = meta.get("autograder") if isinstance(meta, dict) else None
    if problem is None and isinstance(earlier, dict) and isinstance(earlier.get("problem"), str):
        problem = earlier["problem"][:300]  # noted when nbgrader's first pass read the submission
    if isinstance(earlier, dict) and earlier.get("converted"):
        converted = True
    if problem is not None:
        nb.metadata["autograder"] = {"problem": problem}
    elif converted:
        nb.metadata["autograder"] = {"converted": "nbformat 3"}
    return nb, problem


class RobustExporter(NotebookExporter):
    """Reads submissions defensively; repairs the state a killed run left behind."""

    def __init__(self, *args, parent=None, **kwargs):
        super().__init__(*args, parent=parent, **kwargs)
        coursedir = getattr(parent, "coursedir", None)
        if coursedir is not None:
            _state["root"] = coursedir.root
            _state["converter"] = parent
            _remove_half_written(coursedir, parent.log)
            _prestart()

    def from_filename(self, filename, resources=None, **kw):
        nb, problem = read_submission(filename, self._known_ids(resources))
        if problem:
            self.log.warning("%s: %s; graded from what could be salvaged", filename, problem)
        resources = resources or {}
        return self.from_notebook_node(nb, resources=resources, **kw)


    def _known_ids(self, resources) -> frozenset[str] | None:
        info = (resources or {}).get("nbgrader") or {}
        if "converter" not in _state or "assignment" not in info or "notebook" not in info:
            return None
        try:
            return instructor_copy(info["assignment"], info["notebook"])[1].grade_ids
        except (OSError, ValueError, KeyError):
            return None


def instructor_copy(assignment: str, notebook: str) -> tuple[dict, Instructor]:
    """The instructor's notebook from the course's ``source/`` folder, read once per run."""
    cache = _state.setdefault("instructors", {})
    if (assignment, notebook) not in cache:
        coursedir = _state["converter"].coursedir
        path = Path(coursedir.format_path(coursedir.source_directory, ".", assignment)) / f"{notebook}.ipynb"
        source = json.loads(path.read_text(encoding="utf-8"))
        cache[assignment, notebook] = (source, instructor_from_notebook(source))
    return cache[assignment, notebook]


def _prestart() -> None:
    """Start the zygote and import JAX here while nbgrader is still setting up (both take seconds)."""
    if "zygote" in _state:
        return

    def start():
        try:
            zygote = Zygote()
            # Imported before any grading thread runs hidden tests: two threads importing JAX at
            # once can see it half initialised.
            import jax.numpy  # noqa: F401
        except BaseException as exc:  # noqa: BLE001 -- the batch waiting on it reports it
            _state["zygote"].set_exception(exc)
        else:
            _state["zygote"].set_result(zygote)

    _state["zygote"] = Future()
    threading.Thread(target=start, daemon=True, name="prestart").start()


def _remove_half_written(coursedir, log) -> None:
    """A graded folder without its done-marker belongs to a run that was killed: regrade it."""
    pattern_root = Path(coursedir.root) / coursedir.autograded_directory
    if not pattern_root.is_dir():
        return
    for student_dir in pattern_root.iterdir():
        for assignment_dir in student_dir.iterdir() if student_dir.is_dir() else []:
            if not _done_marker(coursedir.root, assignment_dir.name, student_dir.name).exists():
                log.warning("resuming: %s was not finished by an earlier run; grading it again", assignment_dir)
                shutil.rmtree(assignment_dir, ignore_errors=True)


# ------------------------------------------------------------------ the batch


class Batch:
    """Grades every pending submission of an assignment on a pool of sandboxes."""

    def __init__(self, settings: Settings, workers: int, root: str, scheduler: str = "", log=None):
        self.settings, self.root, self.log = settings, root, log
        self.zygote = _state["zygote"].result() if "zygote" in _state else Zygote()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade")
        self.futures: dict[tuple, Future] = {}
        self.lock = threading.Lock()
        self.warmed: set[tuple] = set()
        self.done = 0
        self.total = 0
        self.started = time.monotonic()
        self.dask = None
        if scheduler:
            from autograder.distributed import DaskRunner

            self.dask = DaskRunner(scheduler, settings)

    def instructor(self, assignment: str, notebook: str) -> Instructor:
        source, instructor = instructor_copy(assignment, notebook)
        if (assignment, notebook) not in self.warmed:
            self.warmed.add((assignment, notebook))
            self.warm_questions(source, instructor)
            self._check_reference((assignment, notebook), source, instructor)
        return instructor

    def warm_questions(self, source: dict, instructor: Instructor) -> None:
        """Fill JAX's compilation cache with what the questions alone compile (``questions``).

        The run grades the instructor's notebook with every answer replaced by a fixed
        stand-in: the set-up cells, the visible self-checks and the probes run, the
        hidden tests send their inputs, and nothing of the reference solution exists.
        Student sandboxes read the cache and cannot write it, so nothing in it comes
        from the solution or from another submission.
        """
        if not (self.settings.isolate and self.settings.cache_dir):
            return
        marker = Path(self.root) / STATE_DIR / "warmed" / instructor.fingerprint
        if marker.exists():
            return
        Path(self.settings.cache_dir).mkdir(parents=True, exist_ok=True)
        settings = dataclasses.replace(self.settings, cache_writable=True)
        Submission(make_plan(questions_only(source, instructor.student_names), instructor), instructor, settings,
                   self.zygote).run()
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()

    def _check_reference(self, key, source: dict, instructor: Instructor) -> None:
        """Grade the instructor's own notebook beside the students' and say if it loses points."""
        if self.log is None or self.dask is not None:
            return
        full = sum(t.points for t in instructor.tests)

        def check():
            result = Submission(make_plan(source, instructor), instructor, self.settings, self.zygote).run()
            got = sum(result["scores"].values())
            if got < full:
                self.log.warning("%s/%s: the instructor's solution scores %s of %s with its own hidden tests",
                                 key[0], key[1], got, full)

        self.pool.submit(check)

    def cache_path(self, assignment, student, notebook) -> Path:
        return Path(self.root) / STATE_DIR / "results" / assignment / student / f"{notebook}.json"

    def cached(self, assignment, student, notebook, fingerprint) -> dict | None:
        try:
            result = json.loads(self.cache_path(assignment, student, notebook).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return result if result.get("fingerprint") == fingerprint else None

    def _store(self, assignment, student, notebook, result):
        path = self.cache_path(assignment, student, notebook)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)  # a reader sees the old result or the new one, never half of one

    def _grade(self, key, plan: Plan, instructor: Instructor, fingerprint: str, files: str | None) -> dict:
        assignment, student, notebook = key
        cached = self.cached(assignment, student, notebook, fingerprint)
        if cached is None:
            if self.dask is not None:
                cached = self.dask.grade(plan, instructor, files)
            else:
                cached = Submission(plan, instructor, self.settings, self.zygote, files).run()
            cached["fingerprint"] = fingerprint
            self._store(assignment, student, notebook, cached)
        with self.lock:
            self.done += 1
            _progress(self.done, self.total, self.started)
        return cached

    def submit(self, key, plan, instructor, files) -> Future:
        fingerprint = plan.fingerprint(instructor, {**self.settings.limits.as_dict(), "results": RESULT_FORMAT})
        with self.lock:
            existing = self.futures.get(key)
            if existing is not None and existing.fingerprint == fingerprint:
                return existing
            self.total += 1
            future = self.pool.submit(self._grade, key, plan, instructor, fingerprint, files)
            future.fingerprint = fingerprint
            self.futures[key] = future
            return future


    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.zygote.close()


def local_batch(root: str, workers: int = 1) -> Batch:
    """A batch outside nbgrader (sandboxed where namespaces work); ``close()`` it when done."""
    return Batch(Settings(sandbox.Limits(), sandbox.namespaces_work()[0], hide=hidden_paths(root)), workers, root)


def grade_notebooks(batch: Batch, instructor_nb: dict, submissions: dict, assignment: str = "notebook") -> dict:
    """Grade notebooks (name -> notebook) against an instructor's notebook without nbgrader.

    The same sandboxes, hidden tests and partial credit as ``nbgrader autograde`` with
    this plugin: for authors trying their known-wrong answers and for the test suite.
    """
    instructor = instructor_from_notebook(instructor_nb)
    futures = {name: batch.submit((assignment, name, assignment), make_plan(nb, instructor), instructor, None)
               for name, nb in submissions.items()}
    return {name: future.result() for name, future in futures.items()}


def _progress(done: int, total: int, started: float) -> None:
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / rate if rate > 0 else 0.0
    width = 24
    filled = int(width * done / max(total, 1))
    line = (f"\rgrading [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
            f"{rate:.1f}/s ETA {eta:.0f}s ")
    if sys.stderr.isatty():
        sys.stderr.write(line + ("\n" if done >= total else ""))
    elif done == total or done % max(1, total // 10) == 0:
        sys.stderr.write(line.strip() + "\n")
    sys.stderr.flush()


# ------------------------------------------------------------------ the preprocessor


def hidden_paths(course_root: str) -> tuple[str, ...]:
    """What no sandbox may see even where it lies inside a system directory: the course, the repository."""
    out = [os.path.realpath(course_root)]
    if (paths.ROOT / "solutions").is_dir():  # a checkout (an installed package has no solutions)
        out.append(str(paths.ROOT.resolve()))
    return tuple(out)


class SandboxedExecute(NbGraderPreprocessor):
    """Runs the student's code in a sandbox and the hidden tests in this (trusted) process."""

    workers = Int(0, help="sandboxes grading at once (0: one per CPU core)").tag(config=True)
    isolation = Unicode("auto", help="'auto' (namespaces where they work, else a loud warning), "
                        "'required' (refuse to grade without them) or 'off'").tag(config=True)
    memory_mb = Int(sandbox.Limits.memory_mb, help="address-space limit of the student process").tag(config=True)
    cpu_seconds = Int(sandbox.Limits.cpu_seconds, help="CPU seconds of the student process").tag(config=True)
    wall_seconds = Float(sandbox.Limits.wall_seconds, help="wall seconds for one submission").tag(config=True)
    step_seconds = Float(sandbox.Limits.step_seconds, help="wall seconds for one cell or hidden test").tag(config=True)
    output_kb = Int(sandbox.Limits.output_kb, help="captured output kept per cell (KiB)").tag(config=True)
    processes = Int(sandbox.Limits.processes, help="processes the student code may run at once "
                    "(counted in the sandbox's pid namespace; not limited without isolation)").tag(config=True)
    disk_mb = Int(sandbox.Limits.disk_mb, help="writable space in the sandbox (MiB)").tag(config=True)
    prefetch = Bool(True, help="grade every pending submission in parallel on the first call").tag(config=True)
    warm_cache = Bool(True, help="before grading, fill JAX's compilation cache with what the questions compile "
                      "(questions.py; seconds per assignment, repaid from about ten submissions)").tag(config=True)
    feedback = Enum(DETAILS, default_value="safe", help=(
        "what a failed hidden test shows in the notebook and the feedback: 'safe' (the test's name, "
        "pass/fail, the author's own message, a student's exception by its type; no values) or 'full' "
        "(adds values, rewritten assertions and exception messages)")).tag(config=True)
    dask_scheduler = Unicode("", help="address of a dask.distributed scheduler to grade on").tag(config=True)

    _batch: Batch | None = None
    _warned = False
    _not_isolated: str | None = None  # why this run grades without a sandbox (shown in every notebook)

    def _settings(self) -> Settings:
        limits = sandbox.Limits(self.memory_mb, self.cpu_seconds, self.wall_seconds, self.step_seconds,
                                self.output_kb, self.processes, self.disk_mb)
        isolate = False
        if self.isolation != "off":
            works, why = sandbox.namespaces_work()
            if works:
                isolate = True
            elif self.isolation == "required":
                raise RuntimeError(f"SandboxedExecute.isolation = 'required' but namespaces do not work here: {why}")
            else:
                SandboxedExecute._not_isolated = why
        else:
            SandboxedExecute._not_isolated = "isolation = 'off' in nbgrader_config.py"
        if not isolate and not SandboxedExecute._warned:
            SandboxedExecute._warned = True
            banner = "!" * 78
            self.log.warning("\n%s\n%s\n%s", banner, say("not_isolated", "en", detail=SandboxedExecute._not_isolated),
                             banner)
        return Settings(limits, isolate, hide=hidden_paths(_state["root"] or os.getcwd()))

    def _get_batch(self) -> Batch:
        if SandboxedExecute._batch is None:
            workers = self.workers or os.cpu_count() or 1
            root = _state["root"] or os.getcwd()
            settings = self._settings()
            for legacy in LEGACY_CACHES:
                shutil.rmtree(Path(root) / STATE_DIR / legacy, ignore_errors=True)
            if settings.isolate and self.warm_cache and not self.dask_scheduler:
                settings = dataclasses.replace(settings, cache_dir=str(Path(root) / STATE_DIR / QUESTION_CACHE))
            SandboxedExecute._batch = Batch(settings, workers, root, self.dask_scheduler, self.log)
            self._prefetch_all(SandboxedExecute._batch)
        return SandboxedExecute._batch

    def _prefetch_all(self, batch: Batch) -> None:
        converter = _state.get("converter")
        if not self.prefetch or converter is None:
            return
        coursedir = converter.coursedir
        for pattern, notebooks in sorted(getattr(converter, "assignments", {}).items()):
            parts = Path(pattern).parts
            student, assignment = parts[-2], parts[-1]
            dest = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
            if dest.exists() and not converter.force:
                continue
            for nb_path in notebooks:
                name = Path(nb_path).stem
                try:
                    instructor = batch.instructor(assignment, name)
                except (OSError, ValueError, KeyError):
                    continue
                nb, _ = read_submission(nb_path)
                batch.submit((assignment, student, name), make_plan(nb, instructor), instructor,
                             str(Path(nb_path).parent))

    def preprocess(self, nb, resources):
        batch = self._get_batch()
        info = resources["nbgrader"]
        assignment, student, notebook = info["assignment"], info["student"], info["notebook"]
        converter = _state.get("converter")
        coursedir = converter.coursedir
        instructor = batch.instructor(assignment, notebook)
        plan = make_plan(nb, instructor)
        files = coursedir.format_path(coursedir.submitted_directory, student, assignment)
        result = batch.submit((assignment, student, notebook), plan, instructor,
                              files if os.path.isdir(files) else None).result()
        problem = (nb.metadata.get("autograder") or {}).get("problem")
        apply_result(nb, plan, instructor, result, problem, SandboxedExecute._not_isolated, self.feedback)
        for _, line in result.get("crashes", []):
            self.log.warning("%s/%s: %s", student, notebook, line)
        if problem:
            self.log.warning("%s/%s: %s", student, notebook, problem)
        return nb, resources


# ------------------------------------------------------------------ writing results into the notebook


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
    cell = _cell("code", source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "task": False,
                                 "grade_id": t.grade_id, "points": t.points, "schema_version": 3}
    return cell


def apply_result(nb, plan: Plan, instructor: Instructor, result: dict, problem, not_isolated,
                 detail: str = "safe") -> None:
    lang = instructor.lang
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
        note = _cell("markdown", "\n".join(f"> {n}  " for n in notes))
        note.id = "autograder-notes"
        nb.cells.insert(0, note)
