"""`make site`: the course website, one Sphinx build per language from the notebooks `make run-notebooks` executed.

Shape: `build/site/index.html` (both languages) over `build/site/en/` and `build/site/zh/`, each a Sphinx + MyST-NB
build with the Furo theme (it bundles its CSS and scripts and names no web font). Every page of one language has
a twin at the same path in the other: the language switch is that path. Lessons show the outputs and figures of
`build/executed/notebooks/LANG/`; exercises are the student releases (no solutions, no hidden tests), not executed.

Nothing is fetched and nothing is loaded from the network: MathJax is served from the site (the
`sphinx-mathjax-offline` wheel carries it), widget scripts are off, and `check_site` fails on any page that loads
a script, stylesheet or image from another host. Chinese search splits words with jieba (its dictionary ships in the
package), taught the glossary's terms.

This module never imports Sphinx (the course's own install has no Sphinx): Sphinx runs in a subprocess with a
two-line conf.py that reads `sphinx_config`, and loads this module as the extension whose `setup` adds the
bar of buttons to every page.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib.util import find_spec
from pathlib import Path

from autograder import paths
from autograder.authoring.source import read_source
from autograder.notebook_format import LANGS

SITE = paths.ROOT / "build" / "site"
STAGE = paths.ROOT / "build" / "site-src"  # what Sphinx reads: staged notebooks, generated pages, conf.py
EXECUTED = paths.ROOT / "build" / "executed"
RUN_LESSONS = "make run-notebooks NOTEBOOK_KIND=lesson"
SPHINX_LANGUAGE = {"en": "en", "zh": "zh_CN"}
GLOSSARY = {"en": "docs/glossary.md", "zh": "docs/glossary.zh.md"}
LESSONS, EXERCISES, FILES = "lessons", "exercises", "files"  # page folders; FILES: the .ipynb downloads

# Every word the site adds, in both languages (the course's own terms: 课程 for a lesson, 练习 for an exercise).
LABELS = {
    "en": {"title": "Learn JAX", "switch": "简体中文", "colab": "Open in Colab", "download": "Download .ipynb",
           "exercise": "Exercise", "lesson": "Lesson", "glossary": "Glossary", "chapters": "Chapters",
           "reference": "Reference", "actions": "Page actions",
           "intro": "Lessons with their outputs and figures, and the exercises that go with them, in course order. "
                    "Every page opens in Colab or downloads as a notebook; the switch at the top of each page shows it "
                    "in Chinese.",
           "col_lesson": "Lesson", "col_exercise": "Exercise"},
    "zh": {"title": "Learn JAX 课程", "switch": "English", "colab": "在 Colab 中打开", "download": "下载 .ipynb",
           "exercise": "练习", "lesson": "课程", "glossary": "术语表", "chapters": "章节",
           "reference": "参考", "actions": "页面操作",
           "intro": "按学习顺序排列的各章课程（含运行结果和图表）及配套练习。每一页都可以在 Colab 中打开，或下载为 "
                    "notebook；页面顶部的切换按钮可转到对应的英文页面。",
           "col_lesson": "课程", "col_exercise": "练习"},
}
# Furo draws its "edit this page" button beside the theme toggle, above the article on every page (search included):
# the bar takes its place there, outside the text that search indexes and quotes.
TEMPLATES = {"components/edit-this-page.html": "{{ course_bar }}\n"}
# What a page's <html lang> and the switch's hreflang say.
HTML_LANG = {"en": "en", "zh": "zh-CN"}
# MathJax's parts that a page with TeX loads (tex-chtml.js, then fonts and extensions on demand); 6 MB, not 24.
MATHJAX_PARTS = ("tex-chtml.js", "input", "output", "a11y", "ui")


class SiteError(Exception):
    """The site cannot be built; the message says what to do."""


def _other(lang: str) -> str:
    return LANGS[1 - LANGS.index(lang)]


def title(slug: str, lang: str) -> str:
    return read_source(paths.source_path(slug, "lesson")).metadata[f"title_{lang}"]


# ---- staging: the pages Sphinx reads ---------------------------------------------------------------------------------

def executed_lesson(slug: str, lang: str, executed: Path = EXECUTED) -> Path:
    return executed / paths.lesson_notebook(slug, lang)


def _cell_sources(nb: dict) -> list[str]:
    return [c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in nb["cells"]]


def stale_or_missing(lessons: list[str], executed: Path = EXECUTED) -> list[str]:
    """Executed lessons that are missing, or whose cells differ from the generated notebook (run before an edit)."""
    problems = []
    for slug in lessons:
        for lang in LANGS:
            path = executed_lesson(slug, lang, executed)
            if not path.exists():
                problems.append(f"{paths.shown(path)} is missing")
                continue
            current = json.loads((paths.ROOT / paths.lesson_notebook(slug, lang)).read_text(encoding="utf-8"))
            if _cell_sources(json.loads(path.read_text(encoding="utf-8"))) != _cell_sources(current):
                problems.append(f"{paths.shown(path)} was executed from an older {paths.lesson_notebook(slug, lang)}")
    return problems


# A line break inside a paragraph becomes a space in HTML: right between two Chinese characters (or a Chinese
# punctuation mark) it shows as a gap in the sentence. Browsers do not drop it (CSS allows them to; Chromium does not).
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_CJK_BREAK = re.compile(f"(?<=[{_CJK}])[ \\t]*\\n[ \\t]*(?=[{_CJK}])")


def join_chinese_lines(markdown: str) -> str:
    """Markdown with the line breaks between two Chinese characters removed, code blocks left alone."""
    parts = re.split(r"(^```.*?^```)", markdown, flags=re.M | re.S)
    return "".join(part if part.startswith("```") else _CJK_BREAK.sub("", part) for part in parts)


def page_notebook(nb: dict, heading: str, lang: str) -> dict:
    """A generated notebook as a web page: its title alone (the bar replaces the badge and the language link), and
    the Colab set-up cell removed (it does nothing outside Colab)."""
    nb = json.loads(json.dumps(nb))
    first, setup = nb["cells"][0], nb["cells"][1]
    if first["cell_type"] != "markdown" or setup["cell_type"] != "code" or "google.colab" not in "".join(setup["source"]):
        raise SiteError("a generated notebook no longer starts with its title cell and Colab set-up cell: "
                        "update autograder/authoring/site.py's page_notebook to match source.render")
    first["source"] = f"# {heading}"
    setup.setdefault("metadata", {}).setdefault("tags", []).append("remove-cell")
    if lang == "zh":
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                cell["source"] = join_chinese_lines("".join(cell["source"]))
    return nb


def _with_toctree(nb: dict, entries: list[str]) -> dict:
    """A hidden toctree under a lesson: its exercise follows it in the sidebar and in previous/next."""
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "id": "site-toctree",
                        "source": "```{toctree}\n:hidden:\n\n" + "\n".join(entries) + "\n```"})
    return nb


def _index_page(lang: str, lessons: list[str], exercises: list[str]) -> str:
    t = LABELS[lang]
    rows = [f"| | {t['col_lesson']} | {t['col_exercise']} |", "|---|---|---|"]
    for slug in lessons:
        exercise = f"{{doc}}`{t['exercise']} <{EXERCISES}/{slug}>`" if slug in exercises else ""
        rows.append(f"| {slug[:2]} | {{doc}}`{title(slug, lang)} <{LESSONS}/{slug}>` | {exercise} |")
    toctree = "\n".join(f"{LESSONS}/{slug}" for slug in lessons)
    return (f"# {t['title']}\n\n{t['intro']}\n\n" + "\n".join(rows) + "\n\n"
            f"```{{toctree}}\n:hidden:\n:caption: {t['chapters']}\n\n{toctree}\n```\n\n"
            f"```{{toctree}}\n:hidden:\n:caption: {t['reference']}\n\nglossary\n```\n")


def _glossary_page(lang: str) -> str:
    """docs/glossary(.zh).md without its link to the other language's file (the bar's switch replaces it)."""
    text = (paths.ROOT / GLOSSARY[lang]).read_text(encoding="utf-8")
    text = re.sub(r"^\*\[[^\]]+\]\(glossary(\.zh)?\.md\)\*\n\n", "", text, count=1, flags=re.M)
    return join_chinese_lines(text) if lang == "zh" else text


def glossary_terms() -> list[str]:
    """The glossary's Chinese terms, as jieba should cut them: "缓冲区捐赠（buffer donation）" -> 缓冲区捐赠."""
    terms = []
    for line in (paths.ROOT / GLOSSARY["zh"]).read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.search(r"[\u4e00-\u9fff]", cells[1]):
            terms += [t for t in re.split(r"[（(）)/、，,\s]+", cells[1]) if re.search(r"[\u4e00-\u9fff]", t)]
    return sorted(set(terms))


