"""`make check-sync`: generated files match their sources, languages pair up, releases leak nothing."""
from __future__ import annotations

import json
import re

from autograder import paths
from autograder.notebook_format import LANGS
from autograder.authoring import signatures
from autograder.authoring.generate import all_files, existing_generated
from autograder.authoring.source import (
    HIDDEN_BEGIN,
    _where,
    SOLUTION_BEGIN,
    SOLUTION_END,
    SourceError,
    hidden_block,
    read_source,
)

# Shorter lines (`return x`, `pass`) are too common to prove a leak.
MIN_LEAK_LINE = 16

# "chapter 12", "Chapters 3 and 12", "第 12 章", "第 3、12 章" anywhere; "ch12", "ch. 12" in prose only
# (in code `ch1` may well be a variable).
_NUMBERS = r"\d+(?:\s*(?:,|、|，|and|or|to|和|或|至|到|-|–)\s*(?:第\s*)?\d+)*"
CHAPTER_REF = re.compile(rf"\bchapters?\s+({_NUMBERS})|第\s*({_NUMBERS})\s*章", re.I)
CHAPTER_REF_SHORT = re.compile(r"(?<![\w.])ch\.?\s?(\d+)(?!\w)", re.I)


def _first_line(cell) -> str:
    return next((line for line in "".join(cell.get("source", "")).splitlines() if line.strip()), "")[:60]


def describe_difference(rel: str, expected: str, actual: str) -> str:
    if not rel.endswith(".ipynb"):
        return f"{rel}: the generated part (chapter table) is stale; run `make notebooks`"
    try:
        want, got = json.loads(expected), json.loads(actual)
    except json.JSONDecodeError:
        return f"{rel}: not valid notebook JSON; regenerate it with `make notebooks`"
    want_cells, got_cells = want.get("cells", []), got.get("cells", [])
    for i, (w, g) in enumerate(zip(want_cells, got_cells)):
        if w != g:
            return (f"{rel}: cell {i} ({_first_line(g)!r}) differs from what its source produces "
                    "(edited by hand?); run `make notebooks`")
    if len(want_cells) != len(got_cells):
        return f"{rel}: has {len(got_cells)} cells, its source produces {len(want_cells)}; run `make notebooks`"
    return f"{rel}: notebook metadata differs from what its source produces; run `make notebooks`"


def secret_lines(slug: str) -> set[str]:
    """Lines of reference solutions and hidden tests that must never reach a student.

    A line that the source also shows publicly (an import, a visible self-check) is no secret.
    """
    nb = read_source(paths.source_path(slug, "exercise"))
    secrets, public = set(), set()
    for cell in nb.cells:
        text = cell.source
        tags = cell.metadata.get("tags", [])
        if "solution" in tags:
            before, rest = text.split(SOLUTION_BEGIN, 1)
            body, after = rest.split(SOLUTION_END, 1)
            secrets.update(body.splitlines())
            text = before + after
        elif "tests" in tags:
            secrets.update(hidden_block(text).splitlines())
            text = text.replace(hidden_block(text), "")
        public.update(line.strip() for line in text.splitlines())
    secrets = {line.strip() for line in secrets} - public
    return {line for line in secrets if len(line) >= MIN_LEAK_LINE and not line.startswith("#")}


def leaks(rel: str, text: str, secrets: set[str]) -> list[str]:
    problems = []
    for i, cell in enumerate(json.loads(text).get("cells", [])):
        source = "".join(cell.get("source", ""))
        for marker in (SOLUTION_BEGIN, HIDDEN_BEGIN):
            if marker in source:
                problems.append(f"{rel}: cell {i} ({_first_line(cell)!r}) still contains {marker!r}")
        for line in sorted(secrets & {line.strip() for line in source.splitlines()}):
            problems.append(f"{rel}: cell {i} ({_first_line(cell)!r}) reveals solution/hidden-test text: {line!r}")
    return problems


def dangling_chapter_refs(nb, path, chapters: set[int]) -> list[str]:
    """References to a chapter number that no source has: a promise the course does not keep."""
    problems = []
    for i, cell in enumerate(nb.cells):
        refs = [m.group(1) or m.group(2) for m in CHAPTER_REF.finditer(cell.source)]
        if cell.cell_type == "markdown":
            refs += [m.group(1) for m in CHAPTER_REF_SHORT.finditer(cell.source)]
        missing = sorted({int(n) for ref in refs for n in re.findall(r"\d+", ref)} - chapters)
        if missing:
            problems.append(f"{_where(path, i, cell)}: refers to chapter {', '.join(map(str, missing))}, which has "
                            "no source; name an existing chapter or say 'a later chapter' / '后面的章节'")
    return problems


def dangling_refs_in_docs(chapters: set[int]) -> list[str]:
    """The READMEs and docs/ may name only chapters that exist, like the sources."""
    problems = []
    docs = [paths.ROOT / "README.md", paths.ROOT / "README.zh.md", *sorted((paths.ROOT / "docs").glob("*.md"))]
    for doc in (d for d in docs if d.exists()):
        for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            refs = [m.group(1) or m.group(2) for m in CHAPTER_REF.finditer(line)]
            missing = sorted({int(x) for ref in refs for x in re.findall(r"\d+", ref)} - chapters)
            if missing:
                problems.append(f"{paths.shown(doc)}:{n}: refers to chapter {', '.join(map(str, missing))}, which has no source")
    return problems


def check() -> list[str]:
    problems = []
    lessons, exercises = [], []
    numbers = {int(slug[:2]) for kind in ("lesson", "exercise") for slug in paths.chapters(kind)}
    for kind, good in (("lesson", lessons), ("exercise", exercises)):
        for slug in paths.chapters(kind):
            path = paths.source_path(slug, kind)
            try:
                problems.extend(dangling_chapter_refs(read_source(path), path, numbers))
                good.append(slug)
            except SourceError as exc:
                problems.append(str(exc))
    problems.extend(dangling_refs_in_docs(numbers))
    for slug in paths.chapters("lesson"):
        if slug not in paths.chapters("exercise"):
            problems.append(f"{paths.shown(paths.source_path(slug, 'exercise'))}: lesson {slug} has no exercise source")
    expected = all_files(lessons, exercises)
    for rel, text in sorted(expected.items()):
        target = paths.ROOT / rel
        if not target.exists():
            problems.append(f"{rel}: missing; run `make notebooks`")
        elif (actual := target.read_text(encoding="utf-8")) != text:
            problems.append(describe_difference(rel, text, actual))
    broken = {paths.release_notebook(s, lang) for s in paths.chapters("exercise") if s not in exercises for lang in LANGS}
    for rel in sorted(existing_generated() - expected.keys() - broken):
        problems.append(f"{rel}: generated file with no source; run `make notebooks` to delete it")
    for slug in exercises:
        problems.extend(signatures.problems(slug))
        secrets = secret_lines(slug)
        for lang in LANGS:
            target = paths.ROOT / paths.release_notebook(slug, lang)
            if target.exists():
                problems.extend(leaks(paths.release_notebook(slug, lang), target.read_text(encoding="utf-8"), secrets))
    return problems
