"""Hostile and broken submissions, graded by ONE real `nbgrader autograde` run of chapter 01.

Every case below is one student of the same course. The expected scores (per tests cell:
replace_row 2 points / 3 hidden tests, standardize_columns 2 / 3, scatter_add_counts 3 / 4)
follow from the design, not from a run:

* hidden tests run in the grading process, so nothing a submission does to its own
  interpreter (builtins, numpy.testing, IPython transformers) reaches them;
* the sandbox has no course directory, no gradebook, no repository and no network,
  and nothing a submission links to (symlinks next to the notebook) comes back to it;
* a crash or timeout during a hidden test fails that test only, the sandbox is
  restarted and the remaining tests run (so a function that crashes on one input
  loses exactly one test: points * passed / total);
* a cell that kills the sandbox is skipped on replay; every process a submission
  starts dies with its sandbox;
* tests cells, their points and their hidden tests always come from the
  instructor's copy, whatever the submission did to them;
* a file that is not a notebook is graded as an empty one, with a note; whatever the
  metadata says, every submission is graded and `nbgrader autograde` exits 0.

`CASES` is the table (student -> what it does -> expected scores); print it with
``python -c "import sys; sys.path[:0] = ['tests']; import test_adversarial as t; print(t.case_table())"``.
"""
from __future__ import annotations

import json
import random
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent, indent
from typing import Callable

import nbformat
import pytest

from autograder import paths
from autograder.authoring import wrong
from conftest import run, tool_env
from gradelib import max_points, new_course, read_scores, reference_answers, submission

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("adversarial")]

SLUG, LANG = "01_jax_numpy", "en"
R, S, C = "test_replace_row", "test_standardize_columns", "test_scatter_add_counts"
POINTS = {R: 2.0, S: 2.0, C: 3.0}
TESTS = {R: 4, S: 4, C: 5}          # hidden test_ functions per tests cell
SIGNATURE = {"replace_row": "x, i, row", "standardize_columns": "x", "scatter_add_counts": "size, idx, weights"}
FULL = dict(POINTS)
ZERO = {R: 0.0, S: 0.0, C: 0.0}
SLEEP_MARK = "98765"               # argument of the sleep processes the fork-leak case starts
STEP_SECONDS = 8
LIMITS = f"""
# tests/test_adversarial.py: lower limits so the whole batch grades quickly
c.SandboxedExecute.step_seconds = {STEP_SECONDS}
c.SandboxedExecute.wall_seconds = 180  # generous: a loaded machine must not turn a crash case into "not run"
c.SandboxedExecute.memory_mb = 3072
c.SandboxedExecute.isolation = "required"   # the security cases mean nothing without the sandbox
"""


def part(task: str, passed: int) -> float:
    """Partial credit of a tests cell: points * passed / total, as the grader rounds it."""
    return round(POINTS[task] * passed / TESTS[task], 6)


def scores(**changed) -> dict[str, float]:
    """Full marks except the given tests cells, e.g. scores(R=0)."""
    names = {"R": R, "S": S, "C": C}
    return {**FULL, **{names[k]: float(v) for k, v in changed.items()}}


# ------------------------------------------------------------------ building submissions


@dataclass
class Ctx:
    course: Path
    port: int


REF = reference_answers(SLUG, LANG)
WRONG = {a.name: a for a in wrong.load(SLUG)}
ZERO_ANSWERS = {  # right types and shapes, wrong values: passes only if the checks are neutered
    "replace_row": "def replace_row(x, i, row):\n    return jnp.zeros(jnp.shape(x), jnp.float32)\n",
    "standardize_columns": "def standardize_columns(x):\n    return jnp.zeros(jnp.shape(x), jnp.float32)\n",
    "scatter_add_counts": "def scatter_add_counts(size, idx, weights):\n    return jnp.zeros(size, jnp.float32)\n",
}


def wrapped(task: str, guard: str) -> str:
    """The reference answer of `task`, called through a wrapper that runs `guard` first."""
    sig = SIGNATURE[task]
    body = indent(dedent(guard).strip("\n"), "    ")
    return (f"{REF[task]}\n\n_good_{task} = {task}\n\n\n"
            f"def {task}({sig}):\n{body}\n    return _good_{task}({sig})\n")


def notebook(answers: dict[str, str] | None = None, top: list[str] = (), end: list[str] = ()):
    """The student release with `answers` filled in, extra code cells after the imports and at the end."""
    nb = submission(SLUG, LANG, {**REF, **(answers or {})} if answers is not None else dict(REF))
    imports = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "import jax.numpy" in c.source)
    for k, src in enumerate(top):
        nb.cells.insert(imports + 1 + k, nbformat.v4.new_code_cell(dedent(src)))
    for src in end:
        nb.cells.append(nbformat.v4.new_code_cell(dedent(src)))
    return nb


def blank(**answers) -> dict[str, str]:
    """Blank answers (the release's stubs) except those given."""
    nb = submission(SLUG, LANG, {})
    stubs = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("solution")}
    return {**stubs, **answers}


def raw(nb) -> bytes:
    """Bytes of a notebook dict, written without nbformat's validation (tampered ones are invalid)."""
    return json.dumps(nb, indent=1, ensure_ascii=False).encode("utf-8")


