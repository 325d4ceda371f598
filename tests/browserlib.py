"""What every real-browser test shares: the system's Chromium through Playwright, headless and offline, and screenshots.

Without Chromium, a Chinese font or Playwright the tests are skipped, saying why, or fail under CI=true
(`make browser` sets them up; autograder/browser.py).
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from autograder import browser as browser_setup
from conftest import ROOT

SCREENSHOTS = ROOT / "build" / "screenshots"
WAIT_MS = 180_000  # for a page, a kernel or a notebook's run: generous, the other xdist worker grades meanwhile


def require_browser() -> str:
    """Chromium's path; without Chromium, a Chinese font or Playwright: a skip, or under CI a failure, saying why."""
    reason = browser_setup.unavailable()
    if reason is not None:
        (pytest.fail if browser_setup.in_ci() else pytest.skip)(f"real-browser tests: {reason}")
    return browser_setup.chromium()


@contextlib.contextmanager
def chromium():
    """Playwright's Chromium, the system's browser, headless; closed at the end even after a failure."""
    executable = require_browser()
    from playwright.sync_api import sync_playwright  # a dev tool: imported only once it is known to be there

    driver = sync_playwright().start()
    try:
        # No network at run time: every host name fails to resolve; local servers are addressed as 127.0.0.1.
        args = [*browser_setup.launch_args(), "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
        browser = driver.chromium.launch(executable_path=executable, args=args, headless=True)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        driver.stop()


def new_context(browser):
    """A fresh browser profile: a laptop-sized window, English locale, generous waits."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(WAIT_MS)
    return context


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    # JupyterLab's first-start question about news slides over the corner; hidden in the picture only (answering
    # it would write a setting into `make lab`'s settings folder).
    page.screenshot(path=path, style=".Toastify { visibility: hidden; }")
    return path


@contextlib.contextmanager
def running(cmd: list[str], cwd: Path, env: dict, log: Path):
    """A server process in its own session, its output in `log`; stopped at the end (killed if it will not stop)."""
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        proc.terminate()  # Jupyter servers shut their kernels down on SIGTERM
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
