"""The trusted side: runs one submission's plan in a sandbox and decides its grades.

Student code only ever runs in a sandboxed process reached through ``wire``.
Hidden tests run here, in the grader's own process, with every student function
replaced by a proxy that sends data and receives data. When the sandbox dies or
overruns, the step or test that killed it fails with a named reason, a fresh
sandbox replays the cells before it, and grading goes on after it.
"""
from __future__ import annotations

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

from autograder import sandbox, wire
from autograder.messages import MESSAGES, say
from autograder.plan import PARSE_LOCK, Instructor, Plan, TestsCell
from autograder.testcell import partial_credit


class SandboxDied(BaseException):
    """The student process ended or overran; a BaseException so hidden tests cannot catch it."""

    def __init__(self, reason: str, detail: dict | None = None):
        super().__init__(reason)
        self.reason, self.detail = reason, detail or {}


class StudentError(Exception):
    """Student code raised; the hidden test that called it fails with this message."""


class Zygote:
    """A warm process with JAX imported that forks one sandbox per request."""

    def __init__(self):
        parent, child = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (os.path.dirname(os.path.dirname(os.path.abspath(__file__))), env.get("PYTHONPATH")) if p)
        env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.worker", str(child.fileno())],
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

    def __init__(self, zygote: Zygote, limits: sandbox.Limits, isolate: bool, files: str | None,
                 cache: str | None = None, cache_writable: bool = False):
        self.limits = limits
        self.root = tempfile.mkdtemp(prefix="grade-")
        job = {"limits": limits.as_dict(), "root": self.root, "isolate": isolate, "files": files,
               "cache": cache if isolate and cache and os.path.isdir(cache) else None,
               "cache_writable": cache_writable}
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


def run_hidden_tests(cell: TestsCell, lang: str, remote: list[str], call, skip, on_result) -> None:
    """Run the cell's test_ functions here; ``on_result(name, passed, message)`` after each.

    ``remote`` names live in the sandbox (student functions); they and the cell's
    probe_ functions become proxies that ``call(name, args, kwargs)``.
    """
    namespace = {"__name__": f"hidden_tests_{cell.grade_id}", "LANG": lang}
    with PARSE_LOCK:
        code = compile(cell.hidden, f"<hidden tests {cell.grade_id}>", "exec")
    exec(code, namespace)
    namespace.update({name: make_proxy(name, call) for name in [*remote, *cell.probe_names]})
    for name in cell.test_names:
        if name in skip:
            continue
        try:
            namespace[name]()
        except AssertionError as exc:
            on_result(name, False, str(exc).strip() or "AssertionError")
        except StudentError as exc:
            on_result(name, False, str(exc))
        except Exception as exc:  # a test that crashes on the student's data fails
            on_result(name, False, f"{type(exc).__name__}: {exc}"[:2000])
        else:
            on_result(name, True, "")


# ------------------------------------------------------------------ one submission


@dataclass
class Settings:
    limits: sandbox.Limits
    isolate: bool
    max_restarts: int = 8
    cache_dir: str | None = None     # JAX compilation cache shared (read-only) by all sandboxes
    cache_writable: bool = False     # only for the instructor's reference run that fills it


