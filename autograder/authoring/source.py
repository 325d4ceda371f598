"""Reads a bilingual chapter source and renders one language of it as a notebook.

A source is jupytext MyST markdown (see docs/authoring.md). Prose cells carry
``lang: en`` or ``lang: zh``; code cells are shared unless tagged the same way.
Exercise sources also carry nbgrader ``solution`` and ``tests`` cells.
"""
from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
from markdown_it import MarkdownIt

from autograder import paths
from autograder.notebook_format import (
    CHECK_MY_WORK_ID, HIDDEN_BEGIN, HIDDEN_END, LANGS, SOLUTION_BEGIN, SOLUTION_END, defined_names, runner_lines)

KINDS = ("lesson", "exercise")
# The tag on an exercise's answer and self-check cells (the generated ones): Run All Cells (JupyterLab, nbclient,
# papermill) goes on past such a cell when it raises, so a student's Run All always reaches the check-my-work summary.
KEEP_RUNNING_TAG = "raises-exception"
# The oldest JAX the notebooks are run against (pyproject.toml); Colab upgrades only when older.
MIN_JAX = paths.min_version("jax")[:2]

COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
OTHER_LANGUAGE = {"en": "简体中文版", "zh": "English version"}
SETUP_COMMENT = {
    "en": ("# Colab ships JAX built for its accelerator. Only there: upgrade it if it is older than this course needs\n"
           "# (with its CUDA plugin on a GPU runtime), and install what this notebook needs and Colab lacks.",
           "# the language of messages printed by shared code"),
    "zh": ("# Colab 自带为其加速器构建的 JAX：只在 Colab 里、且版本低于本课程要求时才升级，GPU 运行时连同 CUDA 插件一起升级；\n"
           "# 然后只安装本 notebook 需要而缺少的包。",
           "# 共用代码打印提示信息时使用的语言"),
}
# JAX's CUDA plugin as a GPU runtime has it (either distribution): upgrade jax with it, as jax[cuda12].
CUDA_PLUGINS = ("jax-cuda12-plugin", "jax-cuda12-pjrt")
# Course packages a notebook may need in Colab: (module to look for, pyproject.toml name, what in its code needs it).
COLAB_PACKAGES = (
    ("optax", "optax", r"\boptax\b"),
    ("sklearn", "scikit-learn", r"\bsklearn\b"),
    ("rich", "rich", r"\b(visualize_array_sharding|visualize_sharding)\b|^\s*(import|from) rich\b"),
)

# The Chinese font of zh figures: a PyPI package (a course dependency) that ships the font file.
CJK_FONT_PACKAGE = "mplfonts"
CJK_FONT_FILE = "fonts/NotoSansCJKsc-Regular.otf"
CJK_FONT_FAMILY = "Noto Sans CJK SC"
CJK_FONT_COMMENT = {
    "colab": "# Colab 没有中文字体：缺少 mplfonts 时才安装。",
    "register": "# matplotlib 不带中文字体：在内存里登记 mplfonts 自带的思源黑体（不改动安装目录），图中的中文才不会显示成方框。",
}


class SourceError(Exception):
    """A chapter source breaks the authoring rules; the message names file and cell."""


@dataclass(frozen=True)
class Chapter:
    slug: str  # e.g. "01_jax_numpy"
    kind: str  # "lesson" or "exercise"

    @property
    def source(self) -> Path:
        return paths.source_path(self.slug, self.kind)


def read_source(path: Path) -> nbformat.NotebookNode:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"{paths.shown(path)}: source file is missing") from None
    try:
        nb = jupytext.reads(text, fmt="md:myst")
    except Exception as exc:  # jupytext raises many kinds; all mean "unreadable source"
        raise SourceError(f"{paths.shown(path)}: cannot parse as MyST markdown: {exc}") from exc
    validate(nb, path)
    return nb


def _where(path: Path, index: int, cell) -> str:
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    return f"{paths.shown(path)}: cell {index} ({first[:60]!r})"


