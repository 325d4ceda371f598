"""The trusted side: runs one submission's plan in a sandbox and decides its grades.

Student code only ever runs in a sandboxed process reached through ``wire``.
Hidden tests run here, in the grader's own process, with every student function
replaced by a proxy that sends data and receives data. When the sandbox dies or
overruns, the step or test that killed it fails with a named reason, a fresh
sandbox replays the cells before it, and grading goes on after it.
"""
from __future__ import annotations

import ast
import builtins
import functools
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.grading import feedback, misconceptions, sandbox, wire
from autograder.grading.messages import MESSAGES, say
from autograder.grading.plan import PARSE_LOCK, Instructor, Plan, TestsCell
from autograder.grading.testcell import TEST_FAILURES, OutcomeException, cases, partial_credit, rewrite_asserts


class SandboxDied(BaseException):
    """The student process ended or overran; a BaseException so hidden tests cannot catch it."""

    def __init__(self, reason: str, detail: dict | None = None):
        super().__init__(reason)
        self.reason, self.detail = reason, detail or {}


class StudentError(Exception):
    """Student code raised; the hidden test that called it fails, naming what was raised.

    ``StudentError.of`` gives it the type the student raised too, where that is one of
    Python's own exceptions, so ``pytest.raises(ValueError)`` in a hidden test works
    across the boundary.
    """

    def __init__(self, name: str, etype: str, message: str):
        super().__init__(f"{name} raised {etype}: {message}")
        self.name, self.etype, self.message = name, etype, message

    @staticmethod
    def of(name: str, etype: str, message: str) -> "StudentError":
        return _student_error_class(etype)(name, etype, message)


@functools.lru_cache(maxsize=None)
def _student_error_class(etype: str) -> type:
    base = getattr(builtins, etype, None)
    if not (isinstance(base, type) and issubclass(base, Exception)) or base is Exception:
        return StudentError
    try:
        return type(etype, (StudentError, base), {"__init__": StudentError.__init__, "__str__": Exception.__str__})
    except TypeError:  # a base whose layout cannot be combined (OSError and its family)
        return StudentError


class Zygote:
    """A warm process with JAX imported that forks one sandbox per request.

    It starts with the sandbox's own environment, not the grader's: a process's
    initial environment stays readable in ``/proc/self/environ`` whatever it later
    does to ``os.environ``, and every sandbox inherits the zygote's.
    """

    def __init__(self):
        parent, child = socket.socketpair()
        env = sandbox.environment()
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])  # where the autograder package lies
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.grading.worker", str(child.fileno())],
                                     pass_fds=[child.fileno()], env=env, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        child.close()
        self.control = parent
        self.lock = threading.Lock()
        self._buf = b""

    def spawn(self, job: dict):
        data_parent, data_child = socket.socketpair()
        status_parent, status_child = socket.socketpair()
        with self.lock:
            socket.send_fds(self.control, [json.dumps(job).encode()], [data_child.fileno(), status_child.fileno()])
            data_child.close()
            status_child.close()
            while b"\n" not in self._buf:
                chunk = self.control.recv(64)
                if not chunk:
                    raise RuntimeError("the grading zygote died; see its output above")
                self._buf += chunk
            line, self._buf = self._buf.split(b"\n", 1)
        return data_parent, status_parent, int(line)

    def close(self):
        try:
            self.control.close()
            self.proc.kill()
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 -- best effort at shutdown
            pass


