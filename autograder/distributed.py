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

MAX_FILES_BYTES = 64 * 2**20
_local = {"zygote": None, "isolated": None, "lock": threading.Lock()}


def pack_files(folder: str | None) -> dict[str, str]:
    """The submission's own files (not notebooks' outputs elsewhere), base64, size-capped."""
    if not folder or not os.path.isdir(folder):
        return {}
    out, total = {}, 0
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and not path.is_symlink() and ".ipynb_checkpoints" not in path.parts:
            data = path.read_bytes()
            total += len(data)
            if total > MAX_FILES_BYTES:
                break
            out[str(path.relative_to(folder))] = base64.b64encode(data).decode()
    return out


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

    from autograder import sandbox
    from autograder.grader import Submission, Zygote

    with _local["lock"]:
        if _local["isolated"] is None:
            _local["isolated"] = sandbox.namespaces_work()[0]
        zygote = _local["zygote"]
        if zygote is None or zygote.proc.poll() is not None:
            zygote = _local["zygote"] = Zygote()
    folder = _unpack(files)
    try:
        local = replace(settings, isolate=settings.isolate and _local["isolated"])
        result = Submission(plan, instructor, local, zygote, folder).run()
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    result["worker"] = os.uname().nodename
    result["isolated"] = local.isolate
    return result


class DaskRunner:
    def __init__(self, address: str, settings):
        from distributed import Client

        self.client = Client(address, timeout="30s")
        self.settings = settings

    def grade(self, plan, instructor, files: str | None) -> dict:
        future = self.client.submit(grade_remote, plan, instructor, self.settings, pack_files(files), pure=False)
        return future.result()