# Messages of Sphinx's search page that its Chinese catalog lacks (it has the older "page(s)" wording): without them
# a Chinese reader's search ends in an English sentence. Sphinx's plural forms are a list, one form for Chinese.
SEARCH_MESSAGES = {"zh": {
    "Search finished, found one page matching the search query.": ["搜索完成，找到 ${resultCount} 个匹配的页面。"],
}}


# The Furo theme's words that Sphinx's Chinese catalog lacks (Furo has none of its own): a Chinese page would say
# "Next", "On this page". Staged as locale/zh_CN/LC_MESSAGES/sphinx.po, which Sphinx compiles and reads first.
THEME_MESSAGES = {"zh": {
    "Next": "下一页", "Previous": "上一页", "On this page": "本页目录", "Back to top": "回到顶部",
    "Skip to content": "跳到正文", "Home": "首页", "Made with ": "网站主题：",
    "Please activate JavaScript to enable the search functionality.": "请启用 JavaScript 以使用搜索功能。",
}}


def _theme_po(lang: str) -> str | None:
    if lang not in THEME_MESSAGES:
        return None
    entries = "".join(f"\nmsgid {json.dumps(en)}\nmsgstr {json.dumps(zh, ensure_ascii=False)}\n"
                      for en, zh in THEME_MESSAGES[lang].items())
    return 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n' + entries


