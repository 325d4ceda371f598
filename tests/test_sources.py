"""Authoring rules, checked on small in-memory sources."""
import textwrap
from pathlib import Path

import pytest

from autograder.authoring.source import SourceError, hidden_test_names, render, validate, with_runner
import jupytext

HEADER = "---\ntitle_en: T\ntitle_zh: 标题\n---\n\n"


def parse(body: str):
    return jupytext.reads(HEADER + textwrap.dedent(body), fmt="md:myst")


GOOD = """\
+++ {"lang": "en"}

## Hi

+++ {"lang": "zh"}

## 你好

```{code-cell} ipython3
x = 1
```

```{code-cell} ipython3
:lang: en
print("hi")
```

```{code-cell} ipython3
:lang: zh
print("你好")
```
"""


def test_good_source_renders_each_language():
    nb = parse(GOOD)
    validate(nb, Path("x.md"))
    en = render(nb, "en", badge_path="notebooks/en/x.ipynb")
    zh = render(nb, "zh", badge_path="notebooks/zh/x.ipynb")
    assert [c.source for c in en.cells[2:]] == ["## Hi", "x = 1", 'print("hi")']
    assert [c.source for c in zh.cells[2:]] == ["## 你好", "x = 1", 'print("你好")']
    assert en.cells[0].source.startswith("# T") and zh.cells[0].source.startswith("# 标题")
    assert [c.id for c in en.cells] == [f"en-{i:03d}" for i in range(5)]


@pytest.mark.parametrize(
    "body, message",
    [
        ('+++ {"lang": "en"}\n\n## Hi\n', "no Chinese counterpart"),
        ('+++ {"lang": "zh"}\n\n## 你好\n', "no English counterpart"),
        ('+++ {"lang": "en"}\n\n## Hi\n\n+++ {"lang": "zh"}\n\n你好\n', "headings differ"),
        ('+++ {"lang": "fr"}\n\nSalut\n', "lang must be"),
        ("+++\n\nuntagged prose\n", "no lang tag"),
        ("```{code-cell} ipython3\n:tags: [solution]\ndef f():\n    pass\n```\n", "grade_id"),
        ("```{code-cell} ipython3\n:tags: [solution]\n:grade_id: f\ndef f():\n    pass\n```\n", "BEGIN SOLUTION"),
        ("```{code-cell} ipython3\n:tags: [tests]\n:grade_id: t\nassert True\n```\n", "points"),
        ("```{code-cell} ipython3\n:tags: [tests]\n:grade_id: t\n:points: 1\nassert True\n```\n", "HIDDEN TESTS"),
        (
            "```{code-cell} ipython3\n:tags: [tests]\n:grade_id: t\n:points: 1\n"
            "### BEGIN HIDDEN TESTS\nassert f() == 1\n### END HIDDEN TESTS\n```\n",
            "only imports and def test_",
        ),
        (
            "```{code-cell} ipython3\n:tags: [tests]\n:grade_id: t\n:points: 1\n"
            "### BEGIN HIDDEN TESTS\ndef probe_f():\n    assert f() == 1\n\ndef test_a():\n    probe_f()\n"
            "### END HIDDEN TESTS\n```\n",
            "probe_f checks a result",
        ),
        (
            "```{code-cell} ipython3\n:tags: [tests]\n:grade_id: t\n:points: 1\n"
            "### BEGIN HIDDEN TESTS\nimport numpy as np\n\ndef probe_f():\n"
            "    np.testing.assert_allclose(1, 1)\n\ndef test_a():\n    probe_f()\n"
            "### END HIDDEN TESTS\n```\n",
            "probe_f checks a result",
        ),
    ],
)
def test_broken_sources_are_rejected_with_a_reason(body, message):
    with pytest.raises(SourceError, match=message):
        validate(parse(body), Path("x.md"))


SOLUTION_WITH_DOC_ZH = """\
```{code-cell} ipython3
:tags: [solution]
:grade_id: double
:doc_zh: 返回 2 * x，类型为 jax.Array。
import jax.numpy as jnp


def double(x):
    \"\"\"Return 2 * x
    as a jax.Array.\"\"\"
    ### BEGIN SOLUTION
    return 2 * jnp.asarray(x)
    ### END SOLUTION
```
"""


def test_doc_zh_replaces_the_docstring_in_chinese_only():
    nb = parse(SOLUTION_WITH_DOC_ZH)
    validate(nb, Path("x.md"))
    en = render(nb, "en", badge_path="x.ipynb", exercise=True).cells[2].source
    zh = render(nb, "zh", badge_path="x.ipynb", exercise=True).cells[2].source
    assert '"""Return 2 * x\n    as a jax.Array."""' in en and "返回" not in en
    assert zh == en.replace('"""Return 2 * x\n    as a jax.Array."""', '"""返回 2 * x，类型为 jax.Array。"""')


