"""The notebook that warms the compilation cache holds the questions and no answer."""
from __future__ import annotations

import json

import pytest

from autograder import paths
from autograder.grading.plan import instructor_from_notebook, make_plan
from autograder.grading.questions import STAND_IN, questions_only
from autograder.authoring.source import SOLUTION_BEGIN, SOLUTION_END


@pytest.mark.parametrize("slug", paths.chapters("exercise"))
def test_no_line_of_any_solution_reaches_the_warm_up(slug):
    source = json.loads((paths.ROOT / paths.instructor_notebook(slug, "en")).read_text(encoding="utf-8"))
    instructor = instructor_from_notebook(source)
    warm = questions_only(source, instructor.student_names)
    # what the warm-up sandbox is sent: cells, set-up cells, self-checks and probes (never test_ code)
    sent = [step.source for step in make_plan(warm, instructor).steps if step.kind != "tests"]
    sent += [part for t in instructor.tests for part in (t.visible, t.probe_source)]
    text = "\n".join(sent)
    solutions = [c for c in source["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert solutions, slug
    public = (paths.ROOT / paths.release_notebook(slug, "en")).read_text(encoding="utf-8")
    for cell in solutions:
        body = "".join(cell["source"]).split(SOLUTION_BEGIN)[-1].split(SOLUTION_END)[0]
        for line in body.splitlines():
            secret = line.strip()
            if len(secret) > 12 and secret not in STAND_IN and json.dumps(secret)[1:-1] not in public:
                assert line.strip() not in text, (slug, line)
    # every name a hidden test calls exists, as the same fixed stand-in
    for name in instructor.student_names:
        assert f"def {name}(*args, **kwargs):\n    return _everyday_operations(args, kwargs)" in text
