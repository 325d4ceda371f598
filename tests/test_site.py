"""The course website (`make site`): its checker, on hand-made sites that are broken on purpose, then the real site.

The unit tests run with the others. The tests marked `site` need `build/site/`: `make test` runs them after
`make run-notebooks NOTEBOOK_KIND=lesson` and `make site`, so no lesson is executed twice; run on their own
(`pytest -m site tests/test_site.py`), they build a stale or missing site from the executed lessons first.
The real-browser test opens a chapter in English, switches to Chinese, sees a figure and a code output, and
searches a JAX term in each language, with every host but 127.0.0.1 unresolvable; screenshots land in
build/screenshots/site-*.png. Without Chromium, a Chinese font or Playwright it is skipped, saying why (CI: fails).
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import posixpath
import re
import threading
from pathlib import Path

import pytest

import browserlib
from autograder import paths
from autograder.authoring import site
from autograder.notebook_format import LANGS
from conftest import ROOT

LESSONS, EXERCISES = paths.chapters("lesson"), paths.chapters("exercise")
CHAPTER = "03_autodiff"  # a chapter with figures, printed outputs and math
# A JAX term each language's search must find, and a page it must list (the Chinese one is a glossary term: jieba
# must cut it as one word).
SEARCHES = {"en": ("vmap", "lessons/05_vmap.html"), "zh": ("自动微分", "lessons/03_autodiff.html")}


# ---- the checker on hand-made sites -------------------------------------------------------------------------------------

def _page(switch: str | None, body: str = "") -> str:
    bar = f'<a class="course-lang-switch" href="{switch}">switch</a>' if switch else ""
    return f'<!DOCTYPE html><html><head></head><body><h2 id="top">t</h2>{bar}{body}</body></html>'


def _tiny_site(root: Path) -> Path:
    """A well-formed site of one lesson and one exercise per language."""
    for lang in LANGS:
        other = LANGS[1 - LANGS.index(lang)]
        (root / lang / "lessons").mkdir(parents=True)
        (root / lang / "exercises").mkdir()
        (root / lang / "index.html").write_text(_page(f"../{other}/index.html", '<a href="lessons/01_a.html#top">1</a>'))
        (root / lang / "glossary.html").write_text(_page(f"../{other}/glossary.html"))
        (root / lang / "lessons" / "01_a.html").write_text(
            _page(f"../../{other}/lessons/01_a.html", '<a href="../exercises/01_a.html">ex</a><a href="#top">up</a>'
                  '<a href="https://colab.research.google.com/x">colab</a>'))
        (root / lang / "exercises" / "01_a.html").write_text(_page(f"../../{other}/exercises/01_a.html"))
    (root / "index.html").write_text('<a href="en/index.html">en</a><a href="zh/index.html">zh</a>')
    return root


def test_the_checker_passes_a_sound_site(tmp_path):
    assert site.check_site(_tiny_site(tmp_path), ["01_a"], ["01_a"]) == []


def test_the_checker_finds_broken_links_and_anchors(tmp_path):
    root = _tiny_site(tmp_path)
    (root / "en" / "index.html").write_text(_page("../zh/index.html", '<a href="lessons/02_b.html">2</a>'
                                                                      '<a href="glossary.html#nowhere">g</a>'))
    problems = site.check_site(root, ["01_a"], ["01_a"])
    assert "en/index.html: broken link lessons/02_b.html" in problems
    assert "en/index.html: link glossary.html#nowhere: no #nowhere in en/glossary.html" in problems
    assert len(problems) == 2, problems


def test_the_checker_finds_a_missing_chinese_page_and_a_wrong_switch(tmp_path):
    root = _tiny_site(tmp_path)
    (root / "zh" / "exercises" / "01_a.html").unlink()
    (root / "en" / "glossary.html").write_text(_page("../zh/index.html"))
    (root / "zh" / "index.html").write_text(_page(None))
    problems = site.check_site(root, ["01_a"], ["01_a"])
    assert "zh/exercises/01_a.html: missing" in problems
    assert "en/exercises/01_a.html: broken link ../../zh/exercises/01_a.html" in problems
    assert "en/glossary.html: language switch goes to ../zh/index.html, not to zh/glossary.html" in problems
    assert "zh/index.html: 0 language switches, expected 1" in problems


def test_the_checker_refuses_what_loads_from_the_network(tmp_path):
    root = _tiny_site(tmp_path)
    (root / "en" / "index.html").write_text(_page("../zh/index.html", (
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>'
        '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Noto"><script src="_static/gone.js"></script>')))
    problems = site.check_site(root, ["01_a"], ["01_a"])
    assert problems == ["en/index.html: loads https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js from the network",
                        "en/index.html: loads //fonts.googleapis.com/css?family=Noto from the network",
                        "en/index.html: loads _static/gone.js, which is missing"]


def test_every_page_has_a_switch_to_its_twin():
    links = site.page_links("lessons/03_autodiff", "en", exercises={"03_autodiff"}, lessons={"03_autodiff"})
    assert [link.css for link in links] == ["course-lang-switch", "course-colab", "course-download", "course-exercise"]
    assert links[0].href == "../../zh/lessons/03_autodiff.html" and links[0].label == "简体中文"
    assert links[1].href.endswith("/blob/main/notebooks/en/03_autodiff.ipynb")
    assert links[3].href == "../exercises/03_autodiff.html"
    back = site.page_links("exercises/03_autodiff", "zh", exercises={"03_autodiff"}, lessons={"03_autodiff"})
    assert [(link.href, link.label) for link in back] == [
        ("../../en/exercises/03_autodiff.html", "English"),
        (f"{paths.colab_base()}/exercises/zh/03_autodiff/03_autodiff.ipynb", "在 Colab 中打开"),
        ("../files/exercises/03_autodiff.ipynb", "下载 .ipynb"), ("../lessons/03_autodiff.html", "课程")]
    assert [link.href for link in site.page_links("search", "zh", set(), set())] == ["../en/search.html"]


def test_every_label_exists_in_both_languages():
    assert site.LABELS["en"].keys() == site.LABELS["zh"].keys()
    assert all(site.LABELS["zh"][key] != site.LABELS["en"][key] for key in site.LABELS["en"] if key != "title")


def test_chinese_search_knows_the_glossary_terms():
    terms = site.glossary_terms()
    assert {"自动微分", "向量化", "缓冲区捐赠"} <= set(terms)
    assert not [t for t in terms if "（" in t or "buffer" in t]


def test_line_breaks_inside_chinese_sentences_are_removed():
    text = "把数组放到不同的设备上，\n再让同一个程序运行：\nJAX 会编译。\n\n新段落\n\n```python\n# 中文\n# 注释\n```\n"
    assert site.join_chinese_lines(text) == ("把数组放到不同的设备上，再让同一个程序运行：\nJAX 会编译。\n\n新段落\n\n"
                                             "```python\n# 中文\n# 注释\n```\n")


def test_the_site_asks_for_the_executed_lessons(tmp_path):
    with pytest.raises(site.SiteError, match="make run-notebooks NOTEBOOK_KIND=lesson") as failed:
        site.build(out=tmp_path / "site", stage_root=tmp_path / "src", executed=tmp_path / "executed")
    assert "01_jax_numpy.ipynb is missing" in str(failed.value)
    assert not (tmp_path / "site").exists()


# ---- the built site ------------------------------------------------------------------------------------------------------

def _inputs() -> list[Path]:
    """What the site is made of: a newer one makes build/site stale."""
    here = ROOT / "autograder" / "authoring"
    return [here / "site.py", here / "site.css",
            *(site.executed_lesson(slug, lang) for slug in LESSONS for lang in LANGS),
            *(ROOT / paths.release_notebook(slug, lang) for slug in EXERCISES for lang in LANGS)]


@pytest.fixture(scope="module")
def built() -> Path:
    """build/site, rebuilt here only when missing or older than what it is made of (make test built it just now)."""
    stamp = site.SITE / "index.html"
    inputs = [p for p in _inputs() if p.exists()]
    if not stamp.exists() or max(p.stat().st_mtime for p in inputs) > stamp.stat().st_mtime:
        try:
            site.build()
        except site.SiteError as exc:
            pytest.fail(f"make site: {exc}")
    return site.SITE


@pytest.mark.site
def test_the_built_site_has_every_page_and_no_broken_link(built):
    assert site.check_site(built, LESSONS, EXERCISES) == []
    # only what is published: no Sphinx caches, no MyST-NB working copies
    assert sorted(p.name for p in built.iterdir()) == [".nojekyll", "en", "index.html", "zh"]
    assert not [p for p in built.rglob(".*") if p.name != ".nojekyll"]


@pytest.mark.site
@pytest.mark.parametrize("lang", LANGS)
def test_lesson_pages_show_outputs_and_figures(built, lang):
    pages = {slug: (built / lang / "lessons" / f"{slug}.html").read_text(encoding="utf-8") for slug in LESSONS}
    without_output = [slug for slug, text in pages.items() if 'class="cell_output' not in text]
    assert not without_output, f"lesson pages with no executed output: {without_output}"
    assert "<img" in pages[CHAPTER] and 'class="math' in pages[CHAPTER]
    assert not [slug for slug, text in pages.items() if "google.colab" in text], "the Colab set-up cell is removed"


@pytest.mark.site
def test_chinese_pages_have_chinese_navigation(built):
    english = re.compile(r">\s*(Next|Previous|On this page|Back to top|Skip to content|Made with)\s*<")
    pages = [built / "zh" / "index.html", built / "zh" / "search.html", built / "zh" / "lessons" / f"{CHAPTER}.html"]
    left = {p.relative_to(built).as_posix(): english.findall(p.read_text(encoding="utf-8")) for p in pages}
    assert not any(left.values()), f"English theme words on Chinese pages: {left}"
    assert 'lang="zh-CN"' in pages[0].read_text(encoding="utf-8")


@pytest.mark.site
@pytest.mark.parametrize("lang", LANGS)
def test_exercise_pages_hold_no_solutions_or_hidden_tests(built, lang):
    for slug in EXERCISES:
        text = (built / lang / "exercises" / f"{slug}.html").read_text(encoding="utf-8")
        assert "NotImplementedError" in text, slug
        leaked = [marker for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "def test_") if marker in text]
        assert not leaked, f"{lang}/exercises/{slug}.html shows {leaked}"


@contextlib.contextmanager
def _served(root: Path):
    """The built site over HTTP on 127.0.0.1 (as GitHub Pages serves it); its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # pytest shows the test's own failure, not every request
        pass


