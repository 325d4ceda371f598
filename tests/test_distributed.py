"""The same grading unit on a local Dask cluster: same scores, one gradebook written by the coordinator."""
import pytest

from autograder import wrong
from gradelib import grade, max_points, new_course, reference_answers, submission

pytestmark = pytest.mark.grading

SLUG = "01_jax_numpy"


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
        with distributed.Client(cluster) as client:
            graded_there = sum(client.run(lambda dask_worker: len(dask_worker.data) >= 0).values())
    full = max_points(SLUG, "en")
    assert scores["reference"] == full
    assert sum(scores["blank"].values()) == 0
    assert sum(scores["wrong"].values()) < sum(full.values())
    assert graded_there == 1
    # every result came back through the coordinator's cache, tagged with the Dask worker that made it
    results = list((course / ".autograder" / "results" / SLUG).rglob("*.json"))
    assert len(results) == 3
    assert all('"worker"' in p.read_text() for p in results)
