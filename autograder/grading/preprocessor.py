"""``SandboxedExecute``: the step that replaces nbgrader's ``Execute`` in ``c.Autograde.autograde_preprocessors``;
``WrappedOutputCSS``: the feedback page's style step (``c.GenerateFeedback.preprocessors``).

It grades the notebook through the run's batch (student code in a sandbox, hidden
tests in this trusted process) and writes the outputs and partial-credit results into
the tests cells, which nbgrader's own ``SaveAutoGrades`` then stores in the gradebook.
The first call starts grading every pending submission of the command in parallel.
"""
from __future__ import annotations

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Enum, Float, Int, Unicode

from autograder.grading import sandbox
from autograder.grading.feedback import DETAILS
from autograder.grading.plan import make_plan
from autograder.grading.results import apply_result

LIMITS = sandbox.Limits()


class SandboxedExecute(NbGraderPreprocessor):
    """Runs the student's code in a sandbox and the hidden tests in this (trusted) process."""

    workers = Int(0, help="sandboxes grading at once (0: one per CPU core)").tag(config=True)
    isolation = Enum(("auto", "required", "off"), default_value="auto", help=(
        "'auto' (namespaces where they work, else a loud warning), 'required' (refuse to grade without them, "
        "on the Dask workers too) or 'off'")).tag(config=True)
    memory_mb = Int(LIMITS.memory_mb, help=sandbox.Limits.HELP["memory_mb"]).tag(config=True)
    cpu_seconds = Int(LIMITS.cpu_seconds, help=sandbox.Limits.HELP["cpu_seconds"]).tag(config=True)
    wall_seconds = Float(LIMITS.wall_seconds, help=sandbox.Limits.HELP["wall_seconds"]).tag(config=True)
    step_seconds = Float(LIMITS.step_seconds, help=sandbox.Limits.HELP["step_seconds"]).tag(config=True)
    output_kb = Int(LIMITS.output_kb, help=sandbox.Limits.HELP["output_kb"]).tag(config=True)
    processes = Int(LIMITS.processes, help=sandbox.Limits.HELP["processes"]).tag(config=True)
    disk_mb = Int(LIMITS.disk_mb, help=sandbox.Limits.HELP["disk_mb"]).tag(config=True)
    prefetch = Bool(True, help="grade every pending submission in parallel on the first call").tag(config=True)
    warm_cache = Bool(True, help="before grading, fill JAX's compilation cache with what the questions compile "
                      "(questions.py; seconds per assignment, repaid from about ten submissions)").tag(config=True)
    feedback = Enum(DETAILS, default_value="safe", help=(
        "what a failed hidden test shows in the notebook and the feedback: 'safe' (the test's name, "
        "pass/fail, the author's own message, a student's exception by its type; no values) or 'full' "
        "(adds values, rewritten assertions and exception messages)")).tag(config=True)
    dask_scheduler = Unicode("", help="address of a dask.distributed scheduler to grade on").tag(config=True)

    def preprocess(self, nb, resources):
        run = getattr(self.parent, "run", None)
        if run is None:
            raise RuntimeError("SandboxedExecute needs c.Autograde.exporter_class = "
                               "autograder.grading.exporter.RobustExporter (see the course's nbgrader_config.py)")
        batch = run.batch_for(self)
        info = resources["nbgrader"]
        assignment, student, notebook = info["assignment"], info["student"], info["notebook"]
        instructor = run.instructor(assignment, notebook)
        plan = make_plan(nb, instructor)
        coursedir = run.coursedir
        files = coursedir.format_path(coursedir.submitted_directory, student, assignment)
        result = batch.submit((assignment, student, notebook), plan, instructor,
                              files if os.path.isdir(files) else None).result()
        problem = (nb.metadata.get("autograder") or {}).get("problem")
        not_isolated = run.not_isolated
        if not_isolated is None and result.get("isolated") is False:  # a Dask worker without namespaces
            not_isolated = f"namespaces do not work on the Dask worker {result.get('worker', '?')}"
        apply_result(nb, plan, instructor, result, problem, not_isolated, self.feedback,
                     run.misconceptions(assignment))
        for _, line in result.get("crashes", []):
            self.log.warning("%s/%s: %s", student, notebook, line)
        if problem:
            self.log.warning("%s/%s: %s", student, notebook, problem)
        return nb, resources


# nbconvert's feedback page keeps output lines as they are, so a long line (the likely cause of a failure, a
# test's message) ends behind a horizontal scroll bar: a student reads half a sentence.
WRAP_OUTPUT_CSS = "div.output_area pre { white-space: pre-wrap !important; word-break: normal; overflow-wrap: anywhere; }"


class WrappedOutputCSS(CSSHTMLHeaderPreprocessor):
    """nbconvert's page style for the feedback HTML, with long output lines wrapped."""

    enabled = Bool(True, help="nbconvert runs a preprocessor only when enabled; this one always").tag(config=True)

    def preprocess(self, nb, resources):
        nb, resources = super().preprocess(nb, resources)
        resources["inlining"]["css"].append(WRAP_OUTPUT_CSS)
        return nb, resources