@pytest.mark.parametrize(
    "body, message",
    [
        (SOLUTION_WITH_DOC_ZH.replace('    \"\"\"Return 2 * x\n    as a jax.Array.\"\"\"\n', ""),
         "no function docstring to replace"),
        (SOLUTION_WITH_DOC_ZH.replace(":doc_zh: 返回", ':doc_zh: 返回 """'), 'cannot contain """'),
        ("```{code-cell} ipython3\n:tags: [tests]\n:grade_id: t\n:points: 1\n:doc_zh: 测试\n"
         "### BEGIN HIDDEN TESTS\ndef test_a():\n    pass\n### END HIDDEN TESTS\n```\n", "belongs on a solution cell"),
    ],
)
def test_doc_zh_needs_a_docstring_to_replace(body, message):
    with pytest.raises(SourceError, match=message):
        validate(parse(body), Path("x.md"))


def test_front_matter_needs_both_titles():
    nb = jupytext.reads("---\ntitle_en: T\n---\n\n+++ {\"lang\": \"en\"}\n\nx\n", fmt="md:myst")
    with pytest.raises(SourceError, match="title_zh"):
        validate(nb, Path("x.md"))


def test_runner_call_runs_every_hidden_test():
    cell = "assert 1\n### BEGIN HIDDEN TESTS\ndef test_a():\n    pass\n\ndef test_b():\n    pass\n### END HIDDEN TESTS"
    assert hidden_test_names(cell) == ["test_a", "test_b"]
    out = with_runner(cell, 3)
    assert "run_tests(test_a, test_b, points=3)\n### END HIDDEN TESTS" in out


def test_run_tests_reports_every_failure(capsys):
    from autograder.grading.testcell import run_tests

    def test_ok():
        pass

    def test_bad():
        assert 1 == 2, "one is not two"

    def test_crash():
        raise ValueError("boom")

    # nbgrader reads the returned number as partial credit: one of three tests passed
    assert run_tests(test_ok, test_bad, test_crash, points=3) == 1.0
    out = capsys.readouterr().out
    assert "FAIL test_bad: one is not two" in out
    assert "FAIL test_crash: ValueError: boom" in out
    assert "ok   test_ok" in out
    assert "1 of 3 hidden tests passed: 1 of 3 points" in out
    assert run_tests(test_ok, points=3) is None  # full marks: no number, no error
    with pytest.raises(AssertionError) as err:
        run_tests(test_bad, test_crash, points=3)
    assert "all 2 hidden tests failed" in str(err.value)
    assert "test_bad: one is not two" in str(err.value)


def test_run_tests_speaks_the_notebook_language(capsys):
    from autograder.grading.testcell import run_tests

    namespace = {"LANG": "zh"}
    exec("def test_bad():\n    assert False, '应为 2'", namespace)
    with pytest.raises(AssertionError, match="1 个隐藏测试全部未通过"):
        run_tests(namespace["test_bad"], points=2)
    assert "失败 test_bad: 应为 2" in capsys.readouterr().out


TWO_TASKS = """\
```{code-cell} ipython3
:tags: [solution]
:grade_id: double
def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
```

```{code-cell} ipython3
:tags: [tests]
:grade_id: test_double
:points: 1
### BEGIN HIDDEN TESTS
def test_double():
    assert double(2) == 4
### END HIDDEN TESTS
```

```{code-cell} ipython3
:tags: [solution]
:grade_id: quadruple
def quadruple(x):
    ### BEGIN SOLUTION
    return 4 * x
    ### END SOLUTION
```

```{code-cell} ipython3
:tags: [tests]
:grade_id: test_quadruple
:points: 1
### BEGIN HIDDEN TESTS
def test_quadruple():
    assert quadruple(1) == USES
### END HIDDEN TESTS
```
"""


def test_a_task_depends_on_the_tasks_whose_functions_its_hidden_tests_use(tmp_path, monkeypatch):
    from autograder import paths
    from autograder.authoring import wrong

    for uses, expected in (("4", set()), ("double(2)", {"double"})):
        source = tmp_path / f"{len(uses)}.md"
        source.write_text(HEADER + TWO_TASKS.replace("USES", uses), encoding="utf-8")
        monkeypatch.setattr(paths, "source_path", lambda slug, kind, source=source: source)
        assert wrong.task_dependencies("99_x") == {"double": set(), "quadruple": expected}


def test_wrong_answers_are_packed_one_per_task_per_round():
    from autograder.authoring.wrong import WrongAnswer, rounds

    def answer(task, name, alone=False):
        return WrongAnswer("99_x", task, name, "why", "code", {"en": "hint", "zh": "提示"}, alone)

    answers = [answer("a", "a1"), answer("a", "a2"), answer("b", "b1"), answer("a", "a3"),
               answer("b", "b2", alone=True), answer("c", "c1"), answer("c", "c2")]
    packed = rounds(answers, {"a": set(), "b": set(), "c": set()})
    assert [{t: a.name for t, a in r.items()} for r in packed] == [
        {"a": "a1", "b": "b1", "c": "c1"}, {"a": "a2", "c": "c2"}, {"a": "a3"}, {"b": "b2"}]
    # c's tests use a's function: a wrong a and a wrong c never share a submission
    packed = rounds(answers, {"a": set(), "b": set(), "c": {"a"}})
    assert [{t: a.name for t, a in r.items()} for r in packed] == [
        {"a": "a1", "b": "b1"}, {"a": "a2"}, {"a": "a3"}, {"b": "b2"}, {"c": "c1"}, {"c": "c2"}]
