"""Where a submission is graded: behind one small interface, as papermill puts its engines.

``LocalEngine`` forks sandboxes from a warm zygote on this machine; ``DaskEngine``
sends each submission to a dask.distributed worker, which keeps a zygote of its own
(``distributed.grade_remote``). Both return the same JSON-able result.
"""
from __future__ import annotations

from autograder.grading.grader import Settings, Submission, Zygote
from autograder.grading.plan import Instructor, Plan


class Engine:
    """Grades one plan; ``close()`` releases what the engine holds."""

    #: the compilation cache lives on this machine: the questions can warm it before grading
    shares_cache = False

    def grade(self, plan: Plan, instructor: Instructor, settings: Settings, files: str | None) -> dict:
        raise NotImplementedError

    def close(self) -> None:
        pass


class LocalEngine(Engine):
    shares_cache = True

    def __init__(self, zygote: Zygote | None = None):
        self.zygote = zygote or Zygote()

    def grade(self, plan, instructor, settings, files):
        return Submission(plan, instructor, settings, self.zygote, files).run()

    def close(self):
        self.zygote.close()


class DaskEngine(Engine):
    def __init__(self, address: str):
        from distributed import Client

        self.client = Client(address, timeout="30s")

    def grade(self, plan, instructor, settings, files):
        from autograder.grading.distributed import grade_remote, pack_files

        future = self.client.submit(grade_remote, plan, instructor, settings, pack_files(files), pure=False)
        return future.result()

    def close(self):
        self.client.close()