@pytest.mark.site
def test_a_reader_switches_language_sees_outputs_and_searches(built):
    from playwright.sync_api import expect  # a dev tool: browserlib.chromium() checked it is there

    with browserlib.chromium() as browser, _served(built) as base:
        page = browserlib.new_context(browser).new_page()
        elsewhere = []
        page.on("request", lambda request: None if request.url.startswith(base) else elsewhere.append(request.url))

        page.goto(f"{base}/en/lessons/{CHAPTER}.html")
        expect(page.locator("article h1").first).to_contain_text(site.title(CHAPTER, "en"))
        browserlib.screenshot(page, "site-en-lesson.png")
        page.locator("a.course-lang-switch").click()
        page.wait_for_url(f"{base}/zh/lessons/{CHAPTER}.html")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        expect(page.locator("article h1").first).to_contain_text(site.title(CHAPTER, "zh"))
        figure = page.locator(".cell_output img").first
        figure.scroll_into_view_if_needed()
        expect(figure).to_be_visible()
        assert figure.evaluate("img => img.complete && img.naturalWidth > 0"), "the figure did not load"
        browserlib.screenshot(page, "site-zh-figure.png")
        output = page.locator(".cell_output .output.stream, .cell_output .output.text_plain").first
        expect(output).to_be_visible()
        assert output.inner_text().strip()
        page.locator(".cell_output .math, mjx-container").first.wait_for(state="attached")

        for lang, (term, hit) in SEARCHES.items():
            page.goto(f"{base}/{lang}/index.html")
            page.locator("input.sidebar-search").first.fill(term)
            page.locator("input.sidebar-search").first.press("Enter")
            page.wait_for_url(f"{base}/{lang}/search.html*")
            # Sphinx lists the results one by one, then writes the summary ("found N pages")
            page.wait_for_function("() => document.querySelector('#search-results .search-summary')"
                                   "?.innerText.trim().length > 0", timeout=30_000)
            summary = page.locator("#search-results .search-summary").inner_text()
            assert bool(re.search(r"[\u4e00-\u9fff]", summary)) == (lang == "zh"), f"{lang} search says: {summary}"
            results = page.locator("#search-results ul.search li a")
            found = [results.nth(i).get_attribute("href") for i in range(results.count())]
            assert any(posixpath.normpath(href.split("#")[0].split("?")[0]) == hit for href in found), \
                f"{lang}: searching {term} does not list {hit}: {found}"
            browserlib.screenshot(page, f"site-{lang}-search.png")
        assert not elsewhere, f"the pages asked for something off this site: {elsewhere}"
