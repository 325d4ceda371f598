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
    assert set(NOTEBOOKS) == expected


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
