"""check-sync catches the three kinds of drift, naming file and cell."""
import json

import pytest

pytestmark = pytest.mark.integration  # each test runs the build tools in a scratch repository


def _edit_cell(path, index, new_source):
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"][index]["source"] = new_source
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _first_cell(release, nbgrader_flag):
    nb = json.loads(release.read_text(encoding="utf-8"))
    index = next(i for i, c in enumerate(nb["cells"]) if c["metadata"]["nbgrader"].get(nbgrader_flag))
    return index, "".join(nb["cells"][index]["source"])


def test_fresh_generation_is_in_sync_and_byte_identical(scratch_repo, build):
    build("notebooks")
    first = {p: p.read_bytes() for p in scratch_repo.rglob("*.ipynb")}
    assert len(first) == 8  # 2 lessons, 2 instructor notebooks, 2 releases, 2 course homes
    build("check")
    build("notebooks")
    assert {p: p.read_bytes() for p in scratch_repo.rglob("*.ipynb")} == first


def test_hand_edited_notebook_is_caught(scratch_repo, build):
    build("notebooks")
    _edit_cell(scratch_repo / "notebooks/zh/99_sample.ipynb", 2, "## 数组（手改）")
    result = build("check", check=False)
    assert result.returncode == 1
    assert "notebooks/zh/99_sample.ipynb: cell 2" in result.stderr
    build("notebooks")
    build("check")


def test_prose_cell_without_counterpart_is_caught(scratch_repo, build):
    build("notebooks")
    source = scratch_repo / "notebooks/99_sample.md"
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace('+++ {"lang": "zh"}\n\n## 数组\n', ""), encoding="utf-8")
    result = build("check", check=False)
    assert result.returncode == 1
    assert "notebooks/99_sample.md: cell 0" in result.stderr
    assert "no Chinese counterpart" in result.stderr


def test_headings_that_differ_between_languages_are_caught(scratch_repo, build):
    source = scratch_repo / "notebooks/99_sample.md"
    source.write_text(source.read_text(encoding="utf-8").replace("## 数组", "### 数组"), encoding="utf-8")
    result = build("check", check=False)
    assert result.returncode == 1
    assert "headings differ" in result.stderr


def test_release_with_solution_text_is_caught(scratch_repo, build):
    build("notebooks")
    release = scratch_repo / "exercises/en/99_sample/99_sample.ipynb"
    index, _ = _first_cell(release, "solution")
    _edit_cell(release, index, 'def double(x):\n    """Return 2 * x."""\n    return 2 * jnp.asarray(x)')
    result = build("check", check=False)
    assert result.returncode == 1
    assert f"exercises/en/99_sample/99_sample.ipynb: cell {index}" in result.stderr
    assert "reveals solution" in result.stderr


def test_release_with_hidden_tests_is_caught(scratch_repo, build):
    build("notebooks")
    release = scratch_repo / "exercises/zh/99_sample/99_sample.ipynb"
    index, visible = _first_cell(release, "grade")
    _edit_cell(release, index, visible + "\nnp.testing.assert_allclose(double(x), 2 * x)")
    result = build("check", check=False)
    assert result.returncode == 1
    assert f"exercises/zh/99_sample/99_sample.ipynb: cell {index}" in result.stderr


def test_missing_and_orphaned_generated_files_are_caught(scratch_repo, build):
    build("notebooks")
    (scratch_repo / "notebooks/en/99_sample.ipynb").unlink()
    orphan = scratch_repo / "notebooks/zh/98_gone.ipynb"
    orphan.write_text("{}", encoding="utf-8")
    result = build("check", check=False)
    assert "notebooks/en/99_sample.ipynb: missing" in result.stderr
    assert "notebooks/zh/98_gone.ipynb: generated file with no source" in result.stderr
    build("notebooks")
    assert not orphan.exists()
    build("check")


def test_reference_to_a_chapter_without_source_is_caught(scratch_repo, build):
    lesson = scratch_repo / "notebooks/99_sample.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("## Arrays\n", "## Arrays\n\nMore in chapters 99 and 12, in ch99 and in ch7.\n")
                      .replace("## 数组\n", "## 数组\n\n详见第 99 章和第 13 章。\n"), encoding="utf-8")
    exercise = scratch_repo / "solutions/99_sample.md"
    exercise.write_text(exercise.read_text(encoding="utf-8").replace(
        "import numpy as np\n", "import numpy as np  # chapter 99 explains, chapter 14 too\nch1 = 1\n", 1),
        encoding="utf-8")
    result = build("check", check=False)
    assert result.returncode == 1
    refs = [line for line in result.stderr.splitlines() if "refers to chapter" in line]
    assert refs == [
        "check-sync: notebooks/99_sample.md: cell 0 ('## Arrays'): refers to chapter 7, 12, which has no source; "
        "name an existing chapter or say 'a later chapter' / '后面的章节'",
        "check-sync: notebooks/99_sample.md: cell 1 ('## 数组'): refers to chapter 13, which has no source; "
        "name an existing chapter or say 'a later chapter' / '后面的章节'",
        "check-sync: solutions/99_sample.md: cell 2 ('import jax.numpy as jnp'): refers to chapter 14, which has "
        "no source; name an existing chapter or say 'a later chapter' / '后面的章节'",
    ]
