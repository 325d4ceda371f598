"""Everything generated from the chapter sources, as {repository path: file text}."""
from __future__ import annotations

import posixpath

import nbformat

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
            # No Colab badge: its tests cells import this package (autograder.grading.testcell), which Colab lacks.
            files[instructor] = to_text(
                render(nb, lang, badge_path=None, exercise=True,
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


HOME_TITLE = {"en": "Learn JAX — course home", "zh": "Learn JAX 课程主页"}
# The course home's prose, one (English, Chinese) pair per cell; {table}, {students}, {glossary}, {issues} filled in.
HOME_CELLS = [
    ("""Welcome! This course teaches [JAX](https://docs.jax.dev) with notebooks you run. Each chapter has two:
a **lesson** to read and run, and an **exercise** with tasks that are graded. Take the chapters in
order: each one builds on those before it.

The links open a notebook here in JupyterLab; the **Colab** links open it in Google Colab instead,
with nothing to install.""",
     """欢迎！本课程用可以直接运行的 notebook 讲授 [JAX](https://docs.jax.dev)。每一章有两个 notebook：一节边读边运行的\
**课程**，和一份带评分任务的**练习**。请按顺序学习，每一章都建立在前面几章的基础上。

下表的链接在当前的 JupyterLab 里打开 notebook；**Colab** 链接则在 Google Colab 中打开，无需安装任何东西。"""),
    ("## Chapters\n\n{table}", "## 章节\n\n{table}"),
    ("""## Lessons

A lesson is code you run. Run its cells from the top: one at a time with **Shift+Enter**, or all at
once with *Run → Run All Cells*. The first code cell is the set-up: it sets `LANG`, the language of
the messages that shared code prints, and in Colab installs what is missing. Change the code and run it
again; that is how a lesson teaches. If the notebook gets into a confusing state,
*Kernel → Restart Kernel and Run All Cells…* starts it over.""",
     """## 课程

课程就是你要运行的代码。从上往下运行各个单元格：按 **Shift+Enter** 逐个运行，或者用 *运行 → 运行所有单元格* \
一次运行全部。第一个代码单元格是设置单元：它设定 `LANG`（共用代码打印提示信息时使用的语言），在 Colab 里还会安装缺少的包。\
改一改代码再运行一遍，这正是学习课程的方式。如果 notebook 的状态乱了，*内核 → 重启并运行所有单元格…* 可以从头再来。"""),
    ("""## Exercises and self-checks

Each task of an exercise is a function to write. Its cell ends with `raise NotImplementedError()`:
replace that line with your code and keep the function's name and parameters. The cell below it is the
task's **self-check**: run it after your function. It runs without an error when the visible
checks pass; otherwise an `AssertionError` (or the error your code raised) says what is wrong.

* A self-check is a first test, not the grade. When your work is graded, **hidden tests** call your
  function with other inputs (other shapes, dtypes and seeds) and compare the values. A task's points
  are split over its hidden tests, so passing some of them earns part of the points.
* Write your answers in the solution cells only: the other cells are read-only, and grading uses the
  instructor's copy of them.
* The exercise's last cell, **Check my work**, runs every self-check again and prints a summary: which
  tasks pass and, for the others, why not. It earns no points.
* Before you hand in, run the whole notebook from a fresh kernel
  (*Kernel → Restart Kernel and Run All Cells…*) and check that every self-check passes.""",
     """## 练习与自检

练习里的每个任务都是一个要你实现的函数。它所在的单元格以 `raise NotImplementedError()` 结尾：把这一行换成你的代码，\
函数名和参数保持不变。紧接着的测试单元就是这个任务的**自检**：写好函数后运行它。可见的检查全部通过时它不报错；\
否则 `AssertionError`（或者你的代码抛出的错误）会说明哪里不对。

* 自检只是第一道检查，不是分数。评分时，**隐藏测试**会用别的输入（不同的形状、dtype 和随机种子）调用你的函数并比较结果。\
每个任务的分值平均分配给它的各个隐藏测试，通过其中一部分就能得到相应的部分分。
* 只在答案单元格里写代码：其他单元格都是只读的，评分时使用的是教师版中的这些单元格。
* 练习的最后一个单元格 **检查我的作业** 会把所有自检重新运行一遍并打印汇总：哪些任务通过了，没通过的原因是什么。它不计分。
* 提交之前，在新的内核里把整个 notebook 运行一遍（*内核 → 重启并运行所有单元格…*），确认每个自检都通过。"""),
    ("""## Handing in

Learning on your own? The exercises are your practice: there is nothing to submit. In a class that
grades with nbgrader, your instructor gives you the course id and where the assignments are; the
commands to fetch and submit them are in the student guide: {students}.""",
     """## 提交

如果你是自学，练习只是给自己巩固用的，不需要提交任何东西。如果你的课堂用 nbgrader 评分，教师会告诉你课程 ID 以及作业放在哪里；\
领取和提交作业的命令见学生指南：{students}。"""),
    ("""## Help

* The student guide, {students}: starting on your computer or in Colab, handing in, common problems.
* The glossary, {glossary}: the course's terms, with their Chinese renderings.
* Stuck on a task? Re-read the part of the lesson it practises, then ask your instructor or classmates.
  Found a mistake in the course itself? Open an issue: {issues}""",
     """## 获取帮助

* 学生指南 {students}：在自己的电脑上或在 Colab 中开始、提交作业、常见问题。
* 术语表 {glossary}：本课程用到的术语及其统一译法。
* 某个任务卡住了？先重读它所练习的那部分课程，再向教师或同学请教。发现课程本身有错误？请提交 issue：{issues}"""),
]
STUDENT_GUIDE = {"en": "docs/students.md", "zh": "docs/students.zh.md"}
GLOSSARY = {"en": "docs/glossary.md", "zh": "docs/glossary.zh.md"}


def _doc_link(from_path: str, doc: str) -> str:
    """A doc of this repository: the file beside the notebook (JupyterLab) and on GitHub (Colab has no files)."""
    on_github = f"[GitHub]({paths.repository_url()}/blob/main/{doc})"
    return f"[{doc}]({_relative(from_path, doc)})" + (f"（{on_github}）" if doc.endswith(".zh.md") else f" ({on_github})")


def _home_table(path: str, lang: str, lessons: list[str], exercises: list[str]) -> str:
    rows = [TABLE_HEAD[lang]]
    word = {"en": ("lesson", "exercise"), "zh": ("课程", "练习")}[lang]
    for slug in lessons:
        title = read_source(paths.source_path(slug, "lesson")).metadata[f"title_{lang}"]
        links = []
        for kind, target in ((word[0], paths.lesson_notebook(slug, lang)),
                             (word[1], paths.release_notebook(slug, lang) if slug in exercises else None)):
            links.append(f"[{kind}]({_relative(path, target)}) · [Colab]({paths.colab_base()}/{target})" if target else "")
        rows.append(f"| {slug[:2]} | {title} | {links[0]} | {links[1]} |")
    return "\n".join(rows)


def home_files(lessons: list[str], exercises: list[str]) -> dict[str, str]:
    """The course home notebook in each language: every chapter's lesson and exercise, and how they work."""
    files = {}
    for lang, other in zip(LANGS, reversed(LANGS)):
        path = paths.course_home_notebook(lang)
        fill = {"table": _home_table(path, lang, lessons, exercises), "issues": f"{paths.repository_url()}/issues",
                "students": _doc_link(path, STUDENT_GUIDE[lang]), "glossary": _doc_link(path, GLOSSARY[lang])}
        source = nbformat.v4.new_notebook(metadata={f"title_{code}": HOME_TITLE[code] for code in LANGS})
        for pair in HOME_CELLS:
            text = pair[LANGS.index(lang)]
            source.cells.append(nbformat.v4.new_markdown_cell(text.format(**fill), metadata={"lang": lang}))
        files[path] = to_text(render(source, lang, badge_path=path,
                                     other_lang_path=_relative(path, paths.course_home_notebook(other))))
    return files


def all_files(lessons: list[str] | None = None, exercises: list[str] | None = None) -> dict[str, str]:
    lessons = paths.chapters("lesson") if lessons is None else lessons
    exercises = paths.chapters("exercise") if exercises is None else exercises
    files = {}
    for slug in lessons:
        files.update(lesson_files(slug))
    files.update(exercise_files(exercises))
    files.update(home_files(lessons, exercises))
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
