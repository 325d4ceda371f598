"""`make browser`'s set-up (autograder/browser.py): what it finds, what it installs as root, what it tells others.

apt-get and fontconfig are stand-ins here (a recorded `run`, scripts on a scratch PATH): nothing is installed.
The real install is what `make test` runs; tests/test_browser.py drives the browser it leaves.
"""
import io
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest

from autograder import browser


def _bin(tmp_path, *names):
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name in names:
        path = folder / name
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(0o755)
    return folder


class FakeSystem:
    """fc-list and apt-get as `run` sees them; installing a package makes it appear."""

    def __init__(self, tmp_path, have=(), apt_fails=False):
        self.tmp_path = tmp_path
        self.have = set(have)
        self.apt_fails = apt_fails
        self.calls = []
        _bin(tmp_path, "apt-get", *(["chromium"] if "chromium" in self.have else []))

    @property
    def env(self):
        return {"PATH": str(self.tmp_path / "bin")}

    def __call__(self, cmd, **kwargs):
        self.calls.append(list(cmd))
        if cmd[0] == "fc-list":
            return SimpleNamespace(returncode=0, stdout="Noto Sans CJK SC\n" if "fonts-noto-cjk" in self.have else "")
        if self.apt_fails:
            return SimpleNamespace(returncode=100, stdout="")
        if cmd[:2] == ["apt-get", "install"]:
            installed = [arg for arg in cmd[2:] if not arg.startswith("-")]
            self.have |= set(installed)
            if "chromium" in installed:
                _bin(self.tmp_path, "chromium")
        return SimpleNamespace(returncode=0, stdout="")

    def apt_calls(self):
        return [c for c in self.calls if c[0] == "apt-get"]


def test_chromium_is_found_on_path_by_its_debian_or_ubuntu_name(tmp_path):
    assert browser.chromium({"PATH": str(_bin(tmp_path, "chromium-browser"))}) == str(tmp_path / "bin" / "chromium-browser")
    assert browser.chromium({"PATH": str(tmp_path / "empty")}) is None


def test_the_chromium_variable_overrides_and_must_exist(tmp_path):
    folder = _bin(tmp_path, "chromium", "my-chrome")
    assert browser.chromium({"PATH": str(folder), "CHROMIUM": "my-chrome"}) == str(folder / "my-chrome")
    assert browser.chromium({"PATH": "", "CHROMIUM": str(folder / "my-chrome")}) == str(folder / "my-chrome")
    with pytest.raises(browser.BrowserError, match=r"CHROMIUM=/no/such/chrome is not an executable") as err:
        browser.chromium({"PATH": str(folder), "CHROMIUM": "/no/such/chrome"})
    assert "不是可执行文件" in str(err.value), "said in Chinese too"


def test_the_chinese_font_is_asked_of_fontconfig(tmp_path):
    assert browser.has_cjk_font(FakeSystem(tmp_path, have={"fonts-noto-cjk"}))
    assert not browser.has_cjk_font(FakeSystem(tmp_path))

    def no_fontconfig(cmd, **kwargs):
        raise FileNotFoundError(cmd[0])

    assert not browser.has_cjk_font(no_fontconfig)


def test_a_user_who_is_not_root_is_told_the_command_in_both_languages(tmp_path):
    system = FakeSystem(tmp_path, have={"chromium"})
    out = io.StringIO()
    assert browser.setup(system.env, system, is_root=False, out=out) is False
    told = out.getvalue()
    # only what is missing (Chromium is there), once per language
    command = r"^    sudo apt-get update && sudo apt-get install -y --no-install-recommends fonts-noto-cjk$"
    assert len(re.findall(command, told, re.M)) == 2, told
    assert "在 Debian 或 Ubuntu 上运行" in told and "make browser" in told
    assert system.apt_calls() == [], "nothing installed without root"


def test_root_with_apt_get_updates_once_then_installs_what_is_missing(tmp_path):
    system = FakeSystem(tmp_path)
    out = io.StringIO()
    assert browser.setup(system.env, system, is_root=True, out=out) is True
    assert system.apt_calls() == [["apt-get", "update"],
                                  ["apt-get", "install", "-y", "--no-install-recommends", "chromium", "fonts-noto-cjk"]]
    assert re.search(r"^\+ apt-get install -y --no-install-recommends chromium fonts-noto-cjk$", out.getvalue(), re.M)
    assert "browser: ready" in out.getvalue()
    # once there, a second run installs nothing
    system.calls.clear()
    assert browser.setup(system.env, system, is_root=True, out=io.StringIO()) is True
    assert system.apt_calls() == []


def test_a_failed_apt_get_is_an_error_that_says_which_command(tmp_path):
    system = FakeSystem(tmp_path, apt_fails=True)
    with pytest.raises(browser.BrowserError, match=r"`apt-get update` failed"):
        browser.setup(system.env, system, is_root=True, out=io.StringIO())
    assert system.apt_calls() == [["apt-get", "update"]], "no install after a failed update"


def test_root_without_apt_get_is_told_the_command(tmp_path):
    system = FakeSystem(tmp_path)
    (tmp_path / "bin" / "apt-get").unlink()
    out = io.StringIO()
    assert browser.setup(system.env, system, is_root=True, out=out) is False
    assert "apt-get install" in out.getvalue() and system.apt_calls() == []


@pytest.mark.parametrize("value, ci", [("true", True), ("1", True), ("", False), ("false", False), ("0", False)])
def test_ci_is_read_from_the_ci_variable(value, ci):
    assert browser.in_ci({"CI": value}) is ci
    assert browser.in_ci({}) is False


@pytest.mark.parametrize("ci, code", [("true", 1), ("", 0)])
def test_not_ready_fails_make_only_in_ci_and_leaves_no_stamp(ci, code, tmp_path, monkeypatch):
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(browser, "setup", lambda: False)
    stamp = tmp_path / "stamp"
    assert browser.main(["setup", "--stamp", str(stamp)]) == code
    assert not stamp.exists(), "make asks again next time"


def test_ready_writes_the_stamp(tmp_path, monkeypatch):
    monkeypatch.setattr(browser, "setup", lambda: True)
    monkeypatch.setattr(browser, "has_playwright", lambda: True)
    stamp = tmp_path / "deep" / "stamp"
    assert browser.main(["setup", "--stamp", str(stamp)]) == 0
    assert stamp.exists()


def test_why_the_browser_tests_cannot_run_names_the_setup_command(tmp_path, monkeypatch):
    monkeypatch.setattr(browser, "has_playwright", lambda: True)
    fonts = FakeSystem(tmp_path, have={"fonts-noto-cjk"})
    missing = browser.unavailable({"PATH": str(tmp_path / "empty")}, fonts)
    assert "no Chromium found" in missing and "make browser" in missing and "找不到 Chromium" in missing
    assert browser.unavailable({"PATH": str(_bin(tmp_path, "chromium"))}, fonts) is None
    no_font = browser.unavailable({"PATH": str(tmp_path / "bin")}, FakeSystem(tmp_path))
    assert "no Chinese font" in no_font and "make browser" in no_font and "没有中文字体" in no_font
    monkeypatch.setattr(browser, "has_playwright", lambda: False)
    assert "Playwright is not installed" in browser.unavailable({"PATH": str(tmp_path / "bin")})


def test_the_module_runs_from_the_command_line():
    # `make browser` runs it as a module; --help needs no browser, apt-get or Playwright
    done = subprocess.run([sys.executable, "-m", "autograder.browser", "setup", "--help"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "--stamp" in done.stdout
