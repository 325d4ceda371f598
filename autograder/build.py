"""Command line behind the Makefile's verbs: notebooks, check-sync, run-notebooks, try, signatures, course, site."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder import paths
from autograder.authoring.source import SourceError
from autograder.notebook_format import LANGS


def cmd_notebooks(_args) -> int:
    from autograder.authoring.generate import write_all
    from autograder.authoring.release import ReleaseError

    try:
        changed = write_all()
    except (SourceError, ReleaseError) as exc:
        print(f"notebooks: {exc}", file=sys.stderr)
        return 1
    for rel in changed:
        print(f"wrote {rel}")
    print(f"{len(changed)} file(s) changed" if changed else "all generated files already up to date")
    return 0


def cmd_check(_args) -> int:
    from autograder.authoring.sync import check

    problems = check()
    for problem in problems:
        print(f"check-sync: {problem}", file=sys.stderr)
    if problems:
        print(f"check-sync: FAILED, {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("check-sync: every generated notebook matches its source; languages pair up; releases leak nothing")
    return 0


def _require_backend(backend: str | None) -> None:
    """Fail loudly instead of letting JAX fall back to the CPU."""
    platforms = os.environ.get("JAX_PLATFORMS", "")
    if not backend:
        return
    import jax

    try:
        devices = jax.devices(backend)
    except Exception as exc:  # noqa: BLE001 -- JAX raises RuntimeError or AssertionError depending on what is missing
        sys.exit(f"run-notebooks: FAILED: JAX_PLATFORMS={platforms!r} but no {backend} device is usable "
                 f"({type(exc).__name__}: {exc}). Install CUDA JAX (pip install 'jax[cuda12]') on a GPU machine.")
    print(f"run-notebooks: running on {devices}")


def cmd_run(args) -> int:
    from autograder.authoring.execute import run_all, timing_table

    _require_backend(args.require_backend)
    sources = []
    if args.kind in ("lesson", "all"):
        sources += sorted(paths.ROOT.glob("notebooks/*/*.ipynb"))
    if args.kind in ("exercise", "all"):
        sources += sorted(paths.ROOT.glob("solutions/*/*/*.ipynb"))
    if args.only:
        sources = [s for s in sources if any(part in s.as_posix() for part in args.only)]
    if not sources:
        print("run-notebooks: no notebooks found; run `make notebooks` first", file=sys.stderr)
        return 1
    out = Path(args.out).resolve()
    jobs = [(src, out / "executed" / src.relative_to(paths.ROOT), src.relative_to(paths.ROOT).as_posix())
            for src in sources]
    print(f"run-notebooks: {len(jobs)} notebooks, {args.workers} at a time, "
          f"JAX_PLATFORMS={os.environ.get('JAX_PLATFORMS', '(unset)')}", flush=True)
    results = run_all(jobs, workers=args.workers, cell_timeout=args.cell_timeout,
                      notebook_timeout=args.notebook_timeout)
    table = timing_table(results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "timings.md").write_text(table, encoding="utf-8")
    print("\n" + table + f"(also in {out / 'timings.md'}; slowest first)")
    failures = [r for r in results if r.status != "ok"]
    for r in failures:
        print(f"\nFAILED {r.notebook} ({r.status}):\n{r.detail}", file=sys.stderr)
    if failures:
        print(f"\nrun-notebooks: {len(failures)} of {len(results)} notebooks failed: "
              + ", ".join(r.notebook for r in failures), file=sys.stderr)
        return 1
    return 0


def _try_wrong_answers(instructor_nb, answers, out: Path) -> bool:
    """Grade each known-wrong answer with the real grader: it must lose points on its own task only."""
    from autograder.authoring import wrong
    from autograder.grading.batch import grade_notebooks, local_batch

    full = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
            for c in instructor_nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    order = [c.metadata["nbgrader"]["grade_id"] for c in instructor_nb.cells
             if c.metadata.get("nbgrader", {}).get("grade") or c.metadata.get("nbgrader", {}).get("solution")]
    students = {a.name: wrong.substitute(instructor_nb, a.grade_id, a.code) for a in answers}
    batch = local_batch(str(out), workers=2)
    try:
        scores = {name: r["scores"] for name, r in grade_notebooks(batch, instructor_nb, students).items()}
    finally:
        batch.close()
    ok = True
    for a in answers:
        target = next((g for g in order[order.index(a.grade_id) + 1:] if g in full), None)
        got = scores[a.name]
        lost = [g for g in full if got.get(g, 0.0) < full[g]]
        verdict = lost == [target]
        print(f"{'rejected' if verdict else 'NOT REJECTED'}  {a.grade_id}/{a.name}: loses points on {lost}")
        ok &= verdict
    return ok


def cmd_try(args) -> int:
    """An author's inner loop: validate one source and run everything it generates."""
    from autograder.authoring.execute import run_notebook
    from autograder.authoring.source import read_source, render
    from autograder.authoring import wrong

    src = Path(args.source).resolve()
    kind = "exercise" if src.parent.name == "solutions" else "lesson"
    try:
        nb = read_source(src)
        answers = wrong.load(src.stem) if kind == "exercise" else []
    except SourceError as exc:
        print(f"try: {exc}", file=sys.stderr)
        return 1
    out = Path(tempfile.mkdtemp(prefix=f"try-{src.stem}-", dir=paths.ROOT / "build" if (paths.ROOT / "build").is_dir() else None))
    ok = True
    rendered = {}
    for lang in LANGS:
        rendered[lang] = render(nb, lang, badge_path="x.ipynb", exercise=kind == "exercise")
        path = out / f"{src.stem}.{lang}.ipynb"
        nbformat.write(rendered[lang], path)
        result = run_notebook(path, out / f"{src.stem}.{lang}.out.ipynb", cell_timeout=120,
                              notebook_timeout=300, label=f"{src.stem} [{lang}]")
        print(f"{result.status:7} {result.seconds:5.1f}s  {result.notebook}")
        if result.status != "ok":
            print(result.detail)
            ok = False
    if answers:
        ok &= _try_wrong_answers(rendered["en"], answers, out)
    print(f"try: {'OK' if ok else 'FAILED'} (work files in {out})")
    return 0 if ok else 1