def _heading_levels(markdown: str) -> list[int]:
    """Levels of the markdown headings (``#`` to ``######``; none inside code fences or HTML)."""
    return [int(token.tag[1]) for token in MarkdownIt("commonmark").parse(markdown) if token.type == "heading_open"]


def validate(nb, path: Path) -> None:
    """Raise SourceError for the first broken rule (parity, tags, graded cells)."""
    meta = nb.metadata
    for lang in LANGS:
        if not str(meta.get(f"title_{lang}", "")).strip():
            raise SourceError(f"{paths.shown(path)}: front matter needs title_{lang}")
    cells = nb.cells
    grade_ids: set[str] = set()
    for i, cell in enumerate(cells):
        lang = cell.metadata.get("lang")
        if lang is not None and lang not in LANGS:
            raise SourceError(f"{_where(path, i, cell)}: lang must be 'en' or 'zh', not {lang!r}")
        if cell.cell_type == "markdown" and lang is None:
            raise SourceError(f"{_where(path, i, cell)}: prose cell has no lang tag (en or zh)")
        if lang == "en":
            nxt = cells[i + 1] if i + 1 < len(cells) else None
            if nxt is None or nxt.metadata.get("lang") != "zh" or nxt.cell_type != cell.cell_type:
                raise SourceError(f"{_where(path, i, cell)}: English cell has no Chinese counterpart right after it")
            if cell.cell_type == "markdown" and _heading_levels(cell.source) != _heading_levels(nxt.source):
                raise SourceError(
                    f"{_where(path, i, cell)}: headings differ between languages "
                    f"(en {_heading_levels(cell.source)}, zh {_heading_levels(nxt.source)})"
                )
        if lang == "zh" and (i == 0 or cells[i - 1].metadata.get("lang") != "en"):
            raise SourceError(f"{_where(path, i, cell)}: Chinese cell has no English counterpart right before it")
        tags = set(cell.metadata.get("tags", []))
        if tags & {"solution", "tests"}:
            _validate_graded(cell, tags, _where(path, i, cell), grade_ids)
    student_names = set().union(*[defined_names(c.source) for c in graded_cells(nb, "solution").values()])
    for i, cell in enumerate(cells):
        if "tests" in cell.metadata.get("tags", []):
            check_data_boundary(cell.source, student_names, _where(path, i, cell))


def _validate_graded(cell, tags: set[str], where: str, grade_ids: set[str]) -> None:
    if cell.cell_type != "code" or tags >= {"solution", "tests"}:
        raise SourceError(f"{where}: a graded cell is one code cell tagged solution or tests")
    if cell.metadata.get("lang"):
        raise SourceError(f"{where}: graded cells are shared by both languages; remove lang")
    grade_id = str(cell.metadata.get("grade_id", ""))
    if not re.fullmatch(r"[A-Za-z0-9_-]+", grade_id):
        raise SourceError(f"{where}: needs a grade_id of letters, digits, _ or -")
    if grade_id in grade_ids:
        raise SourceError(f"{where}: grade_id {grade_id!r} is used twice")
    grade_ids.add(grade_id)
    if "doc_zh" in cell.metadata and "solution" not in tags:
        raise SourceError(f"{where}: doc_zh belongs on a solution cell (it replaces the cell's docstring in zh)")
    if "solution" in tags:
        if SOLUTION_BEGIN not in cell.source or SOLUTION_END not in cell.source:
            raise SourceError(f"{where}: solution cell needs {SOLUTION_BEGIN} / {SOLUTION_END}")
        if "doc_zh" in cell.metadata:
            with_docstring(cell.source, cell.metadata["doc_zh"], where)
        return
    points = cell.metadata.get("points")
    if not isinstance(points, (int, float)) or points <= 0:
        raise SourceError(f"{where}: tests cell needs points > 0")
    hidden_test_names(cell.source, where)


