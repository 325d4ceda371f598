"""Every chapter's hidden tests, graded by the hardened pipeline's own batch (no nbgrader process).

The reference gets full marks and runs without an error or a broken figure, a
blank submission gets 0, and each known-wrong answer loses points on its own task
(partial credit: at least one hidden test fails) and nowhere else. Wrong answers
are graded in rounds, one per task in each submission and never two tasks whose hidden
tests use each other's functions (``wrong.rounds``), so each task's score shows its own
answer alone, and the tasks a round leaves right must keep full marks.
That the stock nbgrader commands drive the same batch is shown once per language in
tests/test_course.py and, under attack, in tests/test_adversarial.py.
"""
import copy
import json
from functools import cache

import nbformat
import pytest

from autograder import paths
from autograder.notebook_format import CHECK_MY_WORK_ID, LANGS
from autograder.authoring import signatures, wrong
from autograder.authoring.execute import MISSING_GLYPH
from autograder.authoring.source import CHECK_MY_WORK
from autograder.grading import misconceptions, sandbox
from autograder.grading.batch import grade_notebooks, local_batch
from autograder.grading.plan import instructor_from_notebook, make_plan
from gradelib import max_points, reference_answers, submission, task_tests_cell

pytestmark = pytest.mark.grading

CHAPTERS = paths.chapters("exercise")
ROUNDS = {slug: wrong.rounds(wrong.load(slug), wrong.task_dependencies(slug)) for slug in CHAPTERS}
WRONG = [(slug, r, a) for slug in CHAPTERS for r, answers in enumerate(ROUNDS[slug]) for a in answers.values()]
ROUND_IDS = [(slug, r) for slug in CHAPTERS for r in range(len(ROUNDS[slug]))]


def summarised(nb):
    """The check-my-work cell as student code (its nbgrader metadata gone): the grader runs it and keeps its output.

    The grader skips the real cell; this copy shows, for every chapter and language, the summary a student gets
    from the reference (every task passes), and that such a cell changes no score.
    """
    nb = copy.deepcopy(nb)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == CHECK_MY_WORK_ID]
    del cell.metadata["nbgrader"]
    return nb


@pytest.fixture(scope="session")
def results(tmp_path_factory):
    """One batch per test process grades every student of a chapter at once."""
    batch = local_batch(str(tmp_path_factory.mktemp("batch")))

    @cache
    def _results(slug, lang):
        instructor = json.loads((paths.ROOT / paths.instructor_notebook(slug, lang)).read_text(encoding="utf-8"))
        reference = reference_answers(slug, lang)
        students = {"reference": summarised(submission(slug, lang, reference)), "blank": submission(slug, lang, {})}
        if lang == "en":
            for r, answers in enumerate(ROUNDS[slug]):
                wrong_cells = {grade_id: a.code for grade_id, a in answers.items()}
                students[f"wrong-round-{r}"] = submission(slug, lang, {**reference, **wrong_cells})
        return grade_notebooks(batch, instructor, students, assignment=f"{slug}-{lang}")

    yield _results
    batch.close()


@pytest.fixture(scope="session")
def scores(results):
    return lambda slug, lang: {name: result["scores"] for name, result in results(slug, lang).items()}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("slug", CHAPTERS)
