"""Stock nbgrader vs. the hardened pipeline, side by side in one run, on the same batch.

    python bench/grading.py [--n 40] [--chapter 01_jax_numpy] [--lang en]

Builds N submissions for one chapter exercise (correct, partially wrong,
crashing, slow, printing), grades them with `nbgrader autograde` in a stock
course and in a course made by `make course` (sandbox on) -- cold, in the fresh
course, then warm, graded again with --force -- checks that the scores agree
on every submission, and prints wall times, the ratios and
the overhead per submission (wall time beyond the sandboxes' own work, spread
over the workers). The machine is shared and noisy: compare only within a run.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import nbformat  # noqa: E402

from autograder import paths  # noqa: E402
from autograder.authoring import wrong  # noqa: E402
from autograder.authoring.course import make_course  # noqa: E402
from autograder.authoring.release import CODE_STUB  # noqa: E402

STOCK_CONFIG = '''c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = "bench-stock"
c.Execute.timeout = 120
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
'''


def answers(nb) -> dict[str, int]:
    return {c.metadata["nbgrader"]["grade_id"]: i for i, c in enumerate(nb.cells)
            if c.metadata.get("nbgrader", {}).get("solution")}


def build_batch(slug: str, lang: str, n: int) -> dict[str, tuple[str, nbformat.NotebookNode]]:
    """student -> (kind, notebook). Kinds: correct, wrong, crashing, slow, printing."""
    release = nbformat.read(ROOT / paths.release_notebook(slug, lang), as_version=4)
    instructor = nbformat.read(ROOT / paths.instructor_notebook(slug, lang), as_version=4)
    reference = {gid: instructor.cells[i].source for gid, i in answers(instructor).items()}
    wrongs = wrong.load(slug)
    first = next(iter(reference))

    def notebook(filled: dict[str, str], extra: str | None = None):
        nb = nbformat.read(ROOT / paths.release_notebook(slug, lang), as_version=4)
        for gid, i in answers(release).items():
            if gid in filled:
                nb.cells[i].source = filled[gid]
        if extra:
            i = answers(release)[first]
            nb.cells[i].source = nb.cells[i].source + "\n\n" + extra
        return nb

    kinds = ["correct", "wrong", "crashing", "slow", "printing"]
    batch = {}
    for k in range(n):
        kind = kinds[k % len(kinds)]
        if kind == "correct":
            nb = notebook(reference)
        elif kind == "wrong":
            a = wrongs[(k // len(kinds)) % len(wrongs)]
            nb = notebook({**reference, a.grade_id: a.code})
        elif kind == "crashing":  # one answer raises: that task is lost, the rest is graded
            nb = notebook({**reference, first: reference[first] + "\n\nraise RuntimeError('student bug')"})
        elif kind == "slow":
            nb = notebook(reference, "import time\ntime.sleep(1.0)")
        else:
            nb = notebook(reference, "for i in range(2000):\n    print('progress', i)")
        batch[f"{kind}-{k:03d}"] = (kind, nb)
    return batch


def submit(course: Path, slug: str, batch) -> None:
    for student, (_, nb) in batch.items():
        folder = course / "submitted" / student / slug
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{slug}.ipynb")


def autograde(course: Path, slug: str, again: bool = False) -> float:
    """Seconds of one `nbgrader autograde`; ``again`` regrades everything in a course graded before."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if again:
        for state in ("results", "done"):  # the result journal would answer without grading
            shutil.rmtree(course / ".autograder" / state, ignore_errors=True)
    else:
        subprocess.run(["nbgrader", "generate_assignment", slug, "--log-level=ERROR"], cwd=course, env=env,
                       check=True)
    start = time.perf_counter()
    subprocess.run(["nbgrader", "autograde", slug, "--log-level=ERROR", *(["--force"] if again else [])],
                   cwd=course, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def scores(course: Path, slug: str, students) -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        return {s: {g.name: g.score for g in gb.find_submission_notebook(slug, slug, s).grades}
                for s in students}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--chapter", default="01_jax_numpy")
    parser.add_argument("--lang", default="en", choices=sorted(CODE_STUB))
    args = parser.parse_args()
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    work = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        batch = build_batch(args.chapter, args.lang, args.n)
        stock = make_course(work / "stock", args.lang)
        (stock / "nbgrader_config.py").write_text(
            STOCK_CONFIG.format(root=str(stock), stub=CODE_STUB[args.lang]), encoding="utf-8")
        ours = make_course(work / "ours", args.lang)
        for course in (stock, ours):
            submit(course, args.chapter, batch)
        print(f"bench: {args.n} submissions of {args.chapter} [{args.lang}], {os.cpu_count()} cores", flush=True)
        t_stock = autograde(stock, args.chapter)
        print(f"stock nbgrader:  {t_stock:7.1f} s", flush=True)
        t_ours = autograde(ours, args.chapter)
        print(f"hardened, cold:  {t_ours:7.1f} s  (sandbox on; fresh course: the question cache is built first)",
              flush=True)
        s_stock, s_ours = scores(stock, args.chapter, batch), scores(ours, args.chapter, batch)
        differ = [s for s in batch if s_stock[s] != s_ours[s]]
        sandbox_seconds = [json.loads(Path(p).read_text())["seconds"]
                           for p in glob.glob(str(ours / ".autograder" / "results" / "*" / "*" / "*.json"))]
        workers = os.cpu_count() or 1
        overhead = (t_ours - sum(sandbox_seconds) / workers) / args.n
        t_warm = autograde(ours, args.chapter, again=True)
        print(f"hardened, warm:  {t_warm:7.1f} s  (the same course graded again with --force)")
        s_warm = scores(ours, args.chapter, batch)
        differ += [s for s in batch if s_warm[s] != s_ours[s] and s not in differ]
        print(f"ratio:           {t_stock / t_ours:7.2f} x faster cold, {t_stock / t_warm:.2f} x warm")
        print(f"per submission:  stock {t_stock / args.n:.2f} s, hardened {t_ours / args.n:.2f} s, "
              f"overhead beyond the sandboxes' work {overhead:.2f} s")
        print(f"scores agree on {len(batch) - len(differ)} of {len(batch)} submissions")
        for s in differ:
            print(f"  DIFFER {s}: stock {s_stock[s]} hardened {s_ours[s]}")
        return 1 if differ else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
