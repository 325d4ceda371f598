"""`make lab`: a Python check that says what to do, then JupyterLab on the course home in the course's language."""
import ast
import importlib.metadata
import json
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request

import pytest

from autograder import lab, paths, python_version
from autograder.notebook_format import LANGS
from conftest import ROOT, tool_env

SCRIPT = ROOT / "autograder" / "python_version.py"


def test_required_python_is_read_from_pyproject():
    assert python_version.required() == (3, 11)
    assert re.search(r'^requires-python = ">=3\.11"$', (ROOT / "pyproject.toml").read_text(), re.M)


@pytest.mark.parametrize("version", [(3, 11, 0), (3, 12, 4), (4, 0, 0)])
def test_new_enough_python_passes(version):
    assert python_version.problem(version, (3, 11)) is None


def test_old_python_is_told_what_to_do():
    message = python_version.problem((3, 9, 18), (3, 11), python="python3", goal="lab")
    assert "python3 is Python 3.9.18" in message and "needs Python >= 3.11" in message
    assert "make lab PYTHON=python3.12" in message
    assert "Nothing was created" in message


def test_old_python_is_told_in_the_course_language():
    message = python_version.problem((3, 10, 0), (3, 11), python="python3", goal="lab COURSE_LANG=zh", lang="zh")
    assert "本课程需要 Python >= 3.11" in message and "make lab COURSE_LANG=zh PYTHON=python3.12" in message


def test_old_virtual_environment_is_told_to_go_first():
    message = python_version.problem((3, 10, 2), (3, 11), python=".venv/bin/python", goal="test", venv=".venv")
    assert "rm -rf .venv && make test PYTHON=python3.12" in message


def _run_script_as(version, *args):
    # The script run by an older interpreter, simulated: it reads sys.version_info like any other Python.
    code = ("import runpy, sys\n"
            f"sys.version_info = {tuple(version) + ('final', 0)!r}\n"
            f"sys.argv = [{str(SCRIPT)!r}, *{list(args)!r}]\n"
            f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_the_script_fails_an_old_python_and_passes_this_one():
    old = _run_script_as((3, 10, 14), "--goal", "lab", "--name", "python3")
    assert old.returncode == 1
    assert "python3 is Python 3.10.14, but this course needs Python >= 3.11" in old.stderr
    assert "make lab PYTHON=python3.12" in old.stderr
    assert subprocess.run([sys.executable, str(SCRIPT)], capture_output=True).returncode == 0


def test_the_script_parses_on_old_pythons():
    # It runs before anything is installed, under whatever PYTHON names: no syntax newer than Python 3.4.
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"), feature_version=(3, 4))
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)], "no f-strings (3.6+)"
    imported = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"argparse", "io", "os", "re", "sys"}, "the standard library of any Python 3 (no tomllib)"


def test_the_makefile_checks_python_before_making_the_venv(tmp_path):
    # A PYTHON that does not exist: make stops with a message and makes no .venv.
    result = subprocess.run(["make", "-s", "-n", f"VENV={tmp_path / 'venv'}", "install"], cwd=ROOT,
                            capture_output=True, text=True)
    lines = result.stdout.splitlines()
    check = next(i for i, line in enumerate(lines) if "python_version.py" in line)
    make_venv = next(i for i, line in enumerate(lines) if "-m venv" in line)
    assert check < make_venv
    missing = subprocess.run(["make", "-s", f"VENV={tmp_path / 'venv'}", "PYTHON=no-such-python3", "lab"], cwd=ROOT,
                             capture_output=True, text=True)
    assert missing.returncode != 0
    assert "no 'no-such-python3'" in missing.stderr and "make lab PYTHON=python3.12" in missing.stderr
    assert ">=3.11" in missing.stderr
    assert not (tmp_path / "venv").exists()


@pytest.mark.parametrize("lang", LANGS)
def test_lab_command_opens_the_course_home(lang, tmp_path):
    cmd = lab.command(lang, ["--no-browser"], root=tmp_path)
    assert cmd[:4] == [sys.executable, "-m", "jupyter", "lab"] and cmd[-1] == "--no-browser"
    assert f"--LabApp.default_url=/lab/tree/notebooks/{lang}/00_course_home.ipynb" in cmd
    assert f"--ServerApp.root_dir={tmp_path}" in cmd
    assert f"--LabApp.user_settings_dir={tmp_path / 'build' / 'lab' / lang / 'user-settings'}" in cmd
    assert (ROOT / paths.course_home_notebook(lang)).is_file()


@pytest.mark.parametrize("lang, locale", [("en", "en"), ("zh", "zh_CN")])
def test_lab_settings_select_the_interface_language(lang, locale, tmp_path):
    settings = lab.write_settings(lang, root=tmp_path)
    assert settings.is_relative_to(tmp_path), "settings live in the checkout, not in the user's home"
    path = settings / "@jupyterlab" / "translation-extension" / "plugin.jupyterlab-settings"
    assert json.loads(path.read_text(encoding="utf-8")) == {"locale": locale}


def test_the_chinese_language_pack_is_a_course_dependency_and_installed():
    course = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert any(r.startswith("jupyterlab-language-pack-zh-CN") for r in course)
    files = importlib.metadata.files("jupyterlab-language-pack-zh-CN")
    assert any(str(f).endswith("locale/zh_CN/LC_MESSAGES/jupyterlab.json") for f in files)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.integration
@pytest.mark.parametrize("lang, locale", [("en", "en"), ("zh", "zh_CN")])
def test_jupyter_lab_prints_the_home_url_and_serves_the_interface_language(lang, locale, tmp_path):
    port = _free_port()
    env = tool_env()
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    proc = subprocess.Popen([sys.executable, "-m", "autograder.lab", "--lang", lang, "--no-browser", f"--port={port}",
                             "--ServerApp.ip=127.0.0.1"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    log = []
    try:
        deadline = time.monotonic() + 120
        url = None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            log.append(line)
            m = re.search(rf"(http://127\.0\.0\.1:{port}/\S+)", line)
            url = m.group(1) if m else None
        assert url, "jupyter lab printed no URL:\n" + "".join(log)
        # the printed link itself opens the course home, not the Launcher
        assert url.startswith(f"http://127.0.0.1:{port}/lab/tree/{paths.course_home_notebook(lang)}?token="), url
        token = url.split("token=", 1)[1]

        def get(path, patience=30.0):
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"token {token}"})
            give_up = time.monotonic() + patience
            while True:  # the server logs its URL a moment before it accepts connections
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        return response.status, response.read().decode("utf-8")
                except urllib.error.URLError as exc:
                    if not isinstance(exc.reason, ConnectionRefusedError) or time.monotonic() > give_up:
                        raise
                    time.sleep(0.5)

        assert get(url.split(str(port), 1)[1])[0] == 200
        settings = json.loads(get("/lab/api/settings/@jupyterlab/translation-extension:plugin")[1])
        assert settings["settings"]["locale"] == locale
        packs = json.loads(get("/lab/api/translations")[1])["data"]
        assert locale in packs
        if lang == "zh":
            strings = json.loads(get(f"/lab/api/translations/{locale}")[1])["data"]["jupyterlab"]
            assert strings["Run All Cells"] == ["运行所有单元格"]
        content = json.loads(get(f"/api/contents/{paths.course_home_notebook(lang)}?content=0")[1])
        assert content["type"] == "notebook"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        proc.stdout.close()