def _search_translations(lang: str) -> str | None:
    """Sphinx's own translations.js for the language with SEARCH_MESSAGES added (read from locale_dirs)."""
    if lang not in SEARCH_MESSAGES:
        return None
    spec = find_spec("sphinx")
    catalog = Path(spec.origin).parent / "locale" / SPHINX_LANGUAGE[lang] / "LC_MESSAGES" / "sphinx.js"
    text = catalog.read_text(encoding="utf-8")
    data = json.loads(text[text.index("(") + 1:text.rindex(")")])
    data["messages"] = {**data["messages"], **SEARCH_MESSAGES[lang]}
    return f"Documentation.addTranslations({json.dumps(data, ensure_ascii=False, indent=1)});\n"


def _mathjax_dir() -> Path:
    spec = find_spec("sphinx-mathjax-offline")  # the wheel's folder has a dash in its name
    if spec is None or not spec.submodule_search_locations:
        raise SiteError("sphinx-mathjax-offline is not installed: run `make .venv/.installed` (the dev extra)")
    return Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"


def stage(lang: str, lessons: list[str], exercises: list[str], stage_root: Path = STAGE,
          executed: Path = EXECUTED) -> Path:
    """Write one language's Sphinx project: conf.py, the home page, lessons, exercises, glossary, static files."""
    src = stage_root / lang
    shutil.rmtree(src, ignore_errors=True)
    for folder in (LESSONS, EXERCISES, f"_extra/{FILES}/{LESSONS}", f"_extra/{FILES}/{EXERCISES}", "_static/mathjax"):
        (src / folder).mkdir(parents=True, exist_ok=True)
    (src / "conf.py").write_text(
        "# Generated by autograder/authoring/site.py (make site); the settings live there.\n"
        f"from autograder.authoring.site import sphinx_config\nglobals().update(sphinx_config({lang!r}))\n",
        encoding="utf-8")
    (src / "index.md").write_text(_index_page(lang, lessons, exercises), encoding="utf-8")
    (src / "glossary.md").write_text(_glossary_page(lang), encoding="utf-8")
    for slug in lessons:
        nb = page_notebook(json.loads(executed_lesson(slug, lang, executed).read_text(encoding="utf-8")),
                           title(slug, lang), lang)
        if slug in exercises:
            nb = _with_toctree(nb, [f"/{EXERCISES}/{slug}"])
        (src / LESSONS / f"{slug}.ipynb").write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
        shutil.copyfile(paths.ROOT / paths.lesson_notebook(slug, lang), src / f"_extra/{FILES}/{LESSONS}/{slug}.ipynb")
    for slug in exercises:
        release = paths.ROOT / paths.release_notebook(slug, lang)
        heading = f"{LABELS[lang]['exercise']}{'：' if lang == 'zh' else ': '}{title(slug, lang)}"
        nb = page_notebook(json.loads(release.read_text(encoding="utf-8")), heading, lang)
        (src / EXERCISES / f"{slug}.ipynb").write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
        shutil.copyfile(release, src / f"_extra/{FILES}/{EXERCISES}/{slug}.ipynb")
    for name, text in TEMPLATES.items():
        (src / "_templates" / name).parent.mkdir(parents=True, exist_ok=True)
        (src / "_templates" / name).write_text(text, encoding="utf-8")
    shutil.copyfile(Path(__file__).with_name("site.css"), src / "_static" / "course.css")
    mathjax = _mathjax_dir()
    for part in MATHJAX_PARTS:
        (shutil.copytree if (mathjax / part).is_dir() else shutil.copyfile)(mathjax / part, src / "_static/mathjax" / part)
    catalogs = src / "locale" / SPHINX_LANGUAGE[lang] / "LC_MESSAGES"
    for name, text in (("sphinx.js", _search_translations(lang)), ("sphinx.po", _theme_po(lang))):
        if text:
            catalogs.mkdir(parents=True, exist_ok=True)
            (catalogs / name).write_text(text, encoding="utf-8")
    (src / "jieba_dict.txt").write_text("".join(f"{term} 10000 n\n" for term in glossary_terms()), encoding="utf-8")
    return src


