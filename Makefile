# The list of verbs. `make help` prints them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
# PY may name an existing interpreter (e.g. on a GPU machine with no network): then nothing is installed.
PY ?= $(VENV)/bin/python
# Two installs: the course alone (make lab, make install: what students and instructors need) and the
# course with the dev extra (tests, linters, papermill: every other verb). Both: pip install -e .
INSTALLED := $(if $(filter $(VENV)/bin/python,$(PY)),$(VENV)/.installed,)
COURSE_INSTALLED := $(if $(filter $(VENV)/bin/python,$(PY)),$(VENV)/.installed-course,)
# The command to suggest again when the Python is too old, in the course's language.
SETUP_GOAL := $(or $(firstword $(filter-out help clean,$(MAKECMDGOALS))),install)$(if $(filter-out en,$(COURSE_LANG)), COURSE_LANG=$(COURSE_LANG))
PYTHON_CHECK = autograder/python_version.py --goal "$(SETUP_GOAL)" --lang $(COURSE_LANG)
export PATH := $(abspath $(dir $(PY))):$(PATH)
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

COURSE_LANG ?= en

.PHONY: help install lab demo report notebooks check-sync run-notebooks site test-gpu unit integration grading lint signatures course test clean

help:  ## list the verbs
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

# First the Python: new enough for pyproject.toml's requires-python, or a message that says what to do.
$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "setup: no '$(PYTHON)' here. Install Python $$(sed -n 's/^requires-python = \"\(.*\)\"/\1/p' pyproject.toml) and name it, e.g. make $(SETUP_GOAL) PYTHON=python3.12" >&2; exit 1; }
	@$(PYTHON) $(PYTHON_CHECK) --name $(PYTHON)
	@echo "setup: creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version 2>&1))"
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-course: pyproject.toml | $(VENV)/bin/python
	@$(VENV)/bin/python $(PYTHON_CHECK) --name $(VENV)/bin/python --venv $(VENV)
	@echo "setup: installing the course into $(VENV); pip names each package (the first time takes a few minutes)"
	$(VENV)/bin/python -m pip install --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	@$(VENV)/bin/python $(PYTHON_CHECK) --name $(VENV)/bin/python --venv $(VENV)
	@echo "setup: installing the course and its test and lint tools (the dev extra) into $(VENV); pip names each package"
	$(VENV)/bin/python -m pip install --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install --disable-pip-version-check -e '.[dev]'
	touch $@ $(VENV)/.installed-course

# The real-browser tests drive the system's Chromium with a Chinese font: as root with apt-get they are installed,
# otherwise the command to run is printed (and the tests are skipped, saying so; under CI=true they fail).
BROWSER_INSTALLED := $(if $(filter $(VENV)/bin/python,$(PY)),$(VENV)/.installed-browser,)
$(VENV)/.installed-browser: autograder/browser.py | $(VENV)/.installed
	$(VENV)/bin/python -m autograder.browser setup --stamp $@

.PHONY: browser
browser: $(INSTALLED)  ## Chromium and a Chinese font for the real-browser tests (apt-get when root, else the command)
	$(PY) -m autograder.browser setup

install: $(COURSE_INSTALLED)  ## create .venv and install the course (make test adds the dev extra: tests, linters)

LAB_ARGS ?=
lab: $(COURSE_INSTALLED)  ## JupyterLab on the course home, in COURSE_LANG=en|zh (LAB_ARGS="--no-browser --port=8889")
	$(PY) -m autograder.lab --lang $(COURSE_LANG) $(LAB_ARGS)

demo: $(INSTALLED)  ## the instructor's job on a throw-away course (build/demo, wiped): 6 students, due date to report (COURSE_LANG=en|zh)
	@$(PY) -m autograder.demo --lang $(COURSE_LANG)

notebooks: $(INSTALLED)  ## regenerate every notebook and release from its source
	$(PY) -m autograder.build notebooks

check-sync: $(INSTALLED)  ## fail if a generated file is stale, unpaired or leaks solutions
	$(PY) -m autograder.build check

# make test runs the lessons only: the grading tests' reference run is the instructor exercises' execution check.
NOTEBOOK_KIND ?= all
run-notebooks: $(INSTALLED)  ## execute every lesson and instructor exercise with papermill (NOTEBOOK_KIND=lesson|exercise|all)
	$(PY) -m autograder.build run --kind $(NOTEBOOK_KIND)

# The site shows the lessons run-notebooks executed (it never runs one itself): without them it says to run that first.
site: $(INSTALLED)  ## the course website in build/site/ (en + zh) from the executed lessons: run-notebooks NOTEBOOK_KIND=lesson first
	$(PY) -m autograder.build site

test-gpu:  ## run-notebooks on CUDA; fails loudly without a GPU (PY=python3 uses an existing interpreter)
	JAX_PLATFORMS=cuda $(PY) -m autograder.build run --require-backend cuda --out build/gpu

unit: $(INSTALLED)  ## fast in-process tests (under a minute): wire, plan, submissions, results, sources
	$(PY) -m pytest -q -m "not grading and not integration and not site"

integration: $(INSTALLED)  ## the build tools and papermill in subprocesses (check-sync's own tests)
	$(PY) -m pytest -q -n 2 -m integration

grading: $(INSTALLED)  ## every chapter's reference, blank and wrong answers graded; nbgrader command chains; attacks
	$(PY) -m pytest -q -n 2 --dist loadgroup -m grading

lint: $(INSTALLED)  ## lint the Python code (ruff) and the CI workflows
	$(VENV)/bin/ruff check .
	$(VENV)/bin/actionlint .github/workflows/*.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

SLUG ?=
signatures: $(INSTALLED)  ## grade the known-wrong answers, record what each fails (SLUG=NN_slug; default: stale ones)
	$(PY) -m autograder.build signatures $(SLUG)

course: $(INSTALLED)  ## make course DIR=<path> COURSE_LANG=en|zh: a ready nbgrader course directory
	@test -n "$(DIR)" || { echo "usage: make course DIR=<path> COURSE_LANG=en|zh" >&2; exit 2; }
	$(PY) -m autograder.build course "$(DIR)" --lang $(COURSE_LANG)

report: $(COURSE_INSTALLED)  ## make report DIR=<course> ASSIGNMENT=NN_slug: class analytics after nbgrader autograde
	@test -n "$(DIR)" && test -n "$(ASSIGNMENT)" || { echo "usage: make report DIR=<course> ASSIGNMENT=NN_slug" >&2; exit 2; }
	@$(PY) -m autograder.grading.report "$(DIR)" "$(ASSIGNMENT)" --lang $(COURSE_LANG)

test: $(INSTALLED)  ## everything CI runs: check-sync, lint, unit, integration and grading tests, run-notebooks, site
	$(MAKE) --no-print-directory check-sync
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -q -n 2 --dist loadgroup --durations=30 -m "not site"
	$(MAKE) --no-print-directory run-notebooks NOTEBOOK_KIND=lesson
	$(MAKE) --no-print-directory site
	$(PY) -m pytest -q -m site tests/test_site.py

# make test also sets up the browser that tests/test_browser.py drives
test: $(BROWSER_INSTALLED)

clean:  ## remove build outputs (keeps .venv)
	rm -rf build .pytest_cache
