# The list of verbs. `make help` prints them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
# PY may name an existing interpreter (e.g. on a GPU machine with no network): then nothing is installed.
PY ?= $(VENV)/bin/python
INSTALLED := $(if $(filter $(VENV)/bin/python,$(PY)),$(VENV)/.installed,)
export PATH := $(abspath $(dir $(PY))):$(PATH)
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

COURSE_LANG ?= en

.PHONY: help install lab demo notebooks check-sync run-notebooks test-gpu unit integration grading lint course test clean

help:  ## list the verbs
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q --upgrade pip
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q -e .
	touch $@

install: $(INSTALLED)  ## create .venv and install the course and its tools

lab: $(INSTALLED)  ## start JupyterLab on the lessons and exercises
	$(PY) -m jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/en/$(firstword $(notdir $(wildcard notebooks/en/*.ipynb)))

demo: $(INSTALLED)  ## non-interactive: run chapter 01 in both languages, then grade a submission with nbgrader
	$(PY) -m autograder.build run --only notebooks/en/01_ notebooks/zh/01_ --out build/demo
	rm -rf build/demo/course
	$(PY) -m autograder.build course build/demo/course --lang en
	cd build/demo/course && nbgrader generate_assignment 01_jax_numpy --log-level=WARN \
	  && mkdir -p submitted/demo-student/01_jax_numpy \
	  && cp $(CURDIR)/solutions/en/01_jax_numpy/01_jax_numpy.ipynb submitted/demo-student/01_jax_numpy/ \
	  && nbgrader autograde 01_jax_numpy --log-level=WARN && nbgrader export --log-level=WARN \
	  && echo "demo: grades exported by nbgrader (build/demo/course/grades.csv):" && cat grades.csv

notebooks: $(INSTALLED)  ## regenerate every notebook and release from its source
	$(PY) -m autograder.build notebooks

check-sync: $(INSTALLED)  ## fail if a generated file is stale, unpaired or leaks solutions
	$(PY) -m autograder.build check

run-notebooks: $(INSTALLED)  ## execute every lesson and instructor exercise with papermill (JAX_PLATFORMS honoured)
	$(PY) -m autograder.build run

test-gpu:  ## run-notebooks on CUDA; fails loudly without a GPU (PY=python3 uses an existing interpreter)
	JAX_PLATFORMS=cuda $(PY) -m autograder.build run --require-backend cuda --out build/gpu

unit: $(INSTALLED)  ## fast in-process tests (under a minute): wire, plan, submissions, results, sources
	$(PY) -m pytest -q -m "not grading and not integration"

integration: $(INSTALLED)  ## the build tools and papermill in subprocesses (check-sync's own tests)
	$(PY) -m pytest -q -n 2 -m integration

grading: $(INSTALLED)  ## every chapter's reference, blank and wrong answers graded; nbgrader command chains; attacks
	$(PY) -m pytest -q -n 2 --dist loadgroup -m grading

lint: $(INSTALLED)  ## lint the Python code (ruff) and the CI workflows
	$(VENV)/bin/ruff check .
	$(VENV)/bin/actionlint .github/workflows/*.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

course: $(INSTALLED)  ## make course DIR=<path> COURSE_LANG=en|zh: a ready nbgrader course directory
	@test -n "$(DIR)" || { echo "usage: make course DIR=<path> COURSE_LANG=en|zh" >&2; exit 2; }
	$(PY) -m autograder.build course "$(DIR)" --lang $(COURSE_LANG)

test: $(INSTALLED)  ## everything CI runs: check-sync, lint, unit, integration and grading tests, run-notebooks
	$(MAKE) --no-print-directory check-sync
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -q -n 2 --dist loadgroup --durations=30
	$(MAKE) --no-print-directory run-notebooks

clean:  ## remove build outputs (keeps .venv)
	rm -rf build .pytest_cache
