"""nbgrader's pre/post convert hooks (``c.Autograde.pre_convert_hook`` / ``post_convert_hook``).

nbgrader calls them with the assignment, the student and the submission's notebook
paths, ``<course>/submitted/<student>/<assignment>/<notebook>.ipynb``; everything
they need follows from those paths, so they keep no state between runs.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from autograder.grading.journal import Journal

log = logging.getLogger(__name__)


def _submissions(notebooks) -> set[tuple[Path, str, str]]:
    """(course root, assignment, student) of each notebook path nbgrader passes."""
    out = set()
    for nb in notebooks:
        path = Path(nb).resolve()
        out.add((path.parents[3], path.parts[-2], path.parts[-3]))
    return out


def mark_started(assignment, student, notebooks, **_):
    for root, a, s in _submissions(notebooks):
        Journal(root).started(a, s)
    # nbgrader copies a submission's files with shutil.copy, which follows links: a link to
    # ../../gradebook.db would come back in the feedback. A link is not the student's work.
    for folder in {Path(nb).parent for nb in notebooks}:
        for path in folder.rglob("*"):
            if path.is_symlink():
                log.warning("%s: removed a symbolic link from the submission (to %s)", path, os.readlink(path))
                path.unlink()


def mark_done(assignment, student, notebooks, **_):
    for root, a, s in _submissions(notebooks):
        Journal(root).finished(a, s, time.strftime("%Y-%m-%dT%H:%M:%S"))
