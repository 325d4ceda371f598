"""Executes notebooks with papermill, a few at a time, and tabulates the timings.

Each notebook runs in its own papermill process, in its own session so that a
notebook that overruns its time limit is killed together with its kernel.
"""
from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.paths import ROOT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    notebook: str
    seconds: float
    status: str  # "ok", "failed" or "timeout"
    detail: str = ""


def _failure_detail(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if "PapermillExecutionError" in line or "Exception encountered at" in line:
            return "\n".join(lines[i : i + 12])
    return "\n".join(lines[-12:])


def run_notebook(src: Path, dest: Path, *, cell_timeout: int, notebook_timeout: int, label: str) -> Result:
    dest.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # Two notebooks share one GPU: never let the first grab most of its memory.
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    # Hidden tests import autograder.grading.testcell; the kernel must find it even when not installed.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    cmd = [
        sys.executable, "-m", "papermill", str(src), str(dest),
        "--kernel", "python3", "--cwd", str(dest.parent),
        "--execution-timeout", str(cell_timeout), "--no-progress-bar", "--log-level", "ERROR",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=notebook_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Result(label, time.perf_counter() - start, "timeout",
                      f"killed after the per-notebook limit of {notebook_timeout} s")
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        return Result(label, seconds, "failed", _failure_detail(stderr))
    executed = nbformat.read(dest, as_version=4)
    partial = _partially_failed_tests(executed)
    if partial:
        return Result(label, seconds, "failed", "hidden tests failed (partial credit) in " + ", ".join(partial))
    glyphs = missing_glyphs(executed)
    if glyphs:
        return Result(label, seconds, "failed", "a figure has characters its font cannot draw "
                      "(the set-up cell registers a CJK font for zh notebooks):\n" + "\n".join(glyphs))
    return Result(label, seconds, "ok")


def _partially_failed_tests(nb) -> list[str]:
    """Tests cells whose run_tests returned partial credit: some hidden test failed without an error."""
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
            and any(o.get("output_type") == "execute_result" for o in c.get("outputs", []))]


# matplotlib's warning for a character it drew as an empty box, e.g. "Glyph 25968 (\N{CJK UNIFIED
# IDEOGRAPH-6570}) missing from font(s) DejaVu Sans." (older releases: "... missing from current font.").
MISSING_GLYPH = re.compile(r"Glyph \d+.*? missing from (?:current )?font.*")


def missing_glyphs(nb) -> list[str]:
    """'cell N: <warning>' for every missing-glyph warning in a notebook's outputs (a silently broken figure)."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            texts = [out.get("text", "")] + [v for k, v in out.get("data", {}).items() if k.startswith("text/")]
            for text in texts:
                text = "".join(text) if isinstance(text, list) else str(text)
                found += [f"cell {i}: {m.group(0).strip()}" for m in MISSING_GLYPH.finditer(text)]
    return list(dict.fromkeys(found))


def run_all(jobs: list[tuple[Path, Path, str]], *, workers: int, cell_timeout: int,
            notebook_timeout: int) -> list[Result]:
    results = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(run_notebook, src, dest, cell_timeout=cell_timeout,
                        notebook_timeout=notebook_timeout, label=label)
            for src, dest, label in jobs
        ]
        for done, future in enumerate(as_completed(futures), 1):
            result = future.result()
            results.append(result)
            log.info("[%d/%d] %-7s %6.1fs  %s", done, len(jobs), result.status, result.seconds, result.notebook)
    return sorted(results, key=lambda r: r.notebook)


def timing_table(results: list[Result]) -> str:
    rows = ["| notebook | seconds | status |", "|---|---:|---|"]
    for r in sorted(results, key=lambda r: -r.seconds):
        rows.append(f"| {r.notebook} | {r.seconds:.1f} | {r.status} |")
    return "\n".join(rows) + "\n"