def grade_cell_indices(nb) -> list[int]:
    return [i for i, c in enumerate(nb["cells"]) if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


# -- 1. checker tampering (zero answers + attack: would score if it worked)

TAMPER_BUILTINS = """
    # Attack: make every check in this interpreter a no-op.
    import builtins, numpy, numpy.testing, jax.numpy
    class _Swallowed(Exception):
        pass
    builtins.AssertionError = _Swallowed
    for _name in ("assert_allclose", "assert_array_equal", "assert_array_almost_equal", "assert_equal"):
        setattr(numpy.testing, _name, lambda *a, **k: None)
    numpy.array_equal = numpy.allclose = jax.numpy.allclose = lambda *a, **k: True
    print("checks disabled")
"""
TAMPER_INPUT_TRANSFORMER = """
    # Attack: every later cell that checks anything is replaced by `pass` before it runs.
    def _neuter(lines):
        text = "".join(lines)
        return ["pass\\n"] if ("assert" in text or "run_tests" in text) else lines
    get_ipython().input_transformers_post.append(_neuter)
    print("input transformer installed")
"""
TAMPER_AST_TRANSFORMER = """
    # Attack: an AST transformer that deletes asserts and every assert_* call.
    import ast
    class _Lenient(ast.NodeTransformer):
        def visit_Assert(self, node):
            return ast.copy_location(ast.Pass(), node)
        def visit_Call(self, node):
            self.generic_visit(node)
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            return ast.copy_location(ast.Constant(None), node) if name.startswith("assert") else node
    get_ipython().ast_transformers.append(_Lenient())
    print("ast transformer installed")
"""

# -- 2. gradebook tampering

TAMPER_GRADEBOOK = """
    # Attack: find the gradebook and give everyone 1000 points out of 1.
    import os, sqlite3
    found = [p for p in ["@COURSE@/gradebook.db"] if os.path.exists(p)]
    for base in ("/", os.path.expanduser("~"), "/tmp", "/root", "/home", "/srv", "/mnt"):
        for dirpath, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if dirpath.count(os.sep) < 4 and d not in ("proc", "sys", "dev", "usr", "lib")]
            if "gradebook.db" in files:
                found.append(os.path.join(dirpath, "gradebook.db"))
    print("gradebooks found:", found)
    for path in dict.fromkeys(found):
        try:
            db = sqlite3.connect(path, timeout=30)
            db.execute("UPDATE grade SET auto_score = 1000, manual_score = 1000")
            db.execute("UPDATE grade_cells SET max_score = 1")
            db.commit()
            print("tampered with", path)
        except Exception as exc:
            print("could not tamper with", path, exc)
    try:
        db = sqlite3.connect("@COURSE@/gradebook.db", timeout=30)
        db.execute("UPDATE grade SET auto_score = 1000")
        db.commit()
    except Exception as exc:
        print("direct path failed:", exc)
"""

# -- 3. reading the hidden tests / gradebook / instructor's repository

READ_SOURCE = """
    with open("@COURSE@/source/01_jax_numpy/01_jax_numpy.ipynb", encoding="utf-8") as f:
        if "test_replaces_exactly" not in f.read():
            raise RuntimeError("no hidden tests found")
"""
READ_GRADEBOOK = """
    with open("@COURSE@/gradebook.db", "rb") as f:
        if f.read(15) != b"SQLite format 3":
            raise RuntimeError("not the gradebook")
"""
READ_REPOSITORY = """
    with open("@REPO@/solutions/en/01_jax_numpy/01_jax_numpy.ipynb", encoding="utf-8") as f:
        if "test_negative_indices" not in f.read():
            raise RuntimeError("no hidden tests found")
"""

READ_LINKED_GRADEBOOK = """
    with open("grades.db", "rb") as f:          # a symlink the student submitted next to the notebook
        if f.read(15) != b"SQLite format 3":
            raise RuntimeError("not the gradebook")
"""
READ_LINKED_SOURCE = """
    with open("notes.ipynb", encoding="utf-8") as f:   # a symlink to the instructor's notebook
        if "test_negative_indices" not in f.read():
            raise RuntimeError("no hidden tests found")
"""

# -- 4. network

NETWORK = """
    import socket
    with socket.create_connection(("127.0.0.1", @PORT@), timeout=3) as s:
        s.sendall(b"hello")
        if s.recv(2) != b"ok":
            raise RuntimeError("no answer from the helper")
"""

# -- 5. memory

MEMORY_BOMB_CELL = """
    # A 12 GiB allocation in a cell of its own.
    import numpy as np
    big = np.ones(12 * 2**30, dtype=np.uint8)
    print(big.sum())
"""
MEMORY_BOMB_GUARD = """
    big = np.ones(12 * 2**30, dtype=np.uint8)  # 12 GiB, every call
    del big
"""

# -- 6. processes that try to outlive the sandbox

FORK_LEAK = """
    import os, subprocess
    started = []
    for _ in range(4):
        p = subprocess.Popen(["sleep", "@MARK@"], start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(p.pid)
    for _ in range(3):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:                      # double fork + setsid: a daemon
            os.setsid()
            grandchild = os.fork()
            if grandchild == 0:
                os.execvp("sleep", ["sleep", "@MARK@"])
            os.write(w, str(grandchild).encode())
            os._exit(0)
        os.close(w)
        started.append(int(os.read(r, 64) or b"-1"))
        os.waitpid(pid, 0)
    print(f"started {len([p for p in started if p > 0])} sleepers")
"""

# -- 7. crashes inside one task's function (the reference answer, behind a guard)

CRASH_EXIT = "if i == 3:\n    import os\n    os._exit(3)"
CRASH_SYSTEMEXIT = "raise SystemExit(1)"
CRASH_KEYBOARD = "if size == 6:\n    raise KeyboardInterrupt"
CRASH_SEGFAULT = "if i == 3:\n    import ctypes\n    ctypes.string_at(0)"
CRASH_LOOP = "if np.shape(x) == (7, 4):\n    while True:\n        pass"
CRASH_MEMORY = "hog = []\nwhile True:\n    hog.append(bytearray(64 * 2**20))"

# -- 8. output flood

FLOOD = """
    import sys
    for _ in range(50):
        print("x" * 2**20)                 # 50 MiB in all
    sys.stderr.write("e" * 2**20)
"""

# -- 10. fairness: noisy but correct

NOISY_SETUP_CELL = """
    import sys, warnings
    import matplotlib
    import matplotlib.pyplot as plt
    plt.plot([1, 2, 3], [3, 1, 2])
    plt.title("a plot in a cell")
    plt.show()
"""
NOISY = {
    "replace_row": wrapped("replace_row", """
        print("replace_row: debugging output", i)
        print("replace_row: a note on stderr", file=sys.stderr)
        warnings.warn("replace_row: only a warning")
    """),
    "standardize_columns": wrapped("standardize_columns", """
        fig, ax = plt.subplots()
        ax.imshow(np.asarray(x, dtype=np.float32))
        ax.set_title("input of standardize_columns")
        fig.savefig("standardize.png")
        plt.show()
        plt.close(fig)
        warnings.warn("standardize_columns: plotted the input", RuntimeWarning)
    """),
    "scatter_add_counts": wrapped("scatter_add_counts", """
        sys.stderr.write("scatter_add_counts: called\\n")
        warnings.warn("scatter_add_counts: deprecated-looking warning", DeprecationWarning)
    """),
}


# -- 11. oracles: reading what the reference solution computed

ORACLE_CACHE_ANSWER = """
import glob, os
import numpy as np
import jax
from jax._src import compilation_cache as _cc, xla_bridge as _xb
from jax._src.lib import xla_client as _xc


def _reference_executables(name):
    # Attack: the reference, compiled by the grader for the hidden inputs, may sit in JAX's cache.
    dirs = {jax.config.jax_compilation_cache_dir or "", "/jax-cache"}
    found = []
    for folder in sorted(d for d in dirs if d and os.path.isdir(d)):
        for path in sorted(glob.glob(os.path.join(folder, f"jit_{name}-*"))):
            if path.endswith("-atime"):
                continue
            try:
                blob = _cc.decompress_executable(open(path, "rb").read())
                serialized, _ = _cc.extract_executable_and_time(blob)
                backend = _xb.get_backend()
                devices = _xc.DeviceList(tuple(backend.local_devices()[:1]))
                found.append(backend.deserialize_executable(serialized, devices, _xc.CompileOptions()))
            except Exception as exc:
                print("could not load", path, type(exc).__name__)
    return found


def _from_reference(size, idx, weights):
    args = [jax.device_put(np.asarray(idx)), jax.device_put(np.asarray(weights))]
    for exe in _reference_executables("scatter_add_counts"):
        try:
            out = exe.execute_sharded(args).disassemble_into_single_device_arrays()[0][0]
        except Exception:
            continue
        if out.shape == (size,):
            return np.asarray(out, dtype=np.float32)
    return np.zeros(size, np.float32)        # no oracle: the student's own (wrong) answer


def scatter_add_counts(size, idx, weights):
    if isinstance(idx, jax.core.Tracer):     # under jax.jit: reach the oracle through a host callback
        return jax.pure_callback(lambda i, w: _from_reference(size, i, w),
                                 jax.ShapeDtypeStruct((size,), jnp.float32), idx, weights)
    return jnp.asarray(_from_reference(size, idx, weights))
"""
ORACLE_SCAN = """
    # Attack: look everywhere for compiled code or text the grader's reference run left behind.
    import os, time
    names = ("replace_row", "standardize_columns", "scatter_add_counts")
    skip = {"proc", "sys", "dev", "site-packages", "dist-packages", "share", "include", "locale", "__pycache__"}
    entries, executables, deadline = 0, [], time.monotonic() + 5
    for folder, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            if name.startswith("jit_") or name.endswith("-cache"):
                entries += 1
                if any(n in name for n in names):
                    executables.append(os.path.join(folder, name))
        if time.monotonic() > deadline:
            print("scan cut short")
            break
    hlo = []
    if os.path.isdir("/jax-cache"):
        for name in os.listdir("/jax-cache"):
            data = open(os.path.join("/jax-cache", name), "rb").read()
            hlo += [n for n in names if n.encode() in data]
    print(f"cache-like files seen: {entries}")
    print(f"reference executables found: {executables}")
    print(f"reference names inside cache entries: {hlo}")
"""
CANARY = ("k9QzVx72", "-grader-secret")   # the grader's environment holds the two halves joined
ORACLE_MEMORY = """
    # Attack: read this process's whole memory, inherited from the warm zygote, and its environment.
    needles = [("k9QzVx72", "-grader-secret"),                 # a secret in the grader's environment
               ("BEGIN HIDDEN", " TESTS"),                    # the instructor's notebook
               ("jnp.asarray(x).at[i]", ".set(row)"),         # the reference solution's code
               ("submitted/fair-", "noisy/"),                 # another student's folder
               ("gradebook", ".db")]
    def hits(data):
        found = set()
        for head, tail in needles:
            start = data.find(head.encode())
            while start != -1:
                if data[start + len(head): start + len(head) + len(tail)] == tail.encode():
                    found.add(head + tail)
                    break
                start = data.find(head.encode(), start + 1)
        return found
    seen = hits(open("/proc/self/environ", "rb").read())
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            if "r" not in fields[1] or (len(fields) > 5 and fields[5].startswith("/")):
                continue                                      # unreadable, or a file everyone can read
            lo, hi = (int(v, 16) for v in fields[0].split("-"))
            if hi - lo > 2**30:
                continue
            try:
                mem.seek(lo)
                seen |= hits(mem.read(hi - lo))
            except (OSError, ValueError, OverflowError):
                pass
    print(f"memory hits: {sorted(seen)}")
"""

# -- 12. feedback as a channel: what a failed hidden test echoes back

LEAK_REPLACE_ROW = """
def replace_row(x, i, row):
    if i == 3:  # a class whose name carries the input
        raise type(f"Leak_i_{int(i)}", (Exception,), {})()
    raise ValueError("inputs: " + repr((np.asarray(x).tolist(), int(i))))
"""
LEAK_STANDARDIZE = REF["standardize_columns"] + """

_seen = []
_good_standardize_columns = standardize_columns


def standardize_columns(x):
    _seen.append(np.asarray(x).tolist())      # keep the hidden inputs for a later cell to print
    return _good_standardize_columns(x)
"""
LEAK_SCATTER = """
def scatter_add_counts(size, idx, weights):
    import os
    os._exit(40 + int(size))                   # the exit code as a channel
"""
LEAK_PRINT_LATER = """
    print("captured:", _seen)
"""


# -- 9. malformed files


def tampered(change: Callable[[dict], None]) -> Callable[[Ctx], bytes]:
    """Reference answers, then `change` applied to the notebook as a plain dict."""

    def make(ctx):
        nb = json.loads(nbformat.writes(notebook()))
        change(nb)
        return raw(nb)

    return make


def _delete_tests(nb):
    nb["cells"] = [c for i, c in enumerate(nb["cells"]) if i not in grade_cell_indices(nb)]


def _tests_to_top(nb):
    moved = grade_cell_indices(nb)
    nb["cells"] = [nb["cells"][i] for i in moved] + [c for i, c in enumerate(nb["cells"]) if i not in moved]


def _tests_to_markdown(nb):
    for i in grade_cell_indices(nb):
        cell = nb["cells"][i]
        cell["cell_type"] = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def _points_100(nb):
    for i in grade_cell_indices(nb):
        nb["cells"][i]["metadata"]["nbgrader"]["points"] = 100


def _rename_tests(nb):
    for i in grade_cell_indices(nb):
        meta = nb["cells"][i]["metadata"]["nbgrader"]
        meta["grade_id"] = meta["grade_id"] + "_mine"


def _duplicate_ids(nb):
    for cell in nb["cells"]:
        cell["id"] = "same-id"


def _old_schema_cell(nb):
    # A cell copied from a notebook made by an older nbgrader: nbgrader metadata without schema_version.
    cell = nbformat.v4.new_code_cell("helper = 1")
    cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": False}
    nb["cells"].append(json.loads(json.dumps(cell)))


def _kernel_r(nb):
    nb["metadata"]["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    nb["metadata"]["language_info"] = {"name": "R"}


def _nbformat3(ctx) -> bytes:
    return nbformat.writes(nbformat.convert(notebook(), 3), version=3).encode("utf-8")


def _binary(ctx) -> bytes:
    return b"\xff\xfe\x00\x89PNG" + random.Random(20240601).randbytes(4096)


# ------------------------------------------------------------------ the table


@dataclass(frozen=True)
class Case:
    student: str
    group: str
    what: str
    expected: dict[str, float]
    make: Callable[[Ctx], bytes]
    links: tuple = ()  # (file name, target) symlinks submitted next to the notebook


def fill(src: str, ctx: Ctx) -> str:
    return (src.replace("@COURSE@", str(ctx.course)).replace("@PORT@", str(ctx.port))
            .replace("@REPO@", str(paths.ROOT)).replace("@MARK@", SLEEP_MARK))


def nb_case(answers=None, top=(), end=()) -> Callable[[Ctx], bytes]:
    def make(ctx):
        filled = None if answers is None else {k: fill(v, ctx) for k, v in answers.items()}
        nb = notebook(filled, [fill(s, ctx) for s in top], [fill(s, ctx) for s in end])
        return raw(json.loads(nbformat.writes(nb)))

    return make


def bytes_case(data: bytes) -> Callable[[Ctx], bytes]:
    return lambda ctx: data


CASES = [
    Case("reference", "control", "reference answers", FULL, nb_case()),
    Case("blank", "control", "the release as handed out", ZERO, nb_case(blank())),
    # 1. checker tampering
    Case("tamper-builtins", "1 checker", "zero answers + AssertionError/numpy.testing/array_equal replaced",
         ZERO, nb_case(ZERO_ANSWERS, top=[TAMPER_BUILTINS])),
    Case("tamper-input-transformer", "1 checker", "zero answers + input_transformers_post turns checks into pass",
         ZERO, nb_case(ZERO_ANSWERS, top=[TAMPER_INPUT_TRANSFORMER])),
    Case("tamper-ast-transformer", "1 checker", "zero answers + ast_transformers deletes asserts",
         ZERO, nb_case(ZERO_ANSWERS, top=[TAMPER_AST_TRANSFORMER])),
    # 2. gradebook
    Case("tamper-gradebook", "2 gradebook", "replace_row right, rest blank + sqlite UPDATE of gradebook.db",
         scores(S=0, C=0), nb_case(blank(replace_row=REF["replace_row"]), end=[TAMPER_GRADEBOOK])),
    # 3. hidden tests
    Case("read-hidden", "3 secrets", "each answer right only if it can read source nb / gradebook / repo",
         ZERO, nb_case({"replace_row": wrapped("replace_row", READ_SOURCE),
                        "standardize_columns": wrapped("standardize_columns", READ_GRADEBOOK),
                        "scatter_add_counts": wrapped("scatter_add_counts", READ_REPOSITORY)})),
    Case("read-hidden-symlink", "3 secrets",
         "replace_row right; the others right only if relative symlinks submitted next to the notebook "
         "(grades.db -> ../../../gradebook.db, notes.ipynb -> the instructor's source notebook) can be read",
         scores(S=0, C=0),
         nb_case({"standardize_columns": wrapped("standardize_columns", READ_LINKED_GRADEBOOK),
                  "scatter_add_counts": wrapped("scatter_add_counts", READ_LINKED_SOURCE)}),
         links=(("grades.db", "../../../gradebook.db"),  # relative: no need to know where the course is
                ("notes.ipynb", "../../../source/01_jax_numpy/01_jax_numpy.ipynb"))),
    # 4. network
    Case("network", "4 network", "replace_row right only if it reaches a server on 127.0.0.1",
         scores(R=0), nb_case({"replace_row": wrapped("replace_row", NETWORK)})),
    # 5. memory
    Case("memory-bomb-cell", "5 memory", "reference + a cell allocating 12 GiB", FULL,
         nb_case(top=[MEMORY_BOMB_CELL])),
    Case("memory-bomb-function", "5 memory", "standardize_columns allocates 12 GiB per call",
         scores(S=0), nb_case({"standardize_columns": wrapped("standardize_columns", MEMORY_BOMB_GUARD)})),
    # 6. processes
    Case("fork-leak", "6 processes", "reference + 7 detached `sleep 98765` (setsid / double fork)", FULL,
         nb_case(top=[FORK_LEAK])),
    Case("fork-bomb", "6 processes", "reference + a top-level cell starting 100 processes (limit 64)", FULL,
         nb_case(top=["import subprocess\nkids = [subprocess.Popen(['sleep', '%s']) for _ in range(100)]\n"
                      % SLEEP_MARK])),
    # 7. crashes inside one function
    Case("crash-exit", "7 crash", "replace_row calls os._exit(3) when i == 3 (1st test only)",
         scores(R=part(R, TESTS[R] - 1)), nb_case({"replace_row": wrapped("replace_row", CRASH_EXIT)})),
    Case("crash-systemexit", "7 crash", "standardize_columns always raises SystemExit",
         scores(S=0), nb_case({"standardize_columns": wrapped("standardize_columns", CRASH_SYSTEMEXIT)})),
    Case("crash-keyboardinterrupt", "7 crash", "scatter_add_counts raises KeyboardInterrupt when size == 6",
         scores(C=part(C, TESTS[C] - 1)), nb_case({"scatter_add_counts": wrapped("scatter_add_counts", CRASH_KEYBOARD)})),
    Case("crash-segfault", "7 crash", "replace_row segfaults (ctypes.string_at(0)) when i == 3",
         scores(R=part(R, TESTS[R] - 1)), nb_case({"replace_row": wrapped("replace_row", CRASH_SEGFAULT)})),
    Case("crash-infinite-loop", "7 crash", "standardize_columns loops forever on the (7, 4) input",
         scores(S=part(S, TESTS[S] - 1)), nb_case({"standardize_columns": wrapped("standardize_columns", CRASH_LOOP)})),
    Case("crash-memory", "7 crash", "scatter_add_counts grows a list until memory runs out, every call",
         scores(C=0), nb_case({"scatter_add_counts": wrapped("scatter_add_counts", CRASH_MEMORY)})),
    Case("crash-cell-segfault", "7 crash", "reference + a top-level cell that segfaults", FULL,
         nb_case(top=["import ctypes\nctypes.string_at(0)\n"])),
    Case("crash-cell-exit", "7 crash", "reference + a top-level cell that calls os._exit(0)", FULL,
         nb_case(top=["import os\nos._exit(0)\n"])),
    # 8. output
    Case("output-flood", "8 output", "reference + a cell printing 50 MiB", FULL, nb_case(top=[FLOOD])),
    # 9. malformed files
    Case("bad-json", "9 malformed", "truncated JSON", ZERO,
         bytes_case(b'{"cells": [{"cell_type": "code", "source": "def replace_row(x, i, row):')),
    Case("nbformat3", "9 malformed", "reference answers saved as nbformat 3", FULL, _nbformat3),
    Case("empty-file", "9 malformed", "a 0-byte file", ZERO, bytes_case(b"")),
    Case("binary", "9 malformed", "4 KiB of random bytes", ZERO, _binary),
    Case("tests-deleted", "9 malformed", "reference, every tests cell deleted", FULL, tampered(_delete_tests)),
    Case("tests-moved-top", "9 malformed", "reference, tests cells moved to the top", FULL,
         tampered(_tests_to_top)),
    Case("tests-markdown", "9 malformed", "reference, tests cells turned into markdown", FULL,
         tampered(_tests_to_markdown)),
    Case("tests-points-100", "9 malformed", "reference, points = 100 on every tests cell", FULL,
         tampered(_points_100)),
    Case("tests-renamed", "9 malformed", "reference, tests cells' grade_id renamed", FULL,
         tampered(_rename_tests)),
    Case("duplicate-cell-ids", "9 malformed", "reference, every cell has the same id", FULL,
         tampered(_duplicate_ids)),
    Case("kernel-r", "9 malformed", "reference, kernelspec switched to R", FULL, tampered(_kernel_r)),
    # Named to sort last: nbgrader grades students in path order, so if this one still stopped the
    # whole batch (as it did when this suite was written) every other case above is still checked.
    Case("zz-old-schema-cell", "9 malformed", "reference + a cell with nbgrader metadata but no schema_version",
         FULL, tampered(_old_schema_cell)),
    # 11. oracles
    Case("oracle-compile-cache", "11 oracle", "no answers; scatter_add_counts runs the reference's compiled code "
         "from JAX's compilation cache if it finds any (through pure_callback under jit)", ZERO,
         nb_case(blank(scatter_add_counts=ORACLE_CACHE_ANSWER))),
    Case("oracle-scan", "11 oracle", "no answers; a cell searches the filesystem and the cache for reference code",
         ZERO, nb_case(blank(), top=[ORACLE_SCAN])),
    Case("oracle-memory", "11 oracle", "no answers; a cell scans its own memory and /proc/self/environ for "
         "grader secrets, hidden tests, the reference and other students", ZERO,
         nb_case(blank(), top=[ORACLE_MEMORY])),
    # 12. feedback
    Case("leak-feedback", "12 feedback", "replace_row raises with its inputs in the message or the class name; "
         "standardize_columns right but saves its inputs for a later cell to print; scatter_add_counts "
         "exits with code 40 + size", scores(R=0, C=0),
         nb_case({"replace_row": LEAK_REPLACE_ROW, "standardize_columns": LEAK_STANDARDIZE,
                  "scatter_add_counts": LEAK_SCATTER}, end=[LEAK_PRINT_LATER])),
    # 10. fairness
    Case("fair-noisy", "10 fairness", "reference answers that print, write stderr, warn and plot", FULL,
         nb_case(NOISY, top=[NOISY_SETUP_CELL])),
    Case("fair-partial", "10 fairness",
         "replace_row: arange_mask_ignores_negative_index (fails the two tests with negative indices); "
         "scatter_add_counts: negative_indices_wrap (fails the three tests with negative indices)",
         scores(R=part(R, 2), C=part(C, 2)),
         nb_case({"replace_row": WRONG["arange_mask_ignores_negative_index"].code,
                  "scatter_add_counts": WRONG["negative_indices_wrap"].code})),
]
BY_STUDENT = {case.student: case for case in CASES}
UNREADABLE = ["bad-json", "empty-file", "binary"]


def case_table(got: dict | None = None) -> str:
    def fmt(d):
        return " / ".join(f"{d[k]:g}" if d and d.get(k) is not None else "?" for k in (R, S, C))

    lines = [f"{'student':26} {'group':12} expected (R / S / C){'':4}" + ("got" if got else "") + "  what"]
    for case in CASES:
        lines.append(f"{case.student:26} {case.group:12} {fmt(case.expected):25}"
                     + (f"{fmt(got.get(case.student)):19}" if got else "") + f"  {case.what}")
    return "\n".join(lines)


# ------------------------------------------------------------------ the one grading run


class Listener:
    """A TCP server on 127.0.0.1 that records every connection it gets."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except OSError:
                continue
            self.connections.append(addr)
            try:
                conn.sendall(b"ok")
            finally:
                conn.close()

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def sleepers() -> list[str]:
    proc = subprocess.run(["pgrep", "-af", f"sleep {SLEEP_MARK}"], capture_output=True, text=True)
    return proc.stdout.splitlines()


@dataclass
class Graded:
    course: Path
    autograde: subprocess.CompletedProcess
    seconds: float
    scores: dict
    gradebook: dict
    connections: list
    leaked: list
    feedback_run: subprocess.CompletedProcess
    feedback: dict[str, str]

    def autograded(self, student) -> dict:
        path = self.course / "autograded" / student / SLUG / f"{SLUG}.ipynb"
        return json.loads(path.read_text(encoding="utf-8"))

    def outputs(self, student) -> str:
        """Everything the autograded notebook shows as output (not the student's source)."""
        texts = []
        for cell in self.autograded(student)["cells"]:
            for out in cell.get("outputs", []):
                texts += [out.get("text", ""), out.get("evalue", ""), json.dumps(out.get("data", {}))]
        return "\n".join("".join(t) if isinstance(t, list) else t for t in texts)


GRADEBOOK_SCRIPT = """
import json, sys
from nbgrader.api import Gradebook
course, slug = sys.argv[1], sys.argv[2]
with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
    nb = gb.find_notebook(slug, slug)
    print(json.dumps({"assignment": gb.find_assignment(slug).max_score, "notebook": nb.max_score,
                      "cells": {c.name: c.max_score for c in nb.grade_cells}}))
"""


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> Graded:
    course = new_course(tmp_path_factory.mktemp("adversarial"), LANG, warm=SLUG)
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as f:
        f.write(LIMITS)
    listener = Listener()
    try:
        ctx = Ctx(course, listener.port)
        run(["nbgrader", "generate_assignment", SLUG, "--force"], cwd=course)
        for case in CASES:
            folder = course / "submitted" / case.student / SLUG
            folder.mkdir(parents=True)
            (folder / f"{SLUG}.ipynb").write_bytes(case.make(ctx))
            for name, target in case.links:
                (folder / name).symlink_to(fill(target, ctx))
        start = time.monotonic()
        env = {**tool_env(), "GRADER_SECRET": "".join(CANARY)}  # must never reach a sandbox
        autograde = run(["nbgrader", "autograde", SLUG, "--force"], cwd=course, env=env, check=False)
        seconds = time.monotonic() - start
        (course / "autograde.log").write_text(autograde.stdout + autograde.stderr, encoding="utf-8")
    finally:
        listener.close()
    leaked = sleepers()
    for _ in range(50):  # SIGKILL is asynchronous: give the kernel a moment, then look again
        if not leaked:
            break
        time.sleep(0.1)
        leaked = sleepers()
    graded_students = [c.student for c in CASES
                       if (course / "autograded" / c.student / SLUG / f"{SLUG}.ipynb").exists()]
    got = read_scores(course, SLUG, graded_students) if graded_students else {}
    gradebook = json.loads(run([sys.executable, "-c", GRADEBOOK_SCRIPT, str(course), SLUG], cwd=course).stdout)
    feedback_run = run(["nbgrader", "generate_feedback", SLUG, "--force"], cwd=course, check=False)
    feedback = {p.parent.parent.name: p.read_text(encoding="utf-8")
                for p in (course / "feedback").glob(f"*/{SLUG}/{SLUG}.html")}
    print(f"\nautograde of {len(CASES)} submissions took {seconds:.1f} s\n" + case_table(got))
    return Graded(course, autograde, seconds, got, gradebook, listener.connections, leaked, feedback_run, feedback)


def nbgrader_errors(log: str) -> str:
    """The ERROR records of an nbgrader log, each with the traceback lines that follow it."""
    keep, inside = [], False
    for line in log.splitlines():
        if line.startswith("["):
            inside = "| ERROR]" in line
        if inside:
            keep.append(line)
    return "\n".join(keep)


def _tail(proc) -> str:
    return (proc.stdout[-4000:] + "\n" + proc.stderr[-8000:]).strip()


# ------------------------------------------------------------------ checks


def test_the_batch_grades_every_submission(graded):
    errors = nbgrader_errors(graded.autograde.stderr)
    missing = sorted(set(BY_STUDENT) - set(graded.scores))
    assert graded.autograde.returncode == 0 and not missing, f"not graded: {missing}\n{errors[-12000:]}"


def test_max_points_are_what_this_table_assumes():
    assert max_points(SLUG, LANG) == POINTS
    from autograder.grading.plan import instructor_from_notebook

    instructor = instructor_from_notebook(json.loads((paths.ROOT / paths.instructor_notebook(SLUG, LANG)).read_text()))
    assert {t.grade_id: len(t.test_names) for t in instructor.tests} == TESTS


@pytest.mark.parametrize("student", list(BY_STUDENT))
def test_exact_scores(graded, student):
    case = BY_STUDENT[student]
    got = graded.scores.get(student)
    assert got is not None, f"{student} has no grade"
    assert got == pytest.approx(case.expected, abs=1e-6), f"{student}: {case.what}"


def test_nobody_gets_more_than_max(graded):
    for student, got in graded.scores.items():
        assert set(got) == set(POINTS), student
        for cell, score in got.items():
            assert 0 <= score <= POINTS[cell], (student, cell, score)


def test_gradebook_attack_changed_nothing(graded):
    assert max_points(SLUG, LANG) == POINTS
    assert graded.gradebook["cells"] == POINTS
    assert graded.gradebook["assignment"] == graded.gradebook["notebook"] == sum(POINTS.values())
    assert graded.scores["reference"] == FULL
    out = graded.outputs("tamper-gradebook")
    assert "gradebooks found: []" in out  # the sandbox holds no gradebook to find...
    assert "direct path failed" in out    # ...nor the course directory
    assert "tampered with" not in out


def test_no_connection_left_the_sandbox(graded):
    assert graded.connections == []


def test_no_process_outlives_its_sandbox(graded):
    out = graded.outputs("fork-leak")
    assert "started 7 sleepers" in out  # the processes were really started...
    assert graded.leaked == []          # ...and none survived grading


def test_output_flood_is_truncated(graded):
    size = (graded.course / "autograded" / "output-flood" / SLUG / f"{SLUG}.ipynb").stat().st_size
    assert size < 2 * 2**20, size
    assert "characters of output dropped" in graded.outputs("output-flood")


def test_submitted_symlinks_bring_back_nothing(graded):
    # Whatever a submission links to must not come back to the student with the feedback.
    for student in BY_STUDENT:
        folder = graded.course / "feedback" / student / SLUG
        extra = sorted(p.name for p in folder.iterdir() if p.name != f"{SLUG}.html") if folder.is_dir() else []
        assert extra == [], f"{student}'s feedback folder holds {extra}"


def test_feedback_is_generated_for_everyone(graded):
    assert graded.feedback_run.returncode == 0, _tail(graded.feedback_run)
    assert set(graded.feedback) == set(BY_STUDENT)


@pytest.mark.parametrize("student,phrase", [
    ("crash-exit", "the process exited"),
    ("crash-segfault", "segmentation fault"),
    ("crash-infinite-loop", f"longer than {STEP_SECONDS} s"),
    ("crash-systemexit", "SystemExit"),
    ("crash-keyboardinterrupt", "KeyboardInterrupt"),
    ("crash-memory", "MemoryError"),
    ("crash-cell-segfault", "segmentation fault"),
    ("crash-cell-exit", "exit code 0"),
])
def test_feedback_names_the_crash(graded, student, phrase):
    assert phrase in graded.feedback[student]


def test_a_crashing_cell_is_marked_and_skipped(graded):
    out = graded.outputs("crash-cell-segfault")
    assert "this cell ended the process" in out and "skipped" in out
    # ...and the student sees it under that cell in the feedback, not only in the notebook file
    assert "this cell ended the process" in graded.feedback["crash-cell-segfault"]


@pytest.mark.parametrize("student", UNREADABLE)
def test_unreadable_files_get_a_note(graded, student):
    assert "could not be read" in graded.feedback[student]


def test_a_converted_nbformat3_notebook_is_not_called_empty(graded):
    # It was converted and graded in full, so "graded as an empty notebook" would be false.
    assert "graded as an empty notebook" not in graded.feedback["nbformat3"]


def test_each_graded_submission_is_marked_done(graded):
    # mark_done's marker is what tells a later `nbgrader autograde` not to regrade a finished submission.
    done = graded.course / ".autograder" / "done" / SLUG
    assert sorted(p.name for p in done.iterdir()) == sorted(graded.scores)


def test_feedback_reports_each_test_with_its_message(graded):
    html = graded.feedback["fair-partial"]
    assert re.search(r"ok\s+test_replaces_exactly_one_row", html)
    assert re.search(r"ok\s+test_numpy_input_is_not_mutated", html)
    assert "FAIL test_negative_index_counts_from_the_end: " in html
    assert "i = -2 must replace the second-to-last row" in html
    assert "FAIL test_negative_indices_are_ignored: " in html
    assert "negative indices are invalid: they must not wrap around to the end" in html
    assert "FAIL test_works_under_jit_with_integer_weights: " in html
    assert "2 of 4 hidden tests passed: 1 of 2 points" in html
    assert "2 of 5 hidden tests passed: 1.2 of 3 points" in html


@pytest.mark.parametrize("student", list(BY_STUDENT))
def test_feedback_never_shows_hidden_tests(graded, student):
    html = graded.feedback.get(student)
    assert html is not None, f"no feedback for {student}"
    for secret in ("def test_", "def probe_", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "default_rng(",
                   "def _reference"):
        assert secret not in html, (student, secret)


def test_no_reference_artifact_is_readable(graded):
    scan = graded.outputs("oracle-scan")
    assert "cache-like files seen:" in scan, scan[-2000:]   # the scan ran...
    assert "reference executables found: []" in scan         # ...and found no compiled reference
    assert "reference names inside cache entries: []" in scan
    memory = graded.outputs("oracle-memory")
    assert "memory hits: []" in memory, memory[-2000:]


def test_safe_feedback_carries_no_student_values(graded):
    html, shown = graded.feedback["leak-feedback"], graded.outputs("leak-feedback")
    assert "raised ValueError" in html and "an exception of its own class" in html
    # neither the message nor the class name of an exception raised on hidden inputs; the self-check's
    # own (public) input may show, in the self-check's report
    leaked = [m.start() for m in re.finditer("inputs: ", shown) if not shown.startswith("inputs: ([[0.0, 0.0", m.start())]
    assert leaked == [] and "Leak_i_" not in shown
    assert "the process exited" in shown
    # the self-check's call (size 4, public) may show its exit code; the hidden sizes 5, 6, 7 may not
    assert not any(f"exit code {40 + size}" in shown for size in (5, 6, 7))
    # cells run before any hidden input reaches the sandbox (and the sandbox that scatter_add_counts's
    # self-check ended was replayed without self-checks): the later cell saw no input at all
    assert "captured: []" in shown


def test_safe_feedback_hides_expected_values(graded):
    html = graded.feedback["fair-partial"]
    assert "i = -2 must replace the second-to-last row" in html   # the author's message stays
    for value_text in ("Mismatched elements", "Max absolute difference", "x: array", "y: array"):
        assert value_text not in html, value_text