class Sandbox:
    """One live student process."""

    def __init__(self, zygote: Zygote, settings: "Settings", files: str | None):
        self.limits = limits = settings.limits
        self.root = tempfile.mkdtemp(prefix="grade-")
        cache = settings.cache_dir
        job = {"limits": limits.as_dict(), "root": self.root, "isolate": settings.isolate, "files": files,
               "cache": cache if settings.isolate and cache and os.path.isdir(cache) else None,
               "cache_writable": settings.cache_writable, "hide": list(settings.hide)}
        self.data, self.status, self.pid = zygote.spawn(job)
        self.max_reply = max(wire.MAX_FRAME // 4, limits.output_kb * 1024 * 8)

    def request(self, header: dict, blobs=(), *, deadline: float) -> tuple[dict, list[bytes]]:
        try:
            wire.send(self.data, header, list(blobs))
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.data], [], [], timeout)
            if not ready:
                raise TimeoutError
            self.data.settimeout(max(1.0, deadline - time.monotonic()))
            return wire.recv(self.data, self.max_reply)
        except TimeoutError:
            self.kill()
            raise SandboxDied("timeout", {"seconds": self.limits.step_seconds}) from None
        except wire.Closed:
            raise SandboxDied(*self._how_it_ended()) from None
        except (wire.WireError, OSError) as exc:
            self.kill()
            raise SandboxDied("protocol", {"detail": str(exc)[:200]}) from None

    def _how_it_ended(self) -> tuple[str, dict]:
        self.status.settimeout(5)
        try:
            header, _ = wire.recv(self.status, 1 << 16)
            ended = str(header.get("ended", "unknown"))
        except (wire.WireError, OSError):
            self.kill()
            return "other", {"how": "no status"}
        if ended == "limit:processes":
            return "processes", {"processes": self.limits.processes}
        if ended.startswith("exit:"):
            return "exit", {"code": ended[5:]}
        if ended in ("signal:SIGSEGV", "signal:SIGABRT", "signal:SIGKILL", "signal:SIGXCPU"):
            return ended, {"memory_mb": self.limits.memory_mb, "cpu_seconds": self.limits.cpu_seconds}
        return "other", {"how": ended}

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)  # the student process dies with it (PDEATHSIG)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self):
        try:
            wire.send(self.data, {"op": "exit"})
        except OSError:
            pass
        self.kill()
        for s in (self.data, self.status):
            s.close()
        shutil.rmtree(self.root, ignore_errors=True)


# ------------------------------------------------------------------ trusted tests


def make_proxy(name: str, call):
    def proxy(*args, **kwargs):
        return call(name, args, kwargs)

    proxy.__name__ = name
    return proxy


def compile_hidden(cell: TestsCell):
    """The hidden block as a code object, with pytest's assertion rewriting where pytest is installed."""
    return _compile_hidden(cell.hidden, _filename(cell))


def _filename(cell: TestsCell) -> str:
    return f"<hidden tests {cell.grade_id}>"


@functools.lru_cache(maxsize=256)
def _compile_hidden(source: str, filename: str):
    with PARSE_LOCK:
        tree = ast.parse(source, filename)
        if rewrite_asserts is not None:
            rewrite_asserts(tree, source.encode(), filename)
        return compile(tree, filename, "exec")


def failure_texts(exc: BaseException, cell: TestsCell, lang: str) -> tuple[str, str, str]:
    """(safe, full, kind) for a hidden test that raised ``exc`` (see ``feedback`` and ``misconceptions``)."""
    line = feedback.failing_line(exc, _filename(cell))
    if isinstance(exc, StudentError):
        return (say("student_error:safe", lang, name=exc.name, type=feedback.exception_type(exc.etype, lang)),
                say("student_error", lang, name=exc.name, type=exc.etype[:100], message=exc.message[:2000]),
                misconceptions.student_raised(feedback.exception_type(exc.etype, "en"), line))
    verdict = isinstance(exc, (AssertionError, OutcomeException))  # an assert, pytest.raises, pytest.fail
    full = str(exc).strip() if verdict else f"{type(exc).__name__}: {exc}"
    full = full[:4000] or type(exc).__name__
    author = feedback.author_messages(cell.hidden).at(line, lang)
    if verdict:
        safe = author or say("assert_failed", lang)
    else:
        safe = say("test_error:safe", lang, type=feedback.exception_type(type(exc).__name__, lang))
    kind = misconceptions.asserted(line) if verdict else misconceptions.test_raised(
        feedback.exception_type(type(exc).__name__, "en"), line)
    return safe[:2000], full, kind


def run_hidden_tests(cell: TestsCell, lang: str, remote: list[str], call, skip, on_result) -> None:
    """Run the cell's test_ functions here; ``on_result(name, passed, safe, full, kind)`` after each.

    ``remote`` names live in the sandbox (student functions); they and the cell's
    probe_ functions become proxies that ``call(name, args, kwargs)``.
    """
    namespace = {"__name__": f"hidden_tests_{cell.grade_id}", "LANG": lang}
    try:
        exec(compile_hidden(cell), namespace)
        namespace.update({name: make_proxy(name, call) for name in [*remote, *cell.probe_names]})
        collected = cases(namespace, cell.test_functions)
    except Exception as exc:  # noqa: BLE001 -- the cell's own set-up broke: its tests fail, the batch goes on
        texts = failure_texts(exc, cell, lang)
        for name in cell.test_names:
            if name not in skip:
                on_result(name, False, *texts)
        return
    for name, case in collected:
        if name in skip:
            continue
        try:
            case()
        except TEST_FAILURES as exc:  # a test that fails, or crashes on the student's data, fails
            on_result(name, False, *failure_texts(exc, cell, lang))
        else:
            on_result(name, True, "", "", "")