def with_docstring(source: str, doc, where: str = "solution cell") -> str:
    """The cell's source with the docstring of its first documented function replaced by doc.

    Solution cells are shared by both languages; ``doc_zh`` gives the Chinese docstring.
    """
    if not isinstance(doc, str) or not doc.strip():
        raise SourceError(f"{where}: doc_zh must be a non-empty string")
    if '"""' in doc or doc.strip().endswith(('"', "\\")):
        raise SourceError(f'{where}: doc_zh cannot contain """ nor end with " or a backslash')
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise SourceError(f"{where}: does not parse: {exc}") from exc
    node = next((fn.body[0] for fn in ast.walk(tree)
                 if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and ast.get_docstring(fn) is not None),
                None)
    if node is None:
        raise SourceError(f"{where}: has doc_zh but no function docstring to replace; "
                          'write the English one as the first line of the function: """..."""')
    lines = source.splitlines(keepends=True)
    start = sum(len(line) for line in lines[:node.lineno - 1]) + _char_offset(lines[node.lineno - 1], node.col_offset)
    end = sum(len(line) for line in lines[:node.end_lineno - 1]) + _char_offset(lines[node.end_lineno - 1],
                                                                                  node.end_col_offset)
    indent = "\n" + " " * node.col_offset
    return source[:start] + '"""' + doc.strip().replace("\n", indent) + '"""' + source[end:]


def _char_offset(line: str, byte_offset: int) -> int:
    """ast counts columns in UTF-8 bytes; strings index characters."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8"))


def hidden_block(source: str) -> str:
    if HIDDEN_BEGIN not in source:
        return ""
    return source.split(HIDDEN_BEGIN, 1)[1].split(HIDDEN_END, 1)[0]


def hidden_test_names(source: str, where: str = "tests cell") -> list[str]:
    """Names of the pytest-style functions in a tests cell's hidden block."""
    block = hidden_block(source)
    if not block or HIDDEN_END not in source:
        raise SourceError(f"{where}: tests cell needs {HIDDEN_BEGIN} ... {HIDDEN_END}")
    try:
        tree = ast.parse(block)
    except SyntaxError as exc:
        raise SourceError(f"{where}: hidden tests do not parse: {exc}") from exc
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            names.append(node.name)
        elif not isinstance(node, (ast.FunctionDef, ast.Import, ast.ImportFrom)):
            raise SourceError(
                f"{where}: hidden block may hold only imports and def test_...() functions "
                f"(line {node.lineno} of the block is a {type(node).__name__})"
            )
    if not names:
        raise SourceError(f"{where}: hidden block defines no test_ function")
    return names


def check_data_boundary(source: str, student_names: set[str], where: str) -> None:
    """Hidden tests run in the trusted grader, student code in a sandbox; only data crosses.

    Outside ``probe_`` functions a student name may only be called (arguments and
    result are data). Anything else -- jit/grad/vmap of a student function, a
    lambda around it, reading its attributes or the notebook's globals -- belongs
    in a ``probe_`` function, which runs next to the student code and returns data.
    """
    tree = ast.parse(hidden_block(source))
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.name.startswith("probe_"):
            _check_probe_holds_no_verdict(fn, where)
            continue
        if not isinstance(fn, ast.FunctionDef):
            continue
        called = {id(node.func) for node in ast.walk(fn) if isinstance(node, ast.Call)}
        for node in ast.walk(fn):
            if isinstance(node, ast.Name) and node.id in student_names and id(node) not in called:
                raise SourceError(
                    f"{where}: {fn.name} uses the student's {node.id!r} other than by calling it "
                    f"(line {node.lineno} of the hidden block); move that into a probe_ function "
                    "that runs next to the student code and returns data"
                )


def _check_probe_holds_no_verdict(fn: ast.FunctionDef, where: str) -> None:
    """A probe runs in the sandbox, where the student can read it: no assertion, no expected value."""
    for node in ast.walk(fn):
        name = node.func.attr if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else ""
        if isinstance(node, ast.Assert) or name.startswith("assert") or name in ("allclose", "array_equal"):
            raise SourceError(
                f"{where}: {fn.name} checks a result (line {node.lineno} of the hidden block); probes run "
                "next to the student's code, which can read them: return the data and check it in a test_ function"
            )


