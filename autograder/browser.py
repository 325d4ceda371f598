"""`make browser`: the Chromium and the Chinese font that the real-browser tests (tests/test_browser.py) need.

Playwright drives the system's Chromium (Debian's package), never a browser build of its own: `playwright install`
downloads one from a host that CI's machines cannot reach. Run as root with apt-get, `setup` installs what is
missing (`apt-get update` once, then `apt-get install`, its progress shown); anyone else is told, in English and
Chinese, the command to run. The tests ask `unavailable()` why they cannot run and name `SETUP_COMMAND`.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

ENV_VAR = "CHROMIUM"  # an explicit browser: a name on PATH or a path (e.g. /usr/bin/google-chrome)
CANDIDATES = ("chromium", "chromium-browser")  # Debian's name, then Ubuntu's and Fedora's
CHROMIUM_PACKAGE = "chromium"
# Without a CJK font Chromium draws Chinese text as boxes: the screenshots of the Chinese course would be unreadable.
FONT_PACKAGE = "fonts-noto-cjk"
SETUP_COMMAND = "make browser"
APT_INSTALL = ("apt-get", "install", "-y", "--no-install-recommends")


class BrowserError(Exception):
    """The browser set-up cannot be completed; the message says why in English and Chinese."""


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def chromium(env: Mapping[str, str] = os.environ) -> str | None:
    """The Chromium executable to drive: $CHROMIUM if set (and then it must exist), else the first one on PATH."""
    override = env.get(ENV_VAR, "").strip()
    if override:
        found = shutil.which(override, path=env.get("PATH"))
        if found is None:
            raise BrowserError(f"{ENV_VAR}={override} is not an executable (a name on PATH or a path to a browser).\n"
                               f"{ENV_VAR}={override} 不是可执行文件（应为 PATH 中的命令名或浏览器的路径）。")
        return found
    return next((found for name in CANDIDATES if (found := shutil.which(name, path=env.get("PATH")))), None)


def has_cjk_font(run: Callable = subprocess.run) -> bool:
    """Whether fontconfig (which Chromium uses on Linux) knows a font that covers Chinese."""
    try:
        listed = run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    except FileNotFoundError:  # no fontconfig at all: Chromium's package brings it
        return False
    return listed.returncode == 0 and bool(listed.stdout.strip())


def has_playwright() -> bool:
    # Only looked up, not imported: Playwright is a dev tool, and this module is part of the course's package.
    return importlib.util.find_spec("playwright") is not None


def missing_packages(env: Mapping[str, str] = os.environ, run: Callable = subprocess.run) -> list[str]:
    """The Debian packages still to install: Chromium unless one is found, the CJK font unless one is known."""
    missing = [] if chromium(env) else [CHROMIUM_PACKAGE]
    return missing + ([] if has_cjk_font(run) else [FONT_PACKAGE])


def install_hint(packages: list[str]) -> str:
    """What someone who is not root types, in both languages."""
    command = f"sudo apt-get update && sudo {' '.join(APT_INSTALL)} {' '.join(packages)}"
    return (f"browser: the real-browser tests need {', '.join(packages)}. On Debian or Ubuntu run:\n"
            f"    {command}\n"
            f"  elsewhere install Chromium and a Chinese (CJK) font, or point {ENV_VAR}=/path/to/chromium at a browser;\n"
            f"  then `{SETUP_COMMAND}`.\n"
            f"browser: 真实浏览器测试需要 {', '.join(packages)}。在 Debian 或 Ubuntu 上运行：\n"
            f"    {command}\n"
            f"  其他系统请安装 Chromium 和中文（CJK）字体，或用 {ENV_VAR}=/path/to/chromium 指定浏览器；\n"
            f"  然后运行 `{SETUP_COMMAND}`。")


def unavailable(env: Mapping[str, str] = os.environ, run: Callable = subprocess.run) -> str | None:
    """Why the real-browser tests cannot run here (naming the set-up command), or None when they can."""
    if not has_playwright():
        return (f"Playwright is not installed in {sys.executable}: run `{SETUP_COMMAND}` (it installs the dev extra).\n"
                f"{sys.executable} 中没有安装 Playwright：请运行 `{SETUP_COMMAND}`（它会安装 dev 附加依赖）。")
    try:
        found = chromium(env)
    except BrowserError as exc:
        return str(exc)
    if found is None:
        return (f"no Chromium found ({', '.join(CANDIDATES)} on PATH, or ${ENV_VAR}): run `{SETUP_COMMAND}`.\n"
                f"找不到 Chromium（PATH 中的 {'、'.join(CANDIDATES)}，或 ${ENV_VAR}）：请运行 `{SETUP_COMMAND}`。")
    if not has_cjk_font(run):
        return (f"no Chinese font: Chromium would draw the Chinese course as boxes. Run `{SETUP_COMMAND}`.\n"
                f"没有中文字体：Chromium 会把中文课程显示成方框。请运行 `{SETUP_COMMAND}`。")
    return None


def in_ci(env: Mapping[str, str] = os.environ) -> bool:
    """CI=true (any value but empty, 0, false, no): a browser that cannot run is then a failure, not a skip."""
    return env.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def launch_args() -> list[str]:
    # Chromium's sandbox refuses to start as root (containers, CI); a normal user keeps it.
    return ["--no-sandbox"] if _is_root() else []


def setup(env: Mapping[str, str] = os.environ, run: Callable = subprocess.run, is_root: bool | None = None,
          out=sys.stdout) -> bool:
    """Install what is missing when root with apt-get, else say what to run; True when everything is there."""
    missing = missing_packages(env, run)
    if not missing:
        print(f"browser: ready: {chromium(env)} with a Chinese font / 浏览器已就绪", file=out, flush=True)
        return True
    root = _is_root() if is_root is None else is_root
    if not (root and shutil.which("apt-get", path=env.get("PATH"))):
        print(install_hint(missing), file=out, flush=True)
        return False
    print(f"browser: installing {' '.join(missing)} with apt-get / 正在用 apt-get 安装 {' '.join(missing)}",
          file=out, flush=True)
    apt_env = {**env, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], [*APT_INSTALL, *missing]):
        print("+ " + " ".join(command), file=out, flush=True)
        if run(command, env=apt_env, check=False).returncode != 0:  # apt-get's own output stays on screen
            raise BrowserError(f"`{' '.join(command)}` failed (its output is above).\n"
                               f"`{' '.join(command)}` 执行失败（输出见上方）。")
    still = missing_packages(env, run)
    if still:
        raise BrowserError(f"after apt-get, still missing: {', '.join(still)}.\napt-get 之后仍然缺少：{'、'.join(still)}。")
    print(f"browser: ready: {chromium(env)} with a Chinese font / 浏览器已就绪", file=out, flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.browser", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    verb = sub.add_parser("setup", help="install Chromium and a Chinese font when root with apt-get, else say how")
    verb.add_argument("--stamp", type=Path, help="a file to touch once everything is there (make's stamp)")
    args = parser.parse_args(argv)
    try:
        ready = setup()
    except BrowserError as exc:
        print(f"browser: {exc}", file=sys.stderr)
        return 1
    if ready and not has_playwright():
        print(unavailable(), file=sys.stderr)
        ready = False
    if ready and args.stamp:
        args.stamp.parent.mkdir(parents=True, exist_ok=True)
        args.stamp.touch()
    # Not ready is an error only in CI, where the browser tests would fail; elsewhere they are skipped, saying why.
    return 1 if not ready and in_ci() else 0


if __name__ == "__main__":
    sys.exit(main())