# ------------------------------------------------------------------ one submission


@dataclass
class Settings:
    limits: sandbox.Limits
    isolate: bool
    max_restarts: int = 8
    # JAX's compilation cache, read-only in every student sandbox. It holds only what the
    # questions compile (see batch.Batch.warm_questions), never the reference's code.
    cache_dir: str | None = None
    cache_writable: bool = False     # only for the warm-up run that fills it
    hide: tuple[str, ...] = ()       # course and repository: covered even inside a visible directory
    required: bool = False           # isolation = "required": a machine without namespaces refuses to grade


class Submission:
    """Grades one plan; ``result()`` is JSON-able and holds everything the notebook needs.

    It runs in two phases. First every cell in notebook order, each tests cell's
    visible self-check in its place: everything that produces output the student
    will see. Then the hidden tests, cell by cell. Hidden inputs enter the sandbox
    only in the second phase, when no student cell is left to print them.
    """

    def __init__(self, plan: Plan, instructor: Instructor, settings: Settings, zygote: Zygote,
                 files: str | None = None):
        self.plan, self.instructor, self.settings, self.zygote, self.files = plan, instructor, settings, zygote, files
        self.lang = instructor.lang
        # (plan index, phase): "run" executes a cell or a tests cell's visible part, "hidden" its hidden tests
        self.order = [(i, "run") for i in range(len(plan.steps))]
        self.order += [(i, "hidden") for i, step in enumerate(plan.steps) if step.kind == "tests"]
        self.steps: dict[int, dict] = {}          # plan index -> outputs of that cell
        # tests grade_id -> {"results": {test: [ok, safe message, full message]}, "visible": outputs}
        self.tests: dict[str, dict] = {}
        self.crashes: list[list[str]] = []         # [safe, full] per sandbox that died
        self.skip: set[int] = set()                # positions in ``order`` that killed the sandbox
        self.in_flight = 0                         # the position whose request is running
        self.box: Sandbox | None = None

    # -- sandbox management
    def _fresh(self):
        if self.box is not None:
            self.box.close()
        self.box = Sandbox(self.zygote, self.settings, self.files)

    def _deadline(self) -> float:
        return min(time.monotonic() + self.settings.limits.step_seconds, self.wall_deadline)

    def _call(self, name, args, kwargs):
        blobs: list[bytes] = []
        try:
            header = {"op": "call", "name": name,
                      "args": wire.encode(tuple(args), blobs, where="argument"),
                      "kwargs": wire.encode(dict(kwargs), blobs, where="keyword argument")}
        except wire.WireError as exc:
            raise AssertionError(f"[grader] test bug: {exc}") from None
        reply, out = self.box.request(header, blobs, deadline=self._deadline())
        if "error" in reply:
            etype, message = (list(reply["error"]) + ["", ""])[:2]
            raise StudentError.of(name, str(etype)[:100], str(message)[:2000])
        try:
            return wire.decode(reply.get("value"), out, to_jax=wire.to_jax)
        except wire.WireError as exc:
            raise StudentError(name, "WireError", str(exc)) from None

    # -- the main loop
    def run(self) -> dict:
        start = time.monotonic()
        self.wall_deadline = start + self.settings.limits.wall_seconds
        restarts = 0
        position = 0
        try:
            while position < len(self.order):
                if restarts > self.settings.max_restarts or time.monotonic() > self.wall_deadline:
                    self._give_up()
                    break
                if position in self.skip:  # it killed the sandbox: it is not run again
                    position += 1
                    continue
                try:
                    if self.box is None:
                        self._fresh()
                        self._replay(position)
                    self.in_flight = position
                    self._run(position)
                    position += 1
                except SandboxDied as died:
                    restarts += 1
                    self._blame(self.in_flight, self._why(died))
                    self.box.close()
                    self.box = None
        finally:
            if self.box is not None:
                self.box.close()
        return self.result(time.monotonic() - start)

    def _why(self, died: SandboxDied) -> list[str]:
        """[safe, full] reason; the safe one drops what student code chose (an exit code is 8 bits of it)."""
        key = f"crash:{died.reason}"
        key = key if key in MESSAGES else "crash:other"
        full = say(key, self.lang, **{"how": died.reason, **died.detail})
        safe = say(f"{key}:safe", self.lang) if f"{key}:safe" in MESSAGES else full
        self.crashes.append([safe, full])
        return [safe, full]

    def _record(self, grade_id: str) -> dict:
        return self.tests.setdefault(grade_id, {"results": {}, "visible": None})

    def _replay(self, upto: int):
        """A fresh sandbox gets the student's state back: the cells before ``upto``, quietly.

        Self-checks are not replayed: they decide nothing, and one that exhausts memory
        would take the fresh process down again.
        """
        for position, (i, phase) in enumerate(self.order[:upto]):
            step = self.plan.steps[i]
            if position in self.skip or phase == "hidden" or step.kind == "tests":
                continue
            self.in_flight = position  # a cell that kills the sandbox only when replayed is blamed too
            self.box.request({"op": "cell", "source": step.source}, deadline=self._deadline())

    def _renew_after_memory_error(self, errors: list[str]) -> None:
        """After student code ran out of memory the process may fail later, anywhere: start a fresh one."""
        if "MemoryError" in errors and self.box is not None:
            self.box.close()
            self.box = None

    def _run(self, position: int):
        i, phase = self.order[position]
        step = self.plan.steps[i]
        if phase == "run" and step.kind != "tests":
            reply, _ = self.box.request({"op": "cell", "source": step.source}, deadline=self._deadline())
            self.steps[i] = _outputs(reply)
            self._renew_after_memory_error([(reply.get("error") or [""])[0]])
            return
        tests = self.instructor.tests_cell(step.grade_id)
        record = self._record(tests.grade_id)
        if phase == "run":
            reply, _ = self.box.request({"op": "define", "source": tests.visible}, deadline=self._deadline())
            record["visible"] = _outputs(reply)
            self._renew_after_memory_error([(reply.get("error") or [""])[0]])
            return
        self.box.request({"op": "define", "source": tests.probe_source}, deadline=self._deadline())
        raised: list[str] = []

        def on_result(name, passed, safe, full, kind):
            record["results"][name] = [passed, safe, full, kind]

        def call(name, args, kwargs):
            try:
                return self._call(name, args, kwargs)
            except StudentError as exc:
                raised.append(exc.etype)
                raise

        # tests already decided (before a crash) are not run again
        run_hidden_tests(tests, self.lang, self.instructor.student_names, call, set(record["results"]), on_result)
        self._renew_after_memory_error(raised)

    def _blame(self, position: int, why: list[str]):
        """The step (or the hidden test) that was running when the sandbox died fails, once."""
        i, phase = self.order[position]
        step = self.plan.steps[i]
        if phase == "run":
            self.skip.add(position)
            note = say("cell_crashed", self.lang, why=why[1])
            crashed = {"stdout": "", "stderr": "", "result": None, "error": ["SandboxDied", note, note]}
            if step.kind == "tests":
                self._record(step.grade_id)["visible"] = crashed
            else:
                self.steps[i] = crashed
            return
        results = self._record(step.grade_id)["results"]
        pending = [n for n in self.instructor.tests_cell(step.grade_id).test_names if n not in results]
        if pending:
            results[pending[0]] = [False, *why, misconceptions.CRASHED]
        else:
            self.skip.add(position)

    def _give_up(self):
        why = say("crash:budget", self.lang)
        for t in self.instructor.tests:
            results = self._record(t.grade_id)["results"]
            for name in t.test_names:
                results.setdefault(name, [False, why, why, misconceptions.CRASHED])

    def result(self, seconds: float) -> dict:
        scores = {}
        for t in self.instructor.tests:
            results = self.tests.get(t.grade_id, {}).get("results", {})
            passed = sum(1 for n in t.test_names if results.get(n, [False])[0])
            scores[t.grade_id] = partial_credit(t.points, passed, len(t.test_names))
        return {"steps": {str(k): v for k, v in self.steps.items()}, "tests": self.tests, "scores": scores,
                "crashes": self.crashes, "notes": self.plan.notes, "seconds": round(seconds, 3)}


def _outputs(reply: dict) -> dict:
    error = reply.get("error")
    if error is not None:
        error = [str(x)[:4000] for x in (list(error) + ["", "", ""])[:3]]
    return {"stdout": str(reply.get("stdout", ""))[:1 << 20], "stderr": str(reply.get("stderr", ""))[:1 << 20],
            "result": None if reply.get("result") is None else str(reply["result"])[:1 << 20], "error": error}
