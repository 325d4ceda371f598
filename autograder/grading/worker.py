"""The untrusted side: a warm zygote that forks one sandboxed process per submission.

The zygote imports JAX, NumPy and IPython once; each fork starts grading with
them loaded. A forked child isolates itself (``sandbox.enter``), forks the
process that runs student code (pid 1 of a new pid namespace, so that when it
ends every process the submission started ends with it), waits for it and
reports how it ended on a status channel the student process cannot reach.

The student process executes cells in an IPython shell and answers requests
from the trusted grader: run a cell, define probes, call a function with data.
Nothing in here decides a grade.
"""
from __future__ import annotations

import array
import io
import json
import os
import signal
import socket
import sys
import time
import traceback
from pathlib import Path


from autograder.grading import sandbox, wire

# What student code usually needs, loaded once in the zygote and shared by every fork.
import jax
import jax.numpy
# Probes import it, and the sandbox cannot see the repository to import it from.
import autograder.grading.checks  # noqa: F401
from IPython.core.interactiveshell import InteractiveShell


class CappedText(io.TextIOBase):
    """A stdout/stderr that keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int):
        self.cap, self.parts, self.kept, self.dropped = cap, [], 0, 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        room = self.cap - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[... {self.dropped} more characters of output dropped]\n"
        return out


def process_count() -> int:
    """Processes in this pid namespace (inside a sandbox: the sandbox's own)."""
    try:
        return sum(1 for name in os.listdir("/proc") if name.isdigit())
    except OSError:
        return 0


class StudentRuntime:
    def __init__(self, sock, output_chars: int, process_limit: int = 0):
        self.sock, self.cap, self.process_limit = sock, output_chars, process_limit
        self.shell = InteractiveShell.instance(history_length=0)
        self.shell.history_manager.enabled = False
        self.shell.displayhook.write_output_prompt = lambda: None
        self.shell.displayhook.write_format_data = lambda *a, **k: None
        self.shell.colors = "NoColor"
        self._tb = None
        self.shell._showtraceback = self._keep_traceback

    def _keep_traceback(self, etype, evalue, stb):
        self._tb = (getattr(etype, "__name__", str(etype)), str(evalue)[:2000], "\n".join(stb)[-self.cap:])

    def _captured(self, fn):
        out, err = CappedText(self.cap), CappedText(self.cap)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            result = fn()
        finally:
            sys.stdout, sys.stderr = saved
        return result, out.text(), err.text()

    def run_cell(self, source: str) -> dict:
        self._tb = None
        result, out, err = self._captured(lambda: self.shell.run_cell(source, store_history=False))
        reply = {"stdout": out, "stderr": err, "error": None, "result": None}
        if self._tb is not None:
            reply["error"] = list(self._tb)
        elif getattr(result, "result", None) is not None:
            try:
                reply["result"] = repr(result.result)[: self.cap]
            except Exception as exc:  # noqa: BLE001 -- a hostile __repr__ costs only the display
                reply["result"] = f"<unprintable {type(result.result).__name__}: {exc}>"
        return reply

    def call(self, name: str, args, kwargs) -> tuple[dict, list[bytes]]:
        fn = self.shell.user_ns.get(name)
        if fn is None:
            return {"error": ["NameError", f"name {name!r} is not defined"]}, []
        if not callable(fn):
            return {"error": ["TypeError", f"{name!r} is a {type(fn).__name__}, not a function"]}, []

        def invoke():
            try:
                return ("ok", fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 -- any failure of student code is reported
                if isinstance(exc, (SystemExit, KeyboardInterrupt)):
                    return ("error", [type(exc).__name__, f"{type(exc).__name__} raised inside {name}"])
                return ("error", [type(exc).__name__, str(exc)[:2000]])

        (status, value), _, _ = self._captured(invoke)
        if status == "error":
            return {"error": value}, []
        blobs: list[bytes] = []
        try:
            return {"value": wire.encode(value, blobs, where=f"the value {name} returned")}, blobs
        except wire.WireError as exc:
            return {"error": ["TypeError", str(exc)]}, []

    def _answer(self, reply: dict, blobs=()) -> None:
        # A step that leaves more processes running than allowed does not answer: the
        # supervisor kills the sandbox while this step is in flight, so the step that
        # started them is the one blamed, however late the supervisor looks.
        while self.process_limit and process_count() > self.process_limit:
            time.sleep(0.05)
        wire.send(self.sock, reply, list(blobs))

    def serve(self) -> None:
        while True:
            try:
                request, blobs = wire.recv(self.sock)
            except wire.WireError:
                return
            op = request.get("op")
            if op == "cell" or op == "define":
                self._answer(self.run_cell(str(request.get("source", ""))))
            elif op == "call":
                try:
                    args = wire.decode(request["args"], blobs, to_jax=wire.to_jax)
                    kwargs = wire.decode(request["kwargs"], blobs, to_jax=wire.to_jax)
                except (wire.WireError, KeyError) as exc:
                    self._answer({"error": ["WireError", str(exc)]})
                    continue
                self._answer(*self.call(str(request.get("name")), args, kwargs))
            else:
                return


# ------------------------------------------------------------------ processes


def _use_compilation_cache(path: str, writable: bool) -> None:
    jax.config.update("jax_compilation_cache_dir", path)
    # A read-only cache is only read: with no compile long enough to be written, JAX tries no
    # write, so student cells do not fill up with warnings about the read-only folder.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0 if writable else 1e9)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def _student_process(sock, limits: sandbox.Limits, isolated: bool, root: str, cache: bool,
                     cache_writable: bool = False) -> None:
    """Pid 1 of the sandbox: never returns."""
    code = 0
    try:
        sandbox.die_with_parent()
        if isolated:
            sandbox.finish_in_pid1()
        else:
            os.setsid()  # its own process group, so that the supervisor can kill all it started
            os.chdir(os.path.join(root, "work"))
        os.environ.clear()
        os.environ.update(sandbox.environment())
        if not isolated:
            os.environ.update({"HOME": os.getcwd(), "TMPDIR": os.path.join(root, "tmp")})
        sandbox.apply_limits(limits)
        if cache:
            _use_compilation_cache(sandbox.CACHE_MOUNT, cache_writable)
        runtime = StudentRuntime(sock, limits.output_kb * 1024, limits.processes if isolated else 0)
        # The inherited descriptors 1 and 2 are the grader's console: what student code writes
        # there directly (os.write, C libraries) would pass for the grader's own log lines.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        runtime.serve()
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        code = 70
    finally:
        os._exit(code)


def describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"signal:{name}"
    return f"exit:{os.WEXITSTATUS(status)}"


def _watch_process_count(pid: int, limit: int) -> tuple[int, bool]:
    """Wait for the student process; kill the sandbox if it runs more than ``limit`` processes.

    This count of the sandbox's own /proc (its pid namespace only) is the process
    limit; RLIMIT_NPROC would count the grader's whole uid and ignores root.
    """
    while True:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            return st, False
        if process_count() > limit:
            os.kill(pid, signal.SIGKILL)  # pid 1 of the namespace: every process in it dies
            _, st = os.waitpid(pid, 0)
            return st, True
        time.sleep(0.02)


def _sandbox_child(data_fd: int, status_fd: int, job: dict) -> None:
    """The supervisor: isolate, start the student process, report how it ended."""
    data = socket.socket(fileno=data_fd)
    status = socket.socket(fileno=status_fd)
    limits = sandbox.Limits.from_dict(job["limits"])
    root = job["root"]
    isolated = bool(job["isolate"])
    try:
        if isolated:
            cache = (job["cache"], bool(job.get("cache_writable"))) if job.get("cache") else None
            sandbox.enter(Path(root), Path(job["files"]) if job.get("files") else None, limits, cache,
                          tuple(job.get("hide") or ()))
        else:
            os.setsid()
            os.makedirs(os.path.join(root, "work"), exist_ok=True)
            os.makedirs(os.path.join(root, "tmp"), exist_ok=True)
            if job.get("files"):
                sandbox.copy_own_files(Path(job["files"]), Path(root) / "work")
    except Exception as exc:  # noqa: BLE001
        wire.send(status, {"ended": "setup-failed", "detail": str(exc)})
        os._exit(1)
    pid = os.fork()
    if pid == 0:
        status.close()
        _student_process(data, limits, isolated, root, bool(isolated and job.get("cache")),
                         bool(job.get("cache_writable")))
    data.close()
    ended = None
    if isolated:
        st, over = _watch_process_count(pid, limits.processes)
        ended = "limit:processes" if over else None
    else:
        _, st = os.waitpid(pid, 0)
    if not isolated:
        try:
            os.killpg(pid, signal.SIGKILL)  # whatever it started in its session
        except ProcessLookupError:
            pass
    try:
        wire.send(status, {"ended": ended or describe_exit(st)})
    except OSError:
        pass
    os._exit(0)


def zygote(control_fd: int) -> None:
    """Serve spawn requests: each carries two sockets (data, status) and a job description.

    A job names the submission's folder (and so the student); the zygote keeps no job
    in its heap, where every later fork could read it: it receives into one buffer,
    leaves the parsing to the child and wipes the buffer once the child is forked.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    control = socket.socket(fileno=control_fd)
    buf = bytearray(1 << 16)
    fd_space = socket.CMSG_SPACE(2 * array.array("i").itemsize)
    while True:
        try:
            size, ancdata, _, _ = control.recvmsg_into([buf], fd_space)
        except OSError:
            return
        if not size:
            return
        fds = array.array("i")
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            job = json.loads(bytes(buf[:size]))
            buf[:] = bytes(len(buf))
            _sandbox_child(fds[0], fds[1], job)
        buf[:size] = bytes(size)
        for fd in fds:
            os.close(fd)
        control.sendall(f"{pid}\n".encode())


if __name__ == "__main__":
    # Objects loaded so far are shared with every fork; keeping the collector off them spares
    # each sandbox from copying those pages when it runs (copy-on-write).
    import gc

    gc.collect()
    gc.freeze()
    zygote(int(sys.argv[1]))