# ---- Sphinx: its configuration and the extension that adds the bar -----------------------------------------------------

def sphinx_config(lang: str) -> dict:
    """conf.py's settings for one language (the staged conf.py calls this)."""
    return {
        "project": LABELS[lang]["title"],
        "html_title": LABELS[lang]["title"],
        "language": SPHINX_LANGUAGE[lang],
        "extensions": ["myst_nb", "autograder.authoring.site"],
        "exclude_patterns": ["_build", "_extra", "_templates", "locale", "jieba_dict.txt"],
        "html_theme": "furo",
        "html_theme_options": {"top_of_page_buttons": ["edit"]},  # where TEMPLATES puts the bar
        "templates_path": ["_templates"],
        "html_static_path": ["_static"],
        "html_use_index": False,
        "html_extra_path": ["_extra"],
        "html_css_files": ["course.css"],
        "html_show_sourcelink": False,
        "html_show_copyright": False,
        "html_show_sphinx": False,
        "html_copy_source": False,
        "html_last_updated_fmt": None,
        # MathJax from this site, not from a CDN
        "mathjax_path": "mathjax/tex-chtml.js",
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "nb_execution_mode": "off",  # the outputs are make run-notebooks' (never executed twice)
        "nb_merge_streams": True,
        "nb_ipywidgets_js": {},  # widget scripts come from a CDN; the course has no widgets
        # Chinese words for search: jieba, taught the glossary's terms
        "locale_dirs": ["locale"],  # SEARCH_MESSAGES and THEME_MESSAGES
        "html_search_options": {"dict": "jieba_dict.txt"} if lang == "zh" else {},
        "suppress_warnings": ["mystnb.unknown_mime_type"],
    }


@dataclass(frozen=True)
class Link:
    """One button of a page's bar."""
    css: str
    href: str
    label: str
    attrs: str = ""