def test_reference_gets_full_marks(scores, slug, lang):
    assert scores(slug, lang)["reference"] == max_points(slug, lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("slug", CHAPTERS)
def test_blank_submission_gets_zero(scores, slug, lang):
    got = scores(slug, lang)["blank"]
    assert set(got) == set(max_points(slug, lang))
    assert sum(got.values()) == 0, got


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("slug", CHAPTERS)
def test_reference_runs_without_errors_or_missing_glyphs(results, slug, lang):
    """The grader's run of the instructor's solution is also the check that its cells work (run-notebooks runs lessons)."""
    reference = results(slug, lang)["reference"]
    outputs = list(reference["steps"].values()) + [t["visible"] for t in reference["tests"].values() if t["visible"]]
    errors = [o["error"][:2] for o in outputs if o["error"]]
    assert not errors, errors
    glyphs = [m.group(0) for o in outputs for m in MISSING_GLYPH.finditer(o["stderr"] + o["stdout"])]
    assert not glyphs, glyphs
    assert not reference["crashes"], reference["crashes"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("slug", CHAPTERS)
def test_check_my_work_says_every_task_of_the_reference_passes(results, slug, lang):
    nb = nbformat.read(paths.ROOT / paths.release_notebook(slug, lang), as_version=4)
    tasks = len([c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")])
    summary = next(out["stdout"] for out in results(slug, lang)["reference"]["steps"].values()
                   if out["stdout"].startswith(CHECK_MY_WORK[lang]["summary"].split("{")[0]))
    assert summary.splitlines()[0] == CHECK_MY_WORK[lang]["summary"].format(passed=tasks, total=tasks), summary
    assert "✗" not in summary, summary


def _tasks(slug, answers):
    release = nbformat.read(paths.ROOT / paths.release_notebook(slug, "en"), as_version=4)
    return {task_tests_cell(release, grade_id) for grade_id in answers}


@pytest.mark.parametrize("slug,r,answer", WRONG, ids=[f"{s}-{a.grade_id}-{a.name}" for s, _, a in WRONG])
def test_wrong_answer_loses_points_on_its_task(scores, slug, r, answer):
    (task,) = _tasks(slug, [answer.grade_id])
    assert scores(slug, "en")[f"wrong-round-{r}"][task] < max_points(slug, "en")[task], answer.why


@pytest.mark.parametrize("slug,r", ROUND_IDS, ids=[f"{s}-round-{r}" for s, r in ROUND_IDS])
def test_tasks_a_round_leaves_right_keep_full_marks(scores, slug, r):
    wrong_tasks = _tasks(slug, ROUNDS[slug][r])
    got, full = scores(slug, "en")[f"wrong-round-{r}"], max_points(slug, "en")
    assert set(got) == set(full)
    assert {k: v for k, v in got.items() if k not in wrong_tasks} == {k: v for k, v in full.items() if k not in wrong_tasks}


def _tests_cells(slug, grade_id):
    instructor = instructor_from_notebook(nbformat.read(paths.ROOT / paths.instructor_notebook(slug, "en"), as_version=4))
    return [t.grade_id for t in instructor.tests if t.anchor == grade_id]


@pytest.mark.parametrize("slug,r,answer", WRONG, ids=[f"{s}-{a.grade_id}-{a.name}" for s, _, a in WRONG])
def test_recorded_signature_is_what_grading_finds(results, slug, r, answer):
    """solutions/NN.signatures.json (make signatures) is checked against this real grading run, in every make test."""
    recorded = signatures.load(slug)["tasks"][answer.grade_id][answer.name]
    found = results(slug, "en")[f"wrong-round-{r}"]["tests"]
    for grade_id in _tests_cells(slug, answer.grade_id):
        sig = misconceptions.signature(found[grade_id])
        assert (None if sig is None else misconceptions.encode(sig)) == recorded[grade_id], (
            f"{grade_id}: run `make signatures SLUG={slug}`")


@pytest.mark.parametrize("slug,r,answer", WRONG, ids=[f"{s}-{a.grade_id}-{a.name}" for s, _, a in WRONG])
def test_wrong_answer_gets_its_own_hint(results, slug, r, answer):
    found = results(slug, "en")[f"wrong-round-{r}"]["tests"]
    for lang in LANGS:
        table = misconceptions.Table.from_json(signatures.course_table(slug, lang))
        hints = {g: table.match(g, found[g]) for g in _tests_cells(slug, answer.grade_id)}
        assert any(h is not None for h in hints.values()), hints
        assert {h.hint for h in hints.values() if h is not None} == {answer.hint[lang]}, hints


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("slug", CHAPTERS)
def test_reference_and_blank_get_no_hint(results, slug, lang):
    """Nothing failed, or everything raised NotImplementedError (the stub): no known mistake is named."""
    table = misconceptions.Table.from_json(signatures.course_table(slug, lang))
    for name in ("reference", "blank"):
        got = {g: table.match(g, record) for g, record in results(slug, lang)[name]["tests"].items()}
        assert not any(got.values()), (name, got)


def _with_check_cell(nb, source: str | None):
    """A submission whose check-my-work cell is replaced by ``source`` (None: deleted)."""
    nb = copy.deepcopy(nb)
    (index,) = [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == CHECK_MY_WORK_ID]
    if source is None:
        del nb.cells[index]
    else:
        nb.cells[index].source = source
    return nb


@pytest.mark.parametrize("slug", ["01_jax_numpy"])
def test_check_my_work_earns_nothing_and_cannot_change_a_score(tmp_path, slug):
    """The cell is skipped by the grader: edited to raise, exit or loop, or deleted, every score stays what it was."""
    lang = "en"
    instructor = json.loads((paths.ROOT / paths.instructor_notebook(slug, lang)).read_text(encoding="utf-8"))
    plan = make_plan(instructor, instructor_from_notebook(instructor))
    assert CHECK_MY_WORK_ID not in {s.grade_id for s in plan.steps}, "the instructor's copy of the cell is not run"
    reference = submission(slug, lang, reference_answers(slug, lang))
    blank = submission(slug, lang, {})
    students = {"reference": reference, "blank": blank,
                "raises": _with_check_cell(reference, "raise RuntimeError('boom')"),
                "exits": _with_check_cell(reference, "import os\nos._exit(3)"),
                "loops": _with_check_cell(reference, "while True:\n    pass"),
                "deleted": _with_check_cell(reference, None),
                "blank-loops": _with_check_cell(blank, "while True:\n    pass")}
    batch = local_batch(str(tmp_path))
    try:
        results = grade_notebooks(batch, instructor, students, assignment=f"{slug}-check-my-work")
    finally:
        batch.close()
    full = max_points(slug, lang)
    for name in ("reference", "raises", "exits", "loops", "deleted"):
        assert results[name]["scores"] == full, name
        assert not results[name]["crashes"], (name, results[name]["crashes"])
    assert results["blank-loops"]["scores"] == results["blank"]["scores"] and sum(results["blank"]["scores"].values()) == 0
    slowest = max(r["seconds"] for r in results.values())
    assert slowest < sandbox.Limits().step_seconds, "nothing waited for the loop to time out"
