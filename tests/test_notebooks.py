"""Every generated notebook opens right everywhere: title, Colab badge to its own file, Colab-only set-up."""
import re
import sys

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


def needs_this_package(nb) -> bool:
    """Code that imports the course's own package, which Colab does not have (the instructor's tests cells)."""
    return any(re.search(r"^\s*(from|import) autograder\b", c.source, re.M) for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_title_badge_and_colab_setup(rel):
    """A badge opens its own file, and only on a notebook that runs in Colab: the instructor's carry none."""
    nb = nbformat.read(paths.ROOT / rel, as_version=4)
    title, setup = nb.cells[0], nb.cells[1]
    assert title.cell_type == "markdown" and title.source.startswith("# ")
    badges = BADGE.findall(title.source)
    if rel.startswith("solutions/"):
        assert needs_this_package(nb) and badges == [], "the instructor's notebook imports autograder: no Colab badge"
    else:
        assert not needs_this_package(nb), "a notebook with a Colab badge needs nothing Colab lacks"
        assert len(badges) == 1, "exactly one Open-in-Colab badge"
        repo, target = badges[0]
        assert f"https://github.com/{repo}" == paths.repository_url()
        assert target == rel, "the badge opens this very notebook"
        assert (paths.ROOT / target).is_file()
    assert setup.cell_type == "code"
    assert 'if "google.colab" in sys.modules:' in setup.source
    assert re.search(r'^LANG = "(en|zh)"', setup.source, re.M)


@pytest.mark.parametrize("rel", [r for r in NOTEBOOKS if not r.startswith("solutions/")])
def test_what_a_colab_notebook_imports_is_installed_by_its_setup_cell_or_ships_with_colab(rel):
    nb = nbformat.read(paths.ROOT / rel, as_version=4)
    imported = {m.group(2).split(".")[0] for c in nb.cells if c.cell_type == "code"
                for m in re.finditer(r"^\s*(from|import) ([A-Za-z_][\w.]*)", c.source, re.M)}
    installed = {module for module, _ in re.findall(r'\("(\w+)", "([^"]+)"\)', nb.cells[1].source)}
    # the standard library, JAX with what it depends on (numpy, scipy), and matplotlib: every Colab runtime has them
    colab_has = set(sys.stdlib_module_names) | {"jax", "jaxlib", "numpy", "scipy", "matplotlib"}
    assert imported - installed - colab_has == set(), f"{rel} imports what Colab may lack and its set-up cell misses"


# ---------------------------------------------------------------- the set-up cell in Colab, without network


class FakeColab:
    """Runs a set-up cell as Colab would, with pip's and importlib's answers made up; records the pip commands."""

    def __init__(self, monkeypatch, versions: dict[str, str], missing: set[str] = frozenset()):
        import importlib.metadata
        import importlib.util
        import subprocess
        import types

        self.pip: list[list[str]] = []
        real_find_spec = importlib.util.find_spec

        def version(dist):
            if dist in versions:
                return versions[dist]
            raise importlib.metadata.PackageNotFoundError(dist)

        def find_spec(name, *args, **kwargs):
            return None if name in missing else real_find_spec(name, *args, **kwargs)

        def run(cmd, *args, **kwargs):
            assert list(cmd[:4]) == [sys.executable, "-m", "pip", "install"], cmd
            self.pip.append([c for c in cmd[4:] if c != "-q"])
            return subprocess.CompletedProcess(cmd, 0)

        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
        monkeypatch.setattr(importlib.metadata, "version", version)
        monkeypatch.setattr(importlib.util, "find_spec", find_spec)
        monkeypatch.setattr(subprocess, "run", run)

    def setup(self, rel: str) -> "FakeColab":
        namespace: dict = {}
        exec(compile(nbformat.read(paths.ROOT / rel, as_version=4).cells[1].source, rel, "exec"), namespace)
        assert namespace["LANG"] == ("zh" if "/zh/" in rel else "en")
        return self


FLOOR = ".".join(map(str, paths.min_version("jax")[:2]))
OLD, NEW = "0.4.30", f"{FLOOR}.3"
GPU = {"jax-cuda12-plugin": NEW, "jax-cuda12-pjrt": NEW}
LESSON = paths.lesson_notebook("01_jax_numpy", "en")
CAPSTONE_ZH = paths.lesson_notebook("13_capstone", "zh")  # optax, scikit-learn and, for zh figures, mplfonts


@pytest.mark.parametrize("runtime,versions,expected", [
    ("cpu, old jax", {"jax": OLD}, [[f"jax>={FLOOR}"]]),
    ("gpu, old jax", {"jax": OLD, **GPU}, [[f"jax[cuda12]>={FLOOR}"]]),
    ("gpu (pjrt name only), old jax", {"jax": OLD, "jax-cuda12-pjrt": NEW}, [[f"jax[cuda12]>={FLOOR}"]]),
    ("cpu, new jax", {"jax": NEW}, []),
    ("gpu, new jax", {"jax": NEW, **GPU}, []),
    ("gpu, release candidate", {"jax": f"{FLOOR}.0rc1", **GPU}, []),
])
def test_colab_setup_keeps_the_accelerator_jax_and_upgrades_only_when_too_old(monkeypatch, runtime, versions, expected):
    assert FakeColab(monkeypatch, versions).setup(LESSON).pip == expected, runtime


@pytest.mark.parametrize("runtime,versions", [("cpu", {"jax": NEW}), ("gpu", {"jax": OLD, **GPU})])
def test_colab_setup_installs_only_the_missing_packages_it_needs(monkeypatch, runtime, versions):
    upgrade = [f"jax[cuda12]>={FLOOR}"] if runtime == "gpu" else []
    assert FakeColab(monkeypatch, versions).setup(CAPSTONE_ZH).pip == ([upgrade] if upgrade else [])
    optax, sklearn = paths.requirement("optax"), paths.requirement("scikit-learn")
    got = FakeColab(monkeypatch, versions, missing={"optax", "sklearn"}).setup(CAPSTONE_ZH).pip
    assert got == [[*upgrade, optax, sklearn]], "one pip command: the jax upgrade with what is missing"
    assert "optax" not in nbformat.read(paths.ROOT / LESSON, as_version=4).cells[1].source
    assert FakeColab(monkeypatch, versions, missing={"optax", "sklearn", "rich"}).setup(LESSON).pip == (
        [upgrade] if upgrade else []), "a notebook installs nothing it does not use"


def test_colab_setup_does_nothing_outside_colab(monkeypatch):
    colab = FakeColab(monkeypatch, {"jax": OLD}, missing={"optax", "sklearn", "mplfonts"})
    monkeypatch.delitem(sys.modules, "google.colab")
    assert colab.setup(CAPSTONE_ZH).pip == []


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_other_language_link_resolves(rel):
    title = nbformat.read(paths.ROOT / rel, as_version=4).cells[0].source
    link = re.search(r"(?:· |^)\[[^\]]+\]\(([^)]+\.ipynb)\)", title, re.M)  # after the badge, if any
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
