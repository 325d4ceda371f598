"""`make lab`: JupyterLab on the course home notebook, with its interface in the course's language.

The URL JupyterLab prints is the course home itself (``/lab/tree/notebooks/LANG/00_course_home.ipynb``),
so a student who copies the link (remote machine, WSL, container) lands where one whose browser opened by
itself does. The interface language is JupyterLab's own translation setting, written into a settings
folder of this checkout (``build/lab/LANG/``), never into the user's home; so are the workspaces, so the
English and the Chinese course each remember their own open tabs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from autograder import paths
from autograder.notebook_format import LANGS

# JupyterLab's locale names: "en" is its built-in English; zh_CN comes from jupyterlab-language-pack-zh-CN.
LOCALE = {"en": "en", "zh": "zh_CN"}
TRANSLATION_PLUGIN = "@jupyterlab/translation-extension:plugin"
STARTING = {
    "en": "lab: JupyterLab in English on {home}. If no browser opens, copy the http://… link printed below: "
          "it opens the course home. Ctrl-C twice stops JupyterLab.",
    "zh": "lab: 在 JupyterLab（中文界面）中打开 {home}。如果浏览器没有自动打开，请复制下面打印出的 http://… 链接："
          "它直接打开课程主页。连按两次 Ctrl-C 停止 JupyterLab。",
}


def lab_dir(lang: str, root: Path = paths.ROOT) -> Path:
    """Where one language's JupyterLab keeps its user settings and workspaces (ignored by git)."""
    return root / "build" / "lab" / lang


def write_settings(lang: str, root: Path = paths.ROOT) -> Path:
    """JupyterLab user settings that select the course's interface language; returns the settings folder."""
    settings = lab_dir(lang, root) / "user-settings"
    package, plugin = TRANSLATION_PLUGIN.split(":")
    path = settings / package / f"{plugin}.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"locale": LOCALE[lang]}, indent=4) + "\n", encoding="utf-8")
    return settings


def command(lang: str, extra: list[str] | tuple[str, ...] = (), root: Path = paths.ROOT) -> list[str]:
    """The `jupyter lab` command line of one language's course (extra: more JupyterLab options)."""
    folder = lab_dir(lang, root)
    args = [
        sys.executable, "-m", "jupyter", "lab",
        f"--ServerApp.root_dir={root}",
        # LabApp's default_url is the path the server prints and the browser opens: the course home
        f"--LabApp.default_url=/lab/tree/{paths.course_home_notebook(lang)}",
        f"--LabApp.user_settings_dir={folder / 'user-settings'}",
        f"--LabApp.workspaces_dir={folder / 'workspaces'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root; Jupyter refuses it unasked
        args.append("--allow-root")
    return args + list(extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.lab", description=__doc__.splitlines()[0],
                                     epilog="Other options go to `jupyter lab`, e.g. --no-browser --port=8889.")
    parser.add_argument("--lang", choices=LANGS, default=LANGS[0], help="the course's and the interface's language")
    args, extra = parser.parse_known_args(argv)
    home = paths.course_home_notebook(args.lang)
    if not (paths.ROOT / home).is_file():
        print(f"lab: {home} is missing; run `make notebooks`", file=sys.stderr)
        return 1
    write_settings(args.lang)
    (lab_dir(args.lang) / "workspaces").mkdir(parents=True, exist_ok=True)
    print(STARTING[args.lang].format(home=home), flush=True)
    cmd = command(args.lang, extra)
    os.execv(cmd[0], cmd)
    return 0  # not reached: JupyterLab replaces this process


if __name__ == "__main__":
    sys.exit(main())
