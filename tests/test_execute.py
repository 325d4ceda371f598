"""run-notebooks executes with papermill, tabulates timings and names every failure."""
import nbformat


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_failures_and_timeouts_are_listed_and_the_rest_still_runs(scratch_repo, build):
    build("notebooks")
    _notebook(scratch_repo / "notebooks/en/90_broken.ipynb", "x = 1", "raise ValueError('lesson bug')")
    _notebook(scratch_repo / "notebooks/en/91_slow.ipynb", "import time\ntime.sleep(120)")
    result = build("run", "--only", "99_sample", "90_broken", "91_slow", "--notebook-timeout", "40", check=False)
    assert result.returncode == 1
    assert "FAILED notebooks/en/90_broken.ipynb (failed)" in result.stderr
    assert "lesson bug" in result.stderr
    assert "FAILED notebooks/en/91_slow.ipynb (timeout)" in result.stderr
    table = (scratch_repo / "build/timings.md").read_text()
    for rel in ("notebooks/en/99_sample.ipynb", "solutions/zh/99_sample/99_sample.ipynb"):
        assert f"| {rel} |" in table and "| ok |" in table
    assert (scratch_repo / "build/executed/solutions/en/99_sample/99_sample.ipynb").exists()