def page_links(pagename: str, lang: str, exercises: set[str], lessons: set[str]) -> list[Link]:
    """The bar of one page: language switch first, then (lessons and exercises) Colab, download, the other half."""
    t = LABELS[lang]
    up = "../" * pagename.count("/")
    other = _other(lang)
    links = [Link("course-lang-switch", f"{up}../{other}/{pagename}.html", t["switch"],
                  f' hreflang="{HTML_LANG[other]}" lang="{HTML_LANG[other]}"')]
    folder, _, slug = pagename.rpartition("/")
    if folder == LESSONS:
        links += [Link("course-colab", f"{paths.colab_base()}/{paths.lesson_notebook(slug, lang)}", t["colab"]),
                  Link("course-download", f"{up}{FILES}/{LESSONS}/{slug}.ipynb", t["download"], " download"),
                  *([Link("course-exercise", f"{up}{EXERCISES}/{slug}.html", t["exercise"])] if slug in exercises else [])]
    elif folder == EXERCISES:
        links += [Link("course-colab", f"{paths.colab_base()}/{paths.release_notebook(slug, lang)}", t["colab"]),
                  Link("course-download", f"{up}{FILES}/{EXERCISES}/{slug}.ipynb", t["download"], " download"),
                  *([Link("course-lesson", f"{up}{LESSONS}/{slug}.html", t["lesson"])] if slug in lessons else [])]
    return links


def bar_html(links: list[Link], lang: str) -> str:
    items = "".join(f'<a class="course-button {link.css}" href="{html.escape(link.href)}"{link.attrs}>'
                    f"{html.escape(link.label)}</a>" for link in links)
    return f'<nav class="course-actions" aria-label="{LABELS[lang]["actions"]}">{items}</nav>\n'


def _add_bar(app, pagename, templatename, context, doctree) -> None:
    lang = "zh" if app.config.language.startswith("zh") else "en"
    src = Path(app.srcdir)
    lessons = {p.stem for p in (src / LESSONS).glob("*.ipynb")}
    exercises = {p.stem for p in (src / EXERCISES).glob("*.ipynb")}
    context["course_bar"] = bar_html(page_links(pagename, lang, exercises, lessons), lang)


def setup(app):
    """The Sphinx extension: the bar of buttons on every page (TEMPLATES puts it at the top)."""
    app.connect("html-page-context", _add_bar)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# ---- the build --------------------------------------------------------------------------------------------------------

def _root_index() -> str:
    links = "".join(f'<li><a class="course-lang" href="{lang}/index.html" lang="{HTML_LANG[lang]}">'
                    f"{name}</a></li>" for lang, name in (("en", "English"), ("zh", "简体中文")))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>Learn JAX · Learn JAX 课程</title></head>\n<body style=\"font-family: system-ui, sans-serif; "
            "max-width: 40rem; margin: 4rem auto; line-height: 1.6\">\n<h1>Learn JAX</h1>\n"
            "<p>A bilingual JAX course. <span lang=\"zh-CN\">双语 JAX 课程。</span></p>\n"
            f"<ul>{links}</ul>\n</body></html>\n")


def sphinx_build(src: Path, out: Path, log: Path) -> None:
    """One language's Sphinx build in a subprocess; a failure shows the log's tail.

    Sphinx writes into the staging folder and only its HTML is copied to `out`: beside its output folder it leaves
    its doctrees and MyST-NB's `jupyter_execute/` (copies of every figure), which the site must not publish.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(paths.ROOT), os.environ.get("PYTHONPATH")) if p)}
    html_dir = src / "_build" / "html"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-j", "1",
           "-d", str(src / "_build" / "doctrees"), str(src), str(html_dir)]
    with log.open("w", encoding="utf-8") as handle:
        done = subprocess.run(cmd, env=env, cwd=src, stdout=handle, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise SiteError(f"sphinx-build failed for {paths.shown(src)} (log: {paths.shown(log)}):\n{tail}")
    shutil.copytree(html_dir, out, ignore=shutil.ignore_patterns(".buildinfo", "_sources"))


def build(out: Path = SITE, stage_root: Path = STAGE, executed: Path = EXECUTED) -> float:
    """`make site`: stage and build both languages, then the root page; returns the seconds it took."""
    start = time.monotonic()
    lessons, exercises = paths.chapters("lesson"), paths.chapters("exercise")
    problems = stale_or_missing(lessons, executed)
    if problems:
        shown = problems[:4] + ([f"... and {len(problems) - 4} more"] if len(problems) > 4 else [])
        raise SiteError("the site shows the executed lessons, and these are not ready:\n  " + "\n  ".join(shown)
                        + f"\nRun `{RUN_LESSONS}` first (about 3 minutes on 2 cores), then `make site`.")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for lang in LANGS:
        src = stage(lang, lessons, exercises, stage_root, executed)
        sphinx_build(src, out / lang, stage_root / f"sphinx-{lang}.log")
    (out / "index.html").write_text(_root_index(), encoding="utf-8")
    (out / ".nojekyll").write_text("", encoding="utf-8")  # GitHub Pages: serve _static/ as it is
    return time.monotonic() - start


# ---- checks: links, the language switch, pairs, nothing from the network ----------------------------------------------

class _Page(HTMLParser):
    """The links, loaded resources and ids of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []  # <a href>
        self.loads: list[str] = []  # what the page loads: scripts, stylesheets, images, icons
        self.ids: set[str] = set()
        self.switches: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "a" and a.get("href") is not None:
            self.links.append(a["href"])
            if "course-lang-switch" in (a.get("class") or "").split():
                self.switches.append(a["href"])
        elif tag in ("script", "img", "iframe", "source", "video", "audio") and a.get("src"):
            self.loads.append(a["src"])
        elif tag == "link" and a.get("href") and (a.get("rel") or "") not in ("canonical", "alternate"):
            self.loads.append(a["href"])


EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.I)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def _target(site: Path, page: Path, href: str) -> tuple[Path, str]:
    path, _, fragment = href.partition("#")
    path = path.split("?", 1)[0]
    target = page if not path else (page.parent / path)
    target = Path(os.path.normpath(target))
    if target.is_dir():
        target = target / "index.html"
    return target, fragment


def check_site(site: Path, lessons: list[str], exercises: list[str]) -> list[str]:
    """Every problem of a built site, as sentences: broken internal links and anchors, a missing or wrong language
    switch, a lesson or exercise page missing in a language, anything loaded from the network."""
    problems = []
    if not site.is_dir():
        return [f"{paths.shown(site)} does not exist: run `make site`"]
    for lang in LANGS:
        expected = ["index.html", "glossary.html", *(f"{LESSONS}/{s}.html" for s in lessons),
                    *(f"{EXERCISES}/{s}.html" for s in exercises)]
        problems += [f"{lang}/{rel}: missing" for rel in expected if not (site / lang / rel).is_file()]
    pages = sorted(site.rglob("*.html"))
    parsed = {p: _parse(p) for p in pages}
    for page, info in parsed.items():
        rel = page.relative_to(site).as_posix()
        for src in info.loads:
            if src.startswith("data:"):
                continue
            if EXTERNAL.match(src):
                problems.append(f"{rel}: loads {src} from the network")
            elif not _target(site, page, src)[0].is_file():
                problems.append(f"{rel}: loads {src}, which is missing")
        for href in info.links:
            if EXTERNAL.match(href) or href.startswith("data:"):
                continue
            target, fragment = _target(site, page, href)
            if not target.is_file() or not target.resolve().is_relative_to(site.resolve()):
                problems.append(f"{rel}: broken link {href}")
            elif fragment and target.suffix == ".html" and fragment not in parsed.get(target, _Page()).ids:
                problems.append(f"{rel}: link {href}: no #{fragment} in {target.relative_to(site).as_posix()}")
        lang, _, inner = rel.partition("/")
        if lang in LANGS and inner:
            twin = f"{_other(lang)}/{inner}"
            if len(info.switches) != 1:
                problems.append(f"{rel}: {len(info.switches)} language switches, expected 1")
            elif _target(site, page, info.switches[0])[0] != site / twin:
                problems.append(f"{rel}: language switch goes to {info.switches[0]}, not to {twin}")
    return problems


def main_build(out: Path = SITE) -> int:
    """The `site` subcommand: build, then check what was built."""
    try:
        seconds = build(out)
    except SiteError as exc:
        print(f"site: {exc}", file=sys.stderr)
        return 1
    problems = check_site(out, paths.chapters("lesson"), paths.chapters("exercise"))
    for problem in problems:
        print(f"site: {problem}", file=sys.stderr)
    if problems:
        print(f"site: FAILED, {len(problems)} problem(s) in {paths.shown(out)}", file=sys.stderr)
        return 1
    pages = len(list(out.rglob("*.html")))
    print(f"site: {paths.shown(out)}: {pages} pages in {', '.join(LANGS)}, built in {seconds:.0f} s; "
          f"open {paths.shown(out / 'index.html')} or serve it: python -m http.server -d {paths.shown(out)}")
    return 0
