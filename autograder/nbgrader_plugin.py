"""Where the nbgrader plugin lived before the grading half moved to ``autograder.grading``.

``nbgrader_config.py`` files written by older versions of ``make course`` import it
as ``from autograder import nbgrader_plugin as _plugin``; they keep working.
"""
from autograder.grading.exporter import RobustExporter
from autograder.grading.hooks import mark_done, mark_started
from autograder.grading.preprocessor import SandboxedExecute

__all__ = ["RobustExporter", "SandboxedExecute", "mark_done", "mark_started"]
