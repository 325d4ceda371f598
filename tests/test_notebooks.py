"""Every generated notebook opens right everywhere: title, Colab badge to its own file, Colab-only set-up."""
import re

import nbformat
import pytest

from autograder import paths
from autograder.authoring.generate import existing_generated
from autograder.notebook_format import LANGS

NOTEBOOKS = sorted(existing_generated())
BADGE = re.compile(r"\(https://colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/main/([^)]+)\)")


def test_there_are_notebooks_for_every_source():
    lessons, exercises = paths.chapters("lesson"), paths.chapters("exercise")
    assert lessons and lessons == exercises, "every chapter has a lesson and an exercise"
    expected = {paths.lesson_notebook(s, lang) for s in lessons for lang in LANGS}
    expected |= {f(s, lang) for s in exercises for lang in LANGS for f in (paths.instructor_notebook, paths.release_notebook)}
    expected |= {paths.course_home_notebook(lang) for lang in LANGS}
    assert set(NOTEBOOKS) == expected


@pytest.mark.parametrize("lang", LANGS)
def test_course_home_lists_every_chapter_in_order_with_its_lesson_and_exercise(lang):
    rel = paths.course_home_notebook(lang)
    nb = nbformat.read(paths.ROOT / rel, as_version=4)
    rows = [line for cell in nb.cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if re.match(r"^\| \d\d \|", line)]
    assert [row.split("|")[1].strip() for row in rows] == [slug[:2] for slug in paths.chapters("lesson")]
    for slug, row in zip(paths.chapters("lesson"), rows):
        title = row.split("|")[2].strip()
        assert title and title in (paths.ROOT / paths.source_path(slug, "lesson")).read_text(encoding="utf-8")
        local = re.findall(r"\]\(([^)]+\.ipynb)\)", row)
        here = (paths.ROOT / rel).parent
        opened = [(here / link).resolve().relative_to(paths.ROOT).as_posix() for link in local if "://" not in link]
        assert opened == [paths.lesson_notebook(slug, lang), paths.release_notebook(slug, lang)]
        assert all((paths.ROOT / target).is_file() for target in opened)
        colab = [target for _, target in BADGE.findall(row)]
        assert colab == opened, "the Colab links open the same lesson and exercise"
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    words = {"en": ("self-check", "hidden tests", "NotImplementedError"), "zh": ("自检", "隐藏测试", "NotImplementedError")}
    for word in words[lang]:
        assert word in prose, f"{rel} explains how exercises and self-checks work ({word!r})"
    for doc in re.findall(r"\]\((\.\./\.\./docs/[^)]+\.md)\)", prose):
        assert ((paths.ROOT / rel).parent / doc).resolve().is_file(), f"{rel} links to a missing {doc}"


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_title_badge_and_colab_setup(rel):
    nb = nbformat.read(paths.ROOT / rel, as_version=4)
    title, setup = nb.cells[0], nb.cells[1]
    assert title.cell_type == "markdown" and title.source.startswith("# ")
    badges = BADGE.findall(title.source)
    assert len(badges) == 1, "exactly one Open-in-Colab badge"
    repo, target = badges[0]
    assert f"https://github.com/{repo}" == paths.repository_url()
    assert target == rel, "the badge opens this very notebook"
    assert (paths.ROOT / target).is_file()
    assert setup.cell_type == "code"
    assert 'if "google.colab" in sys.modules:' in setup.source
    assert re.search(r'^LANG = "(en|zh)"', setup.source, re.M)


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_other_language_link_resolves(rel):
    title = nbformat.read(paths.ROOT / rel, as_version=4).cells[0].source
    link = re.search(r"· \[[^\]]+\]\(([^)]+\.ipynb)\)", title)
    assert link, "title links to the other language"
    assert ((paths.ROOT / rel).parent / link.group(1)).resolve().is_file()


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_language_is_consistent(rel):
    lang = "zh" if "/zh/" in rel else "en"
    nb = nbformat.read(paths.ROOT / rel, as_version=4)
    assert f'LANG = "{lang}"' in nb.cells[1].source
    prose = "".join(c.source for c in nb.cells[2:] if c.cell_type == "markdown")
    han = len(re.findall(r"[\u4e00-\u9fff]", prose))
    assert (han > 50) if lang == "zh" else (han < 0.02 * max(len(prose), 1)), f"{rel}: prose is not in {lang}"
    assert all(not o for c in nb.cells if c.cell_type == "code" for o in c.outputs), "outputs are stripped"


def test_repository_url_is_written_in_one_place():
    url = paths.repository_url()
    hits = [p for p in paths.ROOT.rglob("*") if p.is_file() and p.suffix in {".py", ".md", ".toml", ".yml", ".cfg"}
            and ".venv" not in p.parts and "build" not in p.parts and url in p.read_text(encoding="utf-8", errors="ignore")]
    assert [p.relative_to(paths.ROOT).as_posix() for p in hits] == ["pyproject.toml"]
