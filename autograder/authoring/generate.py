"""Everything generated from the chapter sources, as {repository path: file text}."""
from __future__ import annotations

import posixpath

from autograder import paths
from autograder.authoring.release import generate_releases
from autograder.authoring.source import read_source, render, to_text
from autograder.notebook_format import LANGS


def _relative(from_path: str, to_path: str) -> str:
    return posixpath.relpath(to_path, posixpath.dirname(from_path))


def lesson_files(slug: str) -> dict[str, str]:
    nb = read_source(paths.source_path(slug, "lesson"))
    files = {}
    for lang, other in zip(LANGS, reversed(LANGS)):
        path = paths.lesson_notebook(slug, lang)
        other_path = _relative(path, paths.lesson_notebook(slug, other))
        files[path] = to_text(render(nb, lang, badge_path=path, other_lang_path=other_path))
    return files


def course_source(nb, slug: str, lang: str):
    """The instructor's notebook as a course's ``source/`` holds it: its badge already points at the release.

    ``nbgrader generate_assignment`` then makes exactly the committed release, so a student
    never gets a link to the solutions and nbgrader finds every locked cell unchanged.
    """
    release = paths.release_notebook(slug, lang)
    other = LANGS[1 - LANGS.index(lang)]
    return render(nb, lang, badge_path=release, exercise=True,
                  other_lang_path=_relative(release, paths.release_notebook(slug, other)))


def exercise_files(slugs: list[str]) -> dict[str, str]:
    files = {}
    sources = {slug: read_source(paths.source_path(slug, "exercise")) for slug in slugs}
    for lang, other in zip(LANGS, reversed(LANGS)):
        for_release = {}
        for slug, nb in sources.items():
            instructor = paths.instructor_notebook(slug, lang)
            files[instructor] = to_text(
                render(nb, lang, badge_path=instructor, exercise=True,
                       other_lang_path=_relative(instructor, paths.instructor_notebook(slug, other)))
            )
            for_release[slug] = course_source(nb, slug, lang)
        for slug, student_nb in generate_releases(for_release, lang).items():
            files[paths.release_notebook(slug, lang)] = to_text(student_nb)
    return files


TABLE_START, TABLE_END = "<!-- chapters:start -->", "<!-- chapters:end -->"
TABLE_HEAD = {
    "en": "| # | Chapter | Lesson | Exercise |\n|---|---|---|---|",
    "zh": "| # | 章节 | 课程 | 练习 |\n|---|---|---|---|",
}


def _badge(rel: str) -> str:
    return f"[![Colab](https://colab.research.google.com/assets/colab-badge.svg)]({paths.colab_base()}/{rel})"


def chapter_table(readme_lang: str, lessons: list[str]) -> str:
    rows = [TABLE_HEAD[readme_lang]]
    for slug in lessons:
        nb = read_source(paths.source_path(slug, "lesson"))
        for lang in LANGS:
            lesson, exercise = paths.lesson_notebook(slug, lang), paths.release_notebook(slug, lang)
            rows.append(f"| {slug[:2]} {lang} | {nb.metadata['title_' + lang]} | "
                        f"[ipynb]({lesson}) {_badge(lesson)} | [ipynb]({exercise}) {_badge(exercise)} |")
    return "\n".join(rows)


def readme_files(lessons: list[str]) -> dict[str, str]:
    """The READMEs with their chapter tables regenerated between the markers."""
    files = {}
    for rel, lang in (("README.md", "en"), ("README.zh.md", "zh")):
        path = paths.ROOT / rel
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        if TABLE_START in text and TABLE_END in text:
            head, rest = text.split(TABLE_START, 1)
            tail = rest.split(TABLE_END, 1)[1]
            files[rel] = f"{head}{TABLE_START}\n{chapter_table(lang, lessons)}\n{TABLE_END}{tail}"
    return files


def all_files(lessons: list[str] | None = None, exercises: list[str] | None = None) -> dict[str, str]:
    lessons = paths.chapters("lesson") if lessons is None else lessons
    exercises = paths.chapters("exercise") if exercises is None else exercises
    files = {}
    for slug in lessons:
        files.update(lesson_files(slug))
    files.update(exercise_files(exercises))
    files.update(readme_files(lessons))
    return files


GENERATED_GLOBS = ("notebooks/*/*.ipynb", "solutions/*/*/*.ipynb", "exercises/*/*/*.ipynb")


def existing_generated() -> set[str]:
    found = set()
    for pattern in GENERATED_GLOBS:
        found.update(p.relative_to(paths.ROOT).as_posix() for p in paths.ROOT.glob(pattern))
    return found


def write_all() -> list[str]:
    """Regenerate every file; delete generated files whose source is gone. Returns what changed."""
    files = all_files()
    changed = []
    for rel, text in sorted(files.items()):
        target = paths.ROOT / rel
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            changed.append(rel)
    for rel in sorted(existing_generated() - files.keys()):
        (paths.ROOT / rel).unlink()
        changed.append(f"{rel} (deleted: no source)")
    return changed