def graded_cells(nb, tag: str) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["grade_id"]: c for c in nb.cells if tag in c.metadata.get("tags", [])}


# ---------------------------------------------------------------- rendering


def _uses_matplotlib(nb, lang: str) -> bool:
    return any(c.cell_type == "code" and "matplotlib" in c.source and c.metadata.get("lang", lang) == lang
               for c in nb.cells)


def _code_of(nb, lang: str) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code" and c.metadata.get("lang", lang) == lang)


def colab_requirements(nb, lang: str) -> list[tuple[str, str]]:
    """(module, requirement) of the course packages this notebook's code needs beyond JAX: Colab installs the missing."""
    code = _code_of(nb, lang)
    needed = [(module, paths.requirement(name)) for module, name, used in COLAB_PACKAGES if re.search(used, code, re.M)]
    if lang == "zh" and _uses_matplotlib(nb, lang):
        needed.append((CJK_FONT_PACKAGE, paths.requirement(CJK_FONT_PACKAGE)))
    return needed


def setup_source(nb, lang: str) -> str:
    """The set-up cell: in Colab only, JAX upgraded with its accelerator plugin or not at all, missing packages; LANG."""
    # matplotlib ships no CJK font: Chinese figures need one, registered in memory, never installed into site-packages.
    cjk = lang == "zh" and _uses_matplotlib(nb, lang)
    floor = ".".join(str(p) for p in MIN_JAX)
    needed = colab_requirements(nb, lang)
    wanted = ", ".join(f'("{module}", "{req}")' for module, req in needed) + ("," if len(needed) == 1 else "")
    register_font = (
        f"{CJK_FONT_COMMENT['register']}\n"
        "import importlib.resources\n"
        "import matplotlib\n"
        "from matplotlib import font_manager\n"
        f'font_manager.fontManager.addfont(str(importlib.resources.files("{CJK_FONT_PACKAGE}") / "{CJK_FONT_FILE}"))\n'
        f'matplotlib.rcParams["font.sans-serif"] = ["{CJK_FONT_FAMILY}", *matplotlib.rcParams["font.sans-serif"]]\n'
    ) if cjk else ""
    return (
        SETUP_COMMENT[lang][0] + "\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        "    import importlib.metadata, importlib.util, re, subprocess\n"
        "\n"
        "    def _version(dist):\n"
        "        try:\n"
        '            return tuple(int(p) for p in re.findall(r"\\d+", importlib.metadata.version(dist))[:2])\n'
        "        except importlib.metadata.PackageNotFoundError:\n"
        "            return None\n"
        "\n"
        "    _pip = []\n"
        f"    if (_version(\"jax\") or (0,)) < {MIN_JAX}:\n"
        f"        _gpu = any(_version(d) is not None for d in {CUDA_PLUGINS!r})\n"
        f'        _pip.append("jax[cuda12]>={floor}" if _gpu else "jax>={floor}")\n'
        + (f"    _pip += [req for module, req in ({wanted}) if importlib.util.find_spec(module) is None]\n"
           if wanted else "") +
        "    if _pip:\n"
        '        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *_pip], check=True)\n'
        "        importlib.invalidate_caches()\n"
        + register_font +
        f'LANG = "{lang}"  ' + SETUP_COMMENT[lang][1]
    )


def _header_cells(nb, lang: str, badge_path: str | None, other_lang_path: str | None):
    """Title (with the Colab badge unless badge_path is None) and the set-up cell."""
    title = nb.metadata[f"title_{lang}"]
    lines = [f"# {title}", ""]
    links = [f"[![Open In Colab]({COLAB_BADGE})]({paths.colab_base()}/{badge_path})"] if badge_path else []
    if other_lang_path:
        links.append(f"[{OTHER_LANGUAGE[lang]}]({other_lang_path})")
    lines.append(" · ".join(links))
    return [nbformat.v4.new_markdown_cell("\n".join(lines).rstrip()), nbformat.v4.new_code_cell(setup_source(nb, lang))]


