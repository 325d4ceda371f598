"""Where every chapter file lives; the one place that knows the repository layout."""
from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLUG = re.compile(r"^\d\d_[a-z0-9_]+$")


@cache
def repository_url() -> str:
    """The public repository, read from pyproject.toml (the only place it is written)."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return meta["project"]["urls"]["Repository"].rstrip("/")


def requirement(name: str) -> str:
    """The pyproject.toml dependency line for one package, e.g. "mplfonts>=0.0.11"."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return next(r for r in meta["project"]["dependencies"] if re.match(rf"{re.escape(name)}\b", r))


def min_version(name: str) -> tuple[int, ...]:
    """The floor of a ``name>=X.Y`` dependency in pyproject.toml, e.g. (0, 10) for "jax>=0.10"."""
    floor = re.search(r">=\s*([0-9][0-9.]*)", requirement(name))
    if floor is None:
        raise ValueError(f"pyproject.toml gives {name} no minimum version (name>=X.Y)")
    return tuple(int(part) for part in floor.group(1).rstrip(".").split("."))


def colab_base() -> str:
    """Colab opens a notebook straight from the repository's main branch."""
    url = repository_url()
    return "https://colab.research.google.com/github/" + url.split("github.com/", 1)[1] + "/blob/main"


def chapters(kind: str) -> list[str]:
    """Slugs of every chapter that has a source of this kind, in order."""
    folder = ROOT / ("notebooks" if kind == "lesson" else "solutions")
    return sorted(p.stem for p in folder.glob("*.md") if SLUG.match(p.stem))


def shown(path: Path) -> str:
    """A path as people read it in messages: relative to the repository when inside it."""
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def source_path(slug: str, kind: str) -> Path:
    return ROOT / ("notebooks" if kind == "lesson" else "solutions") / f"{slug}.md"


def wrong_answers_path(slug: str) -> Path:
    return ROOT / "solutions" / f"{slug}.wrong.yml"


def course_home_notebook(lang: str) -> str:
    """The course's front page in one language: every chapter's lesson and exercise (``make lab`` opens it)."""
    return f"notebooks/{lang}/00_course_home.ipynb"


def lesson_notebook(slug: str, lang: str) -> str:
    return f"notebooks/{lang}/{slug}.ipynb"


def instructor_notebook(slug: str, lang: str) -> str:
    """nbgrader's source notebook: reference solutions and hidden tests."""
    return f"solutions/{lang}/{slug}/{slug}.ipynb"


def release_notebook(slug: str, lang: str) -> str:
    """What students get from `nbgrader generate_assignment`."""
    return f"exercises/{lang}/{slug}/{slug}.ipynb"
