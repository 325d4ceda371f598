"""Known-wrong answers stored next to each exercise source (NN_slug.wrong.yml)."""
from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass

import yaml

from autograder import paths
from autograder.authoring.source import SourceError, graded_cells, hidden_block, read_source
from autograder.notebook_format import LANGS, defined_names


@dataclass(frozen=True)
class WrongAnswer:
    slug: str
    grade_id: str  # the solution cell it replaces
    name: str
    why: str
    code: str
    hint: dict[str, str]  # language -> what the mistake is, shown to students whose failures match its signature
    # Graded in a submission of its own: for a mistake that changes state other tasks see (a JAX config flag left on).
    alone: bool = False


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
            if not isinstance(entry, dict) or not {"name", "why", "hint", "code"} <= entry.keys():
                raise SourceError(f"{shown}: {grade_id}: each wrong answer needs name, why, hint and code")
            name = str(entry["name"])
            hint = entry["hint"]
            if not (isinstance(hint, dict) and set(hint) == set(LANGS)
                    and all(isinstance(v, str) and v.strip() for v in hint.values())):
                raise SourceError(f"{shown}: {grade_id}/{name}: hint needs a non-empty text for each of {list(LANGS)}")
            if not re.fullmatch(r"[a-z0-9_]+", name) or name in seen:
                raise SourceError(f"{shown}: {grade_id}: wrong-answer name {name!r} must be snake_case and unique")
            seen.add(name)
            alone = entry.get("alone", False)
            if not isinstance(alone, bool):
                raise SourceError(f"{shown}: {grade_id}/{name}: alone must be true or false")
            answers.append(WrongAnswer(slug, grade_id, name, str(entry["why"]), str(entry["code"]),
                                       {lang: hint[lang].strip() for lang in LANGS}, alone))
    unknown = set(data) - set(solutions)
    if unknown:
        raise SourceError(f"{shown}: no solution cell has grade_id {sorted(unknown)}")
    return answers


def task_dependencies(slug: str) -> dict[str, set[str]]:
    """Solution grade_id -> the other solutions whose names its task's hidden tests use.

    Chapter 13's loss test, say, compares ``loss_fn`` with the cross-entropy of the
    student's own ``forward``: the loss task then depends on the forward task.
    """
    cells = read_source(paths.source_path(slug, "exercise")).cells
    owner = {name: c.metadata["grade_id"] for c in cells if "solution" in c.metadata.get("tags", [])
             for name in defined_names(c.source)}
    depends, task = {}, None
    for cell in cells:
        tags = cell.metadata.get("tags", [])
        if "solution" in tags:
            task = cell.metadata["grade_id"]
            depends.setdefault(task, set())
        elif "tests" in tags and task is not None:
            used = {n.id for n in ast.walk(ast.parse(hidden_block(cell.source))) if isinstance(n, ast.Name)}
            depends[task] |= {owner[n] for n in used if owner.get(n, task) != task}
    for _ in depends:  # through other tasks too: sgd_step's tests use loss_fn, whose tests use forward
        for task, direct in depends.items():
            direct |= {far for near in list(direct) for far in depends.get(near, ())} - {task}
    return depends


def rounds(answers: list[WrongAnswer], depends: dict[str, set[str]]) -> list[dict[str, WrongAnswer]]:
    """Wrong answers packed into few submissions: one per task in each, never two tasks that depend on each other.

    Round ``r`` holds, greedily, the next wrong answer of every task that has one. A task's
    score then shows its own answer alone: its hidden tests use only its own names and those
    of tasks that are right in that round (``depends``), and the tasks a round leaves right
    must keep full marks. Answers marked ``alone`` get a round each.
    """
    def fits(answer, packed_round):
        return answer.grade_id not in packed_round and not any(
            a.alone or a.grade_id in depends.get(answer.grade_id, ()) or answer.grade_id in depends.get(a.grade_id, ())
            for a in packed_round.values())

    packed: list[dict[str, WrongAnswer]] = []
    for answer in answers:
        slot = None if answer.alone else next((r for r in packed if fits(answer, r)), None)
        if slot is None:
            packed.append(slot := {})
        slot[answer.grade_id] = answer
    return packed


def substitute(nb, grade_id: str, code: str):
    """A copy of a rendered exercise notebook with one solution cell replaced."""
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = code.rstrip("\n")
            return out
    raise KeyError(grade_id)

