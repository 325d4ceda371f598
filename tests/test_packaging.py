"""The README's commands are what CI runs; conda and pip users get the same dependencies."""
import re
import tomllib

import yaml

from autograder import paths

ROOT = paths.ROOT


def _name_and_spec(requirement: str) -> tuple[str, str]:
    m = re.match(r"\s*([A-Za-z0-9_.\-\[\]]+)\s*(.*)", requirement)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = dict(_name_and_spec(r) for r in pyproject["project"]["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    have = dict(_name_and_spec(d) for d in conda + [p for p in pip if not p.startswith("-")])
    assert have.pop("python") == ">=" + pyproject["project"]["requires-python"].lstrip(">=")
    have.pop("pip")
    assert have == wanted


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    commands = re.findall(r"^\s*(make \w[\w-]*)\s*$", ci, re.M)
    assert commands == ["make test"]
    assert re.search(r"^make test\s*$", readme, re.M), "README gives `make test` as the test command"
    assert re.search(r"^make lab\s*$", readme, re.M), "README gives `make lab` to start learning"


def test_every_make_verb_in_the_docs_exists():
    makefile = (ROOT / "Makefile").read_text()
    verbs = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    for doc in ["README.md", "README.zh.md", *(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))]:
        used = set(re.findall(r"\bmake ([a-z][a-z-]+)", (ROOT / doc).read_text(encoding="utf-8")))
        assert used <= verbs, f"{doc} mentions make verbs that do not exist: {used - verbs}"


def test_docs_exist_in_both_languages():
    for doc in (ROOT / "docs").glob("*.md"):
        if not doc.name.endswith(".zh.md"):
            assert doc.with_name(doc.stem + ".zh.md").exists(), f"{doc.name} has no Chinese version"
