"""run-notebooks executes with papermill, tabulates timings and names every failure."""
import subprocess
import sys
import textwrap

import jupytext
import pytest
import nbformat

from autograder.authoring.execute import missing_glyphs
from autograder.authoring.source import render

pytestmark = pytest.mark.integration  # papermill runs


def _notebook(path, *sources, tags=()):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s, metadata={"tags": list(tags)} if tags else {}) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_failures_and_timeouts_are_listed_and_the_rest_still_runs(scratch_repo, build):
    build("notebooks")
    _notebook(scratch_repo / "notebooks/en/90_broken.ipynb", "x = 1", "raise ValueError('lesson bug')")
    _notebook(scratch_repo / "notebooks/en/91_slow.ipynb", "import time\ntime.sleep(120)")
    # A Chinese title without a CJK font: matplotlib draws boxes and only warns.
    _notebook(scratch_repo / "notebooks/en/92_boxes.ipynb",
              "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.title('下标')\nplt.show()")
    # A failing self-check is tagged raises-exception (so a student's Run All goes on): papermill runs the
    # rest of the notebook, and the run must still count it as a failure.
    _notebook(scratch_repo / "notebooks/en/93_tagged.ipynb", "assert 1 == 2, 'self-check says no'", "y = 2",
              tags=["raises-exception"])
    result = build("run", "--only", "99_sample", "90_broken", "91_slow", "92_boxes", "93_tagged",
                   "--notebook-timeout", "40", check=False)
    assert result.returncode == 1
    assert "FAILED notebooks/en/90_broken.ipynb (failed)" in result.stderr
    assert "lesson bug" in result.stderr
    assert "FAILED notebooks/en/91_slow.ipynb (timeout)" in result.stderr
    assert "FAILED notebooks/en/92_boxes.ipynb (failed)" in result.stderr
    assert "missing from font" in result.stderr
    assert "FAILED notebooks/en/93_tagged.ipynb (failed)" in result.stderr
    assert "self-check says no" in result.stderr
    rows = {line.split("|")[1].strip(): line.split("|")[3].strip()
            for line in (scratch_repo / "build/timings.md").read_text().splitlines() if line.startswith("| ")}
    assert rows["notebooks/en/99_sample.ipynb"] == rows["solutions/zh/99_sample/99_sample.ipynb"] == "ok"
    assert rows["notebooks/en/90_broken.ipynb"] == "failed" and rows["notebooks/en/91_slow.ipynb"] == "timeout"
    assert (scratch_repo / "build/executed/solutions/en/99_sample/99_sample.ipynb").exists()


def test_missing_glyph_warnings_are_found_in_outputs():
    nb = nbformat.v4.new_notebook()
    warned = nbformat.v4.new_code_cell("plt.title('数组')")
    warned.outputs = [nbformat.v4.new_output(
        "stream", name="stderr",
        text="/x/pylabtools.py:170: UserWarning: Glyph 25968 (\\N{CJK UNIFIED IDEOGRAPH-6570}) missing from "
             "font(s) DejaVu Sans.\n  fig.canvas.print_figure(bytes_io, **kw)\n")]
    old = nbformat.v4.new_code_cell("plt.title('组')")
    old.outputs = [nbformat.v4.new_output("stream", name="stderr",
                                          text=["UserWarning: Glyph 32452 missing from current font.\n"])]
    clean = nbformat.v4.new_code_cell("print('Glyph 1 is fine')")
    clean.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Glyph 1 is fine\n")]
    nb.cells = [clean, warned, old]
    found = missing_glyphs(nb)
    assert len(found) == 2
    assert found[0].startswith("cell 1: Glyph 25968") and "DejaVu Sans" in found[0]
    assert found[1] == "cell 2: Glyph 32452 missing from current font."
    nb.cells = [clean]
    assert missing_glyphs(nb) == []


FIGURE_SOURCE = """\
    ---
    title_en: Figure
    title_zh: 图
    ---

    +++ {"lang": "en"}

    ## Plot

    +++ {"lang": "zh"}

    ## 画图

    ```{code-cell} ipython3
    import matplotlib.pyplot as plt
    ```
    """

DRAW_CHINESE = """
import warnings
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([-1, 1], [-2, 2], label="−1 到 1")
    ax.set_title("越界下标被截断")
    ax.set_xlabel("下标")
    ax.legend()
    fig.savefig(__import__("io").BytesIO(), format="png")
print("WARNINGS:", [str(w.message) for w in caught])
"""


def _draw(setup: str) -> str:
    proc = subprocess.run([sys.executable, "-c", setup + DRAW_CHINESE], capture_output=True, text=True, check=True)
    return proc.stdout


def test_zh_setup_cell_lets_matplotlib_draw_chinese():
    nb = jupytext.reads(textwrap.dedent(FIGURE_SOURCE), fmt="md:myst")
    zh_setup = render(nb, "zh", badge_path="notebooks/zh/x.ipynb").cells[1].source
    en_setup = render(nb, "en", badge_path="notebooks/en/x.ipynb").cells[1].source
    assert "addfont" in zh_setup and "addfont" not in en_setup
    assert "missing from font" in _draw(en_setup)  # the check below would catch a missing font
    assert _draw(zh_setup).strip() == "WARNINGS: []"
