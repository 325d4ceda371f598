"""Reading any submission file nbgrader hands over, and the exporter that does it.

``RobustExporter`` (``c.Autograde.exporter_class``) turns invalid JSON, nbformat 3,
empty or binary files into a clean notebook with a note instead of a crashed batch.
It also owns the autograde run (``run.AutogradeRun``): nbgrader creates one exporter
per command, and the preprocessors it builds reach the run through it.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter

from autograder.grading.results import new_cell


def _clean_cell(raw, index: int):
    if not isinstance(raw, dict) or raw.get("cell_type") not in ("code", "markdown", "raw"):
        return None
    src = raw.get("source", "")
    if isinstance(src, list):
        src = "".join(s for s in src if isinstance(s, str))
    if not isinstance(src, str):
        return None
    cell = new_cell(raw["cell_type"], src)
    cell.id = f"cell-{index:04d}"
    meta = raw.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    if isinstance(nbg, dict):
        kept = {k: v for k, v in nbg.items()
                if (k in ("grade_id", "checksum", "cell_type") and isinstance(v, str))
                or (k in ("grade", "solution", "locked", "task") and isinstance(v, bool))
                or (k == "points" and isinstance(v, (int, float)) and not isinstance(v, bool))
                or (k == "schema_version" and isinstance(v, int))}
        if isinstance(kept.get("grade_id"), str):
            # nbgrader refuses metadata of another schema for the whole batch: normalise it
            kept["schema_version"] = 3
            cell.metadata["nbgrader"] = kept
    return cell


def read_submission(path: str, known_ids: set[str] | None = None) -> tuple[nbformat.NotebookNode, str | None]:
    """A clean v4 notebook holding whatever could be salvaged, and what was wrong (or None).

    nbgrader metadata survives only where it can be trusted to mean something: a
    grade_id the instructor's copy has (``known_ids``), seen for the first time.
    """
    problem = None
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        data, problem = b"", f"cannot read the file: {exc.strerror}"
    raw = None
    if problem is None:
        try:
            raw = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            problem = "the file is not text (binary?)"
        except ValueError as exc:
            problem = "empty file" if not data.strip() else f"invalid JSON ({exc.msg}, line {exc.lineno})"
    if raw is not None and not isinstance(raw, dict):
        problem, raw = "the file is JSON but not a notebook", None
    converted = False
    if raw is not None and raw.get("nbformat") == 3:
        try:
            raw = nbformat.convert(nbformat.from_dict(raw), 4)
            converted = True
        except Exception:  # noqa: BLE001 -- a broken v3 file is just unreadable
            problem, raw = "a broken nbformat 3 notebook", None
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    cells = raw.get("cells") if isinstance(raw, dict) else None
    if raw is not None and not isinstance(cells, list):
        problem = problem or "the notebook has no list of cells"
        cells = []
    seen: set[str] = set()
    for i, cell in enumerate(cells or []):
        clean = _clean_cell(cell, i)
        if clean is None:
            continue
        gid = clean.metadata.get("nbgrader", {}).get("grade_id")
        if gid is not None and (gid in seen or (known_ids is not None and gid not in known_ids)):
            del clean.metadata["nbgrader"]  # a copied or invented grade_id: just student code
        elif gid is not None:
            seen.add(gid)
        nb.cells.append(clean)
    meta = raw.get("metadata") if isinstance(raw, dict) else None
    earlier = meta.get("autograder") if isinstance(meta, dict) else None
    if problem is None and isinstance(earlier, dict) and isinstance(earlier.get("problem"), str):
        problem = earlier["problem"][:300]  # noted when nbgrader's first pass read the submission
    if isinstance(earlier, dict) and earlier.get("converted"):
        converted = True
    if problem is not None:
        nb.metadata["autograder"] = {"problem": problem}
    elif converted:
        nb.metadata["autograder"] = {"converted": "nbformat 3"}
    return nb, problem




class RobustExporter(NotebookExporter):
    """Reads submissions defensively; starts the run that grades them."""

    def __init__(self, *args, parent=None, **kwargs):
        super().__init__(*args, parent=parent, **kwargs)
        from autograder.grading.run import AutogradeRun

        coursedir = getattr(parent, "coursedir", None)
        self.run = AutogradeRun(parent) if coursedir is not None else None

    def from_filename(self, filename, resources=None, **kw):
        nb, problem = read_submission(filename, self._known_ids(resources))
        if problem:
            self.log.warning("%s: %s; graded from what could be salvaged", filename, problem)
        resources = resources or {}
        return self.from_notebook_node(nb, resources=resources, **kw)

    def _known_ids(self, resources) -> frozenset[str] | None:
        info = (resources or {}).get("nbgrader") or {}
        if self.run is None or "assignment" not in info or "notebook" not in info:
            return None
        try:
            return self.run.instructor_copy(info["assignment"], info["notebook"])[1].grade_ids
        except (OSError, ValueError, KeyError):
            return None
