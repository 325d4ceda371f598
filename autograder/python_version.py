# -*- coding: utf-8 -*-
"""`make lab` / `make install` step 0: is this Python new enough for the course? Checked before `.venv` is made.

Run as a script by whatever interpreter `PYTHON=` names, so it must run on old Pythons too: standard
library only, no f-strings, no `from __future__ import annotations`, no tomllib (3.11+). The minimum
is read from pyproject.toml's ``requires-python``, the only place it is written.
"""
import argparse
import io
import os
import re
import sys

PYPROJECT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pyproject.toml")


def required(pyproject=PYPROJECT):
    """``requires-python = ">=3.11"`` as (3, 11)."""
    with io.open(pyproject, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r'^requires-python\s*=\s*"\s*>=\s*([0-9]+(?:\.[0-9]+)*)\s*"', text, re.M)
    if m is None:
        raise ValueError("pyproject.toml: requires-python must read \">=X.Y\"")
    return tuple(int(p) for p in m.group(1).split("."))


TEXT = {
    "en": {
        "old": "%(python)s is Python %(have)s, but this course needs Python >= %(need)s (pyproject.toml, requires-python).",
        "venv": "%(venv)s was made with it: delete it, then name a newer Python:",
        "fresh": "Nothing was created or installed. Install Python %(need)s or newer (python.org, your package\n"
                 "manager, pyenv or conda), then name it, e.g.:",
        "any": "(any Python >= %(need)s works: PYTHON=python%(need)s, or its full path; conda users: environment.yml)",
    },
    "zh": {
        "old": "%(python)s 是 Python %(have)s，而本课程需要 Python >= %(need)s（见 pyproject.toml 的 requires-python）。",
        "venv": "%(venv)s 是用它创建的：请先删除它，再指定一个更新的 Python：",
        "fresh": "没有创建或安装任何东西。请安装 Python %(need)s 或更新的版本（python.org、系统的包管理器、pyenv 或 conda），\n"
                 "然后指定它，例如：",
        "any": "（任何 >= %(need)s 的 Python 都可以：PYTHON=python%(need)s，或者写完整路径；用 conda 的话见 environment.yml）",
    },
}


def problem(version, minimum, python="python3", goal="lab", venv=None, lang="en"):
    """What to tell the user when ``version`` is older than ``minimum``; None when it is new enough.

    ``goal``: the make command line to suggest again (e.g. "lab COURSE_LANG=zh"); ``venv``: the folder of an
    existing virtual environment made with that Python (it must go first); ``lang``: en or zh.
    """
    if tuple(version[:len(minimum)]) >= tuple(minimum):
        return None
    text = TEXT.get(lang, TEXT["en"])
    values = {"python": python, "have": ".".join(str(p) for p in version[:3]),
              "need": ".".join(str(p) for p in minimum), "venv": venv}
    example = "python%d.%d" % (minimum[0], minimum[1] + 1) if len(minimum) > 1 else "python%d" % minimum[0]
    lines = [text["old"] % values]
    if venv:
        lines += [text["venv"] % values, "    rm -rf %s && make %s PYTHON=%s" % (venv, goal, example)]
    else:
        lines += [text["fresh"] % values, "    make %s PYTHON=%s" % (goal, example)]
    lines += [text["any"] % values]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description="fail, saying what to do, when this Python is too old for the course")
    parser.add_argument("--goal", default="lab", help="the make verb to suggest again")
    parser.add_argument("--name", default=sys.executable, help="how the user named this Python (make's PYTHON)")
    parser.add_argument("--venv", help="this Python is the one of an existing virtual environment, in this folder")
    parser.add_argument("--lang", default="en", help="the language of the message: en or zh (make's COURSE_LANG)")
    args = parser.parse_args(argv)
    message = problem(sys.version_info, required(), python=args.name, goal=args.goal, venv=args.venv, lang=args.lang)
    if message:
        sys.stderr.write(message + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
