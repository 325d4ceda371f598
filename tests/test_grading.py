"""Every chapter's hidden tests, graded by the hardened pipeline's own batch (no nbgrader process).

The reference gets full marks, a blank submission 0, and each known-wrong answer
loses points on its own task (partial credit: at least one hidden test fails)
and nowhere else. That the stock nbgrader commands drive the same batch is shown
once per language in tests/test_course.py and, under attack, in tests/test_adversarial.py.
"""
import json
from functools import cache

import nbformat
import pytest

from autograder import paths
from autograder.notebook_format import LANGS
from autograder.authoring import wrong
from autograder.grading.batch import grade_notebooks, local_batch
from gradelib import max_points, reference_answers, submission, task_tests_cell

pytestmark = pytest.mark.grading

CHAPTERS = paths.chapters("exercise")
WRONG = [(a.slug, a) for slug in CHAPTERS for a in wrong.load(slug)]


@pytest.fixture(scope="session")
def scores(tmp_path_factory):
    """One batch per test process grades every student of a chapter at once."""
    batch = local_batch(str(tmp_path_factory.mktemp("batch")))

    @cache
    def _scores(slug, lang):
        instructor = json.loads((paths.ROOT / paths.instructor_notebook(slug, lang)).read_text(encoding="utf-8"))
        reference = reference_answers(slug, lang)
        students = {"reference": submission(slug, lang, reference), "blank": submission(slug, lang, {})}
        if lang == "en":
            for answer in wrong.load(slug):
                students[f"wrong-{answer.name}"] = submission(slug, lang, {**reference, answer.grade_id: answer.code})
        results = grade_notebooks(batch, instructor, students, assignment=f"{slug}-{lang}")
        return {name: result["scores"] for name, result in results.items()}

    yield _scores
    batch.close()


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


@pytest.mark.parametrize("slug,answer", WRONG, ids=[f"{s}-{a.grade_id}-{a.name}" for s, a in WRONG])
def test_wrong_answer_loses_points_on_its_task_only(scores, slug, answer):
    full = max_points(slug, "en")
    release = nbformat.read(paths.ROOT / paths.release_notebook(slug, "en"), as_version=4)
    task = task_tests_cell(release, answer.grade_id)
    got = scores(slug, "en")[f"wrong-{answer.name}"]
    assert got[task] < full[task], answer.why
    assert {k: v for k, v in got.items() if k != task} == {k: v for k, v in full.items() if k != task}