CHECK_MY_WORK = {
    "en": {
        "heading": "## Check my work\n\nRun this last cell to see every self-check of the notebook at once: which tasks "
                   "pass and, for the others, why not. It earns no points: hidden tests decide the grade.",
        "comment": "# Check my work: runs each task's self-check again (its visible checks, copied here) and sums up.\n"
                   "# It earns no points: hidden tests with other inputs decide the grade.",
        "passes": "passes", "todo": "not written yet (NotImplementedError)",
        "summary": "Check my work: {passed} of {total} tasks pass their self-checks.",
        "reminder": "Self-checks are a first test, not the grade: hidden tests with other inputs decide it.",
    },
    "zh": {
        "heading": "## 检查我的作业\n\n最后运行这个单元格，一次看到本 notebook 所有自检的结果："
                   "哪些任务通过了，没通过的原因是什么。它不计分：分数由隐藏测试决定。",
        "comment": "# 检查我的作业：把每个任务的自检（复制在这里的可见检查）重新运行一遍并汇总。\n"
                   "# 它不计分：分数由使用其他输入的隐藏测试决定。",
        "passes": "通过", "todo": "尚未完成（NotImplementedError）",
        "summary": "检查我的作业：{total} 个任务中有 {passed} 个通过了自检。",
        "reminder": "自检只是第一道检查，不是分数：分数由使用其他输入的隐藏测试决定。",
    },
}


def visible_part(source: str) -> str:
    """The self-check of a tests cell: what the student sees (the hidden block and its runner left out)."""
    if HIDDEN_BEGIN not in source:
        return source.rstrip() + "\n"
    head, rest = source.split(HIDDEN_BEGIN, 1)
    tail = rest.split(HIDDEN_END, 1)[1] if HIDDEN_END in rest else ""
    return (head.rstrip() + "\n" + tail.strip()).rstrip() + "\n"


def self_checks(nb) -> list[tuple[str, str]]:
    """(task, self-check source) of every tests cell in order; the task is the solution cell it follows."""
    checks, task = [], None
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "solution" in tags:
            task = str(cell.metadata["grade_id"])
        elif "tests" in tags:
            checks.append((task or str(cell.metadata["grade_id"]), visible_part(cell.source)))
    return checks


def _literal(code: str) -> str:
    """Python source as a string literal a student can read: a raw triple-quoted block when it can be one."""
    if "\'\'\'" in code or code.endswith("\\") or "\r" in code:
        return repr(code)
    return "r\'\'\'\n" + code + "\'\'\'"


def check_my_work_cells(nb, lang: str) -> list:
    """The exercise's last cells: a heading and the code that reruns every self-check and prints a summary.

    Self-contained (the release has no ``autograder`` package, Colab neither): the visible checks are copied in
    and run, each in a copy of the notebook's globals, with their prints captured.
    """
    words = CHECK_MY_WORK[lang]
    entries = "".join(f"    ({task!r}, {_literal(check)}),\n" for task, check in self_checks(nb))
    messages = ", ".join(f'"{key}": {words[key]!r}' for key in ("passes", "todo", "summary", "reminder"))
    code = (
        words["comment"] + "\n"
        "import contextlib, io\n"
        "\n"
        "\n"
        "def _check_my_work(self_checks, words):\n"
        "    lines = []\n"
        "    for task, check in self_checks:\n"
        "        try:\n"
        "            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        '                exec(compile(check, f"<self-check: {task}>", "exec"), dict(globals()))\n'
        "        except NotImplementedError:\n"
        '            lines.append(f"  ✗ {task}: {words[\'todo\']}")\n'
        "        except Exception as err:  # a failed self-check, whatever it raised, is reported, never raised\n"
        '            first = next((line.strip() for line in str(err).splitlines() if line.strip()), "")\n'
        "            assertion = isinstance(err, AssertionError) and first\n"
        '            why = first if assertion else type(err).__name__ + (": " + first if first else "")\n'
        '            lines.append(f"  ✗ {task}: {why}")\n'
        "        else:\n"
        '            lines.append(f"  ✓ {task}: {words[\'passes\']}")\n'
        '    passed = sum(line.startswith("  ✓") for line in lines)\n'
        '    print(words["summary"].format(passed=passed, total=len(lines)), *lines, words["reminder"], sep="\\n")\n'
        "\n"
        "\n"
        "_check_my_work([\n" + entries + "], {" + messages + "})\n"
    )
    heading = nbformat.v4.new_markdown_cell(words["heading"])
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata["_graded"] = {"grade_id": CHECK_MY_WORK_ID}
    return [heading, cell]