def cmd_course(args) -> int:
    from autograder.authoring.course import make_course

    try:
        make_course(Path(args.dir).expanduser(), args.lang)  # zsh leaves the ~ of `make course DIR=~/x` to us
    except (SourceError, ValueError, FileExistsError) as exc:
        print(f"course: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_signatures(args) -> int:
    """Grade each chapter's known-wrong answers and record what each fails (only stale chapters unless --all)."""
    import time

    from autograder.authoring import signatures

    slugs = args.slugs or paths.chapters("exercise")
    unknown = sorted(set(slugs) - set(paths.chapters("exercise")))
    if unknown:
        print(f"signatures: no exercise named {unknown}; choose from {paths.chapters('exercise')}", file=sys.stderr)
        return 2
    failed = False
    for i, slug in enumerate(slugs, 1):
        try:
            stale = args.all or args.slugs or signatures.problems(slug)
            if not stale:
                print(f"[{i}/{len(slugs)}] {slug}: up to date")
                continue
            start = time.monotonic()
            data = signatures.compute(slug)
        except SourceError as exc:
            print(f"signatures: {exc}", file=sys.stderr)
            failed = True
            continue
        path = signatures.write(slug, data)
        count = sum(len(v) for v in data["tasks"].values())
        print(f"[{i}/{len(slugs)}] {slug}: {count} wrong answers graded in {time.monotonic() - start:.0f} s "
              f"-> {paths.shown(path)}")
        for problem in signatures.problems(slug):
            print(f"  {problem}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


def cmd_site(_args) -> int:
    from autograder.authoring.site import main_build

    return main_build()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.build", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("notebooks", help="regenerate every notebook from its source").set_defaults(func=cmd_notebooks)
    sub.add_parser("check", help="fail if generated files drift from sources").set_defaults(func=cmd_check)
    run = sub.add_parser("run", help="execute every lesson and instructor exercise with papermill")
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--cell-timeout", type=int, default=120, help="seconds one cell may take")
    run.add_argument("--notebook-timeout", type=int, default=300, help="seconds one notebook may take")
    run.add_argument("--out", default=str(paths.ROOT / "build"))
    run.add_argument("--only", nargs="*", help="run only notebooks whose path contains one of these")
    run.add_argument("--kind", choices=("lesson", "exercise", "all"), default="all",
                     help="lessons, instructor exercises or both (make test: lessons; the grading tests run the exercises)")
    run.add_argument("--require-backend", help="e.g. cuda: fail unless JAX can use that backend")
    run.set_defaults(func=cmd_run)
    tr = sub.add_parser("try", help="validate one source and execute what it generates")
    tr.add_argument("source")
    tr.set_defaults(func=cmd_try)
    sig = sub.add_parser("signatures", help="grade the known-wrong answers and record what each fails")
    sig.add_argument("slugs", nargs="*", help="chapters to regrade (default: every chapter whose record is stale)")
    sig.add_argument("--all", action="store_true", help="regrade every chapter, stale or not")
    sig.set_defaults(func=cmd_signatures)
    course = sub.add_parser("course", help="create a ready nbgrader course directory")
    course.add_argument("dir")
    course.add_argument("--lang", choices=LANGS, default=LANGS[0])
    course.set_defaults(func=cmd_course)
    sub.add_parser("site", help="the course website in build/site/ from the executed lessons, checked"
                   ).set_defaults(func=cmd_site)
    args = parser.parse_args(argv)
    # the package's modules log; the command line shows their INFO lines as plain progress
    ours = logging.getLogger("autograder")
    ours.setLevel(logging.INFO)
    ours.addHandler(logging.StreamHandler(sys.stdout))
    # nbgrader shells out to `alembic` and papermill to `jupyter`: find them beside this interpreter.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