class Submission:
    """Grades one plan; ``result()`` is JSON-able and holds everything the notebook needs."""

    def __init__(self, plan: Plan, instructor: Instructor, settings: Settings, zygote: Zygote,
                 files: str | None = None):
        self.plan, self.instructor, self.settings, self.zygote, self.files = plan, instructor, settings, zygote, files
        self.lang = instructor.lang
        self.steps: dict[int, dict] = {}          # step index -> outputs of that cell
        self.tests: dict[str, dict] = {}          # tests grade_id -> {"results": {test: [ok, message]}, "visible"}
        self.crashes: list[str] = []
        self.skip_steps: set[int] = set()          # steps that killed the sandbox: not replayed
        self.box: Sandbox | None = None

    # -- sandbox management
    def _fresh(self):
        if self.box is not None:
            self.box.close()
        self.box = Sandbox(self.zygote, self.settings.limits, self.settings.isolate, self.files,
                           self.settings.cache_dir, self.settings.cache_writable)

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
            raise StudentError(say("student_error", self.lang, name=name, type=str(etype)[:100],
                                   message=str(message)[:2000]))
        try:
            return wire.decode(reply.get("value"), out, to_jax=wire.to_jax)
        except wire.WireError as exc:
            raise StudentError(f"{name}: {exc}") from None

    # -- the main loop
    def run(self) -> dict:
        start = time.monotonic()
        self.wall_deadline = start + self.settings.limits.wall_seconds
        restarts = 0
        position = 0
        try:
            while position < len(self.plan.steps):
                if restarts > self.settings.max_restarts or time.monotonic() > self.wall_deadline:
                    self._give_up(position)
                    break
                try:
                    if self.box is None:
                        self._fresh()
                        self._replay(position)
                    self._run_step(position)
                    position += 1
                except SandboxDied as died:
                    restarts += 1
                    key = f"crash:{died.reason}"
                    why = say(key if key in MESSAGES else "crash:other", self.lang,
                              **{"how": died.reason, **died.detail})
                    self.crashes.append(why)
                    self._blame(position, why)
                    self.box.close()
                    self.box = None
        finally:
            if self.box is not None:
                self.box.close()
        return self.result(time.monotonic() - start)

    def _record(self, grade_id: str) -> dict:
        return self.tests.setdefault(grade_id, {"results": {}, "visible": None})

    def _define_tests(self, tests: TestsCell, *, first_time: bool):
        """The visible part (its output kept the first time) and the probes, next to the student code."""
        if first_time:
            reply, _ = self.box.request({"op": "define", "source": tests.visible}, deadline=self._deadline())
            self._record(tests.grade_id)["visible"] = _outputs(reply)
            self.box.request({"op": "define", "source": tests.probe_source}, deadline=self._deadline())
        else:
            self.box.request({"op": "define", "source": tests.visible + "\n" + tests.probe_source},
                             deadline=self._deadline())

    def _replay(self, upto: int):
        for i, step in enumerate(self.plan.steps[:upto]):
            if i in self.skip_steps:
                continue
            if step.kind == "tests":
                self._define_tests(self.instructor.tests_cell(step.grade_id), first_time=False)
            else:
                self.box.request({"op": "cell", "source": step.source}, deadline=self._deadline())

    def _run_step(self, i: int):
        step = self.plan.steps[i]
        if step.kind != "tests":
            if i not in self.skip_steps:
                reply, _ = self.box.request({"op": "cell", "source": step.source}, deadline=self._deadline())
                self.steps[i] = _outputs(reply)
            return
        tests = self.instructor.tests_cell(step.grade_id)
        record = self._record(tests.grade_id)
        self._define_tests(tests, first_time=record["visible"] is None)

        def on_result(name, passed, message):
            record["results"][name] = [passed, message]

        # tests already decided (before a crash) are not run again
        run_hidden_tests(tests, self.lang, self.instructor.student_names, self._call, set(record["results"]),
                         on_result)

    def _blame(self, position: int, why: str):
        """The step (or the hidden test) that was running when the sandbox died fails, once."""
        step = self.plan.steps[position]
        if step.kind != "tests":
            self.skip_steps.add(position)
            note = say("cell_crashed", self.lang, why=why)
            self.steps[position] = {"stdout": "", "stderr": "", "result": None,
                                    "error": ["SandboxDied", note, note]}
            return
        results = self._record(step.grade_id)["results"]
        pending = [n for n in self.instructor.tests_cell(step.grade_id).test_names if n not in results]
        if pending:
            results[pending[0]] = [False, why]
        else:
            self.skip_steps.add(position)

    def _give_up(self, position: int):
        why = say("crash:budget", self.lang)
        for step in self.plan.steps[position:]:
            if step.kind == "tests":
                results = self._record(step.grade_id)["results"]
                for name in self.instructor.tests_cell(step.grade_id).test_names:
                    results.setdefault(name, [False, why])

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