def _nbgrader_meta(cell, index: int, kind: str) -> dict:
    tags = cell.metadata.get("tags", [])
    base = {"schema_version": 3, "task": False, "solution": False, "grade": False, "locked": True}
    if "solution" in tags:
        return {**base, "solution": True, "locked": False, "grade_id": cell.metadata["grade_id"]}
    if "tests" in tags:
        return {**base, "grade": True, "grade_id": cell.metadata["grade_id"], "points": cell.metadata["points"]}
    if cell.metadata.get("grade_id") == CHECK_MY_WORK_ID:
        return {**base, "grade_id": CHECK_MY_WORK_ID}  # locked, no points; the grader skips it
    return {**base, "grade_id": f"{kind}_{index:03d}"}


def with_runner(source: str, points) -> str:
    """Append to the hidden block the call that runs its test functions (its value is the partial credit)."""
    names = hidden_test_names(source)
    call = runner_lines(names, points)
    head, tail = source.split(HIDDEN_END, 1)
    if not head.endswith("\n"):
        head += "\n"
    return head + call + HIDDEN_END + tail


def render(nb, lang: str, *, badge_path: str | None, other_lang_path: str | None = None, exercise: bool = False):
    """One language of a source as a clean notebook (no outputs, stable ids).

    ``badge_path`` is the file the Colab badge opens; None: no badge (a notebook that needs this package).
    Exercises end with the check-my-work cells.
    """
    out = nbformat.v4.new_notebook()
    out.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    cells = _header_cells(nb, lang, badge_path, other_lang_path)
    for cell in nb.cells:
        if cell.metadata.get("lang", lang) != lang:
            continue
        tags = [t for t in cell.metadata.get("tags", []) if t not in ("solution", "tests")]
        if cell.cell_type == "code":
            is_tests = "tests" in cell.metadata.get("tags", [])
            source = with_runner(cell.source, cell.metadata.get("points")) if is_tests else cell.source
            if lang == "zh" and "doc_zh" in cell.metadata:
                source = with_docstring(source, cell.metadata["doc_zh"])
            new = nbformat.v4.new_code_cell(source)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(cell.source)
        else:
            new = nbformat.v4.new_raw_cell(cell.source)
        if exercise and cell.cell_type == "code" and {"solution", "tests"} & set(cell.metadata.get("tags", [])):
            tags.append(KEEP_RUNNING_TAG)
        if tags:
            new.metadata["tags"] = tags
        new.metadata["_graded"] = copy.deepcopy(
            {k: cell.metadata[k] for k in ("tags", "grade_id", "points") if k in cell.metadata}
        )
        cells.append(new)
    if exercise:
        cells += check_my_work_cells(nb, lang)
    for i, cell in enumerate(cells):
        graded = cell.metadata.pop("_graded", {})
        cell.id = f"{lang}-{i:03d}"
        if exercise:
            cell.metadata["nbgrader"] = _nbgrader_meta(nbformat.from_dict({"metadata": graded}), i, "cell")
    out.cells = cells
    return out


def to_text(nb) -> str:
    """Serialise deterministically: same notebook, same bytes."""
    return nbformat.writes(nb, version=4) + "\n"
