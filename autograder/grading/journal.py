"""What grading keeps on disk under ``<course>/.autograder``, so a killed run resumes.

* ``results/<assignment>/<student>/<notebook>.json``: a submission's result with the
  fingerprint of what was graded (the plan, the instructor's copy, the limits); a
  later run reuses it only when the fingerprint matches.
* ``done/<assignment>/<student>``: nbgrader finished writing that submission.
  A graded folder without one belongs to a run that was killed; it is graded again.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

STATE_DIR = ".autograder"
log = logging.getLogger(__name__)


class Journal:
    def __init__(self, course_root: str | os.PathLike):
        self.course_root = Path(course_root)
        self.root = self.course_root / STATE_DIR

    # -- results
    def result_path(self, assignment: str, student: str, notebook: str) -> Path:
        return self.root / "results" / assignment / student / f"{notebook}.json"

    def load(self, key: tuple[str, str, str], fingerprint: str) -> dict | None:
        try:
            result = json.loads(self.result_path(*key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return result if isinstance(result, dict) and result.get("fingerprint") == fingerprint else None

    def store(self, key: tuple[str, str, str], result: dict) -> None:
        path = self.result_path(*key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)  # a reader sees the old result or the new one, never half of one

    # -- which submissions nbgrader finished writing
    def done_marker(self, assignment: str, student: str) -> Path:
        return self.root / "done" / assignment / student

    def started(self, assignment: str, student: str) -> None:
        self.done_marker(assignment, student).unlink(missing_ok=True)

    def finished(self, assignment: str, student: str, when: str) -> None:
        marker = self.done_marker(assignment, student)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(when + "\n")

    def remove_half_written(self, autograded: Path) -> None:
        """A graded folder without its done-marker belongs to a run that was killed: regrade it."""
        if not autograded.is_dir():
            return
        for student_dir in autograded.iterdir():
            for assignment_dir in student_dir.iterdir() if student_dir.is_dir() else []:
                if not self.done_marker(assignment_dir.name, student_dir.name).exists():
                    log.warning("resuming: %s was not finished by an earlier run; grading it again", assignment_dir)
                    shutil.rmtree(assignment_dir, ignore_errors=True)

    def clear(self, name: str) -> None:
        shutil.rmtree(self.root / name, ignore_errors=True)
