"""Grading units on a dask.distributed cluster; the gradebook stays with the coordinator.

Each Dask worker process keeps its own warm zygote and grades one submission
per task exactly as a local sandbox would (the hidden tests run in the Dask
worker, which is the instructor's trusted machine; student code runs in a
sandbox it forks). Only the result -- JSON data -- comes back; nbgrader's
``SaveAutoGrades`` in the coordinator writes it to the one gradebook. Workers
must have this package and JAX installed (see docs/distributed.md).
"""
from __future__ import annotations

import base64
import os
import shutil
import tempfile
import threading
from pathlib import Path

_local = {"zygote": None, "isolated": None, "lock": threading.Lock()}


def pack_files(folder: str | None) -> dict[str, str]:
    """The submission's own files, base64 (the batch has refused submissions over the limit)."""
    from autograder.grading.sandbox import FILES_LIMIT_BYTES, own_files, own_files_size

    if not folder or not os.path.isdir(folder):
        return {}
    if own_files_size(folder) > FILES_LIMIT_BYTES:
        raise ValueError(f"{folder}: the submission's files exceed {FILES_LIMIT_BYTES} bytes")
    return {rel: base64.b64encode(path.read_bytes()).decode() for rel, path in own_files(Path(folder))}


def _unpack(files: dict[str, str]) -> str | None:
    if not files:
        return None
    root = Path(tempfile.mkdtemp(prefix="dask-submission-"))
    for rel, data in files.items():
        target = (root / rel).resolve()
        if root.resolve() not in target.parents:
            continue  # a path that climbs out of the folder is dropped
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
    return str(root)


def grade_remote(plan, instructor, settings, files: dict[str, str]) -> dict:
    """Runs on a Dask worker: one submission, one sandbox, a JSON-able result."""
    from dataclasses import replace

    from autograder.grading import sandbox
    from autograder.grading.grader import Submission, Zygote

    with _local["lock"]:
        if _local["isolated"] is None:
            _local["isolated"] = sandbox.namespaces_work()
        works, why = _local["isolated"]
        if settings.isolate and not works and settings.required:
            # the coordinator checked its own machine; this worker is another one
            raise RuntimeError(f"SandboxedExecute.isolation = 'required' but namespaces do not work on the Dask "
                               f"worker {os.uname().nodename}: {why}")
        zygote = _local["zygote"]
        if zygote is None or zygote.proc.poll() is not None:
            zygote = _local["zygote"] = Zygote()
    folder = _unpack(files)
    try:
        local = replace(settings, isolate=settings.isolate and works)
        result = Submission(plan, instructor, local, zygote, folder).run()
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    try:
        from distributed import get_worker

        result["worker"] = get_worker().address
    except (ImportError, ValueError):  # called outside a Dask worker
        result["worker"] = os.uname().nodename
    result["isolated"] = local.isolate
    return result
