"""The same grading unit on a local Dask cluster: same scores, one gradebook written by the coordinator."""
import json

import pytest

from autograder.authoring import wrong
from gradelib import grade, max_points, new_course, reference_answers, submission

SLUG = "01_jax_numpy"


def test_a_worker_without_namespaces_refuses_to_grade_when_isolation_is_required(monkeypatch):
    """The coordinator checks its own machine; each Dask worker checks its own before it runs student code."""
    from autograder.grading import distributed, sandbox
    from autograder.grading.grader import Settings

    monkeypatch.setitem(distributed._local, "isolated", (False, "user namespaces are switched off here"))
    settings = Settings(sandbox.Limits(), isolate=True, required=True)
    with pytest.raises(RuntimeError, match=r"'required'.*Dask worker.*user namespaces are switched off here"):
        distributed.grade_remote(None, None, settings, {})


def test_a_misspelt_isolation_setting_is_refused_not_read_as_auto():
    from traitlets import TraitError

    from autograder.grading.preprocessor import SandboxedExecute

    with pytest.raises(TraitError):
        SandboxedExecute(isolation="requried")
    assert SandboxedExecute(isolation="required").isolation == "required"


@pytest.mark.grading
def test_dask_cluster_grades_like_the_local_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster:
        course = new_course(tmp_path, "en")
        with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
            config.write(f"\nc.SandboxedExecute.dask_scheduler = {cluster.scheduler_address!r}\n")
        reference = reference_answers(SLUG, "en")
        answer = wrong.load(SLUG)[0]
        students = {"reference": submission(SLUG, "en", reference),
                    "wrong": submission(SLUG, "en", {**reference, answer.grade_id: answer.code}),
                    "blank": submission(SLUG, "en", {})}
        scores = grade(course, SLUG, students)
        workers = set(cluster.scheduler_info["workers"])
    full = max_points(SLUG, "en")
    assert scores["reference"] == full
    assert sum(scores["blank"].values()) == 0
    assert sum(scores["wrong"].values()) < sum(full.values())
    # every result came back through the coordinator's journal, tagged with the Dask worker that made it
    results = [json.loads(p.read_text()) for p in (course / ".autograder" / "results" / SLUG).rglob("*.json")]
    assert len(results) == 3
    assert {r["worker"] for r in results} <= workers and len(workers) == 1
