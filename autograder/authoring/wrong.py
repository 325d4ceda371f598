"""Known-wrong answers stored next to each exercise source (NN_slug.wrong.yml)."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass

import yaml

from autograder import paths
from autograder.authoring.source import SourceError, graded_cells, read_source


@dataclass(frozen=True)
class WrongAnswer:
    slug: str
    grade_id: str  # the solution cell it replaces
    name: str
    why: str
    code: str


def load(slug: str, min_per_task: int = 2) -> list[WrongAnswer]:
    path = paths.wrong_answers_path(slug)
    shown = paths.shown(path)
    if not path.exists():
        raise SourceError(f"{shown}: missing; every exercise ships wrong answers for its tasks")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SourceError(f"{shown}: not valid YAML: {exc}") from exc
    solutions = graded_cells(read_source(paths.source_path(slug, "exercise")), "solution")
    if not isinstance(data, dict):
        raise SourceError(f"{shown}: top level must map solution grade_ids to lists of wrong answers")
    answers, seen = [], set()
    for grade_id in solutions:
        entries = data.get(grade_id) or []
        if len(entries) < min_per_task:
            raise SourceError(f"{shown}: {grade_id} needs at least {min_per_task} wrong answers, has {len(entries)}")
        for entry in entries:
            if not isinstance(entry, dict) or not {"name", "why", "code"} <= entry.keys():
                raise SourceError(f"{shown}: {grade_id}: each wrong answer needs name, why and code")
            name = str(entry["name"])
            if not re.fullmatch(r"[a-z0-9_]+", name) or name in seen:
                raise SourceError(f"{shown}: {grade_id}: wrong-answer name {name!r} must be snake_case and unique")
            seen.add(name)
            answers.append(WrongAnswer(slug, grade_id, name, str(entry["why"]), str(entry["code"])))
    unknown = set(data) - set(solutions)
    if unknown:
        raise SourceError(f"{shown}: no solution cell has grade_id {sorted(unknown)}")
    return answers


def substitute(nb, grade_id: str, code: str):
    """A copy of a rendered exercise notebook with one solution cell replaced."""
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = code.rstrip("\n")
            return out
    raise KeyError(grade_id)

