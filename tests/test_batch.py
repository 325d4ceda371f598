"""The batch, in-process with a stand-in engine: the journal, one future per submission, oversized files."""
import os

from autograder.grading import sandbox
from autograder.grading.batch import Batch, refused
from autograder.grading.engines import Engine
from autograder.grading.grader import Settings
from autograder.grading.journal import Journal
from autograder.grading.misconceptions import CRASHED
from autograder.grading.plan import instructor_from_notebook, make_plan
from grading_fixtures import instructor_notebook, student_notebook

INSTRUCTOR = instructor_from_notebook(instructor_notebook())


class CountingEngine(Engine):
    def __init__(self):
        self.graded, self.closed = [], False

    def grade(self, plan, instructor, settings, files):
        self.graded.append(files)
        return {"scores": {"test_double": 2.0}, "tests": {}, "steps": {}, "crashes": [], "notes": []}

    def close(self):
        self.closed = True


def batch(tmp_path, engine):
    return Batch(engine, Settings(sandbox.Limits(), isolate=False), Journal(tmp_path), workers=1)


def test_a_result_is_graded_once_and_found_again_by_a_later_run(tmp_path):
    engine = CountingEngine()
    b = batch(tmp_path, engine)
    plan = make_plan(student_notebook(), INSTRUCTOR)
    key = ("a1", "alice", "nb")
    first = b.submit(key, plan, INSTRUCTOR, None)
    assert b.submit(key, plan, INSTRUCTOR, None) is first  # the same plan: the same future
    assert first.result()["scores"] == {"test_double": 2.0}
    b.close()
    assert engine.closed and len(engine.graded) == 1
    again = CountingEngine()
    b = batch(tmp_path, again)
    assert b.submit(key, plan, INSTRUCTOR, None).result()["scores"] == {"test_double": 2.0}
    changed = make_plan(student_notebook("def double(x):\n    return x\n"), INSTRUCTOR)
    b.submit(key, changed, INSTRUCTOR, None).result()
    b.close()
    assert len(again.graded) == 1  # the journal answered for the unchanged plan, not for the changed one


def test_files_over_the_limit_are_refused_with_a_message_not_cut(tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    with open(folder / "data.bin", "wb") as f:
        f.truncate(sandbox.FILES_LIMIT_BYTES + 1)  # sparse: large on paper, nothing on disk
    os.symlink("/etc/passwd", folder / "link")  # links are not the student's files and count for nothing
    engine = CountingEngine()
    b = batch(tmp_path / "course", engine)
    result = b.submit(("a1", "bob", "nb"), make_plan(student_notebook(), INSTRUCTOR), INSTRUCTOR,
                      str(folder)).result()
    b.close()
    assert engine.graded == []
    assert result["scores"] == {"test_double": 0.0}
    (safe, full), = result["crashes"]
    assert "not graded" in safe and "64 MB" in safe and safe == full
    assert all(not ok for ok, *_ in result["tests"]["test_double"]["results"].values())


def test_a_small_folder_is_graded_with_its_files(tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    (folder / "data.csv").write_text("1,2\n")
    engine = CountingEngine()
    b = batch(tmp_path / "course", engine)
    b.submit(("a1", "carol", "nb"), make_plan(student_notebook(), INSTRUCTOR), INSTRUCTOR, str(folder)).result()
    b.close()
    assert engine.graded == [str(folder)]


def test_a_refused_result_fails_every_test_of_every_cell():
    result = refused(INSTRUCTOR, ["why", "why in full"])
    assert result["tests"]["test_double"]["results"] == {"test_small": [False, "why", "why in full", CRASHED],
                                                         "test_negative": [False, "why", "why in full", CRASHED]}
