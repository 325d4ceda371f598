"""A student's journey in a real browser: JupyterLab as `make lab` starts it, driven by headless Chromium.

The course home opens from the link JupyterLab prints, in English and in Chinese; the Chinese interface has Chinese
menus; an exercise run with Run → Run All Cells ends in a check-my-work summary that says every task passes (the
reference answers) or names the task a known-wrong answer fails (Run All goes on past the failing self-check:
the exercise's answer and self-check cells are tagged raises-exception). Screenshots land in build/screenshots/.
The browser never writes the course's files (see _answer_writes), and `make lab`'s saved workspaces are put back afterwards.

Playwright drives the system's Chromium (`make browser` installs it). Without it or Playwright the tests are skipped,
saying so, or fail under CI=true. One xdist group: one worker starts JupyterLab at most once per language.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import nbformat
import pytest

import browserlib
from autograder import lab, paths
from autograder.authoring import wrong
from autograder.authoring.source import CHECK_MY_WORK, read_source, self_checks
from autograder.notebook_format import CHECK_MY_WORK_ID, LANGS
from browserlib import SCREENSHOTS, WAIT_MS, free_port, screenshot
from conftest import ROOT, tool_env
from gradelib import reference_answers, submission, task_tests_cell

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("browser")]

# The quickest exercise to run top to bottom (a few seconds with the reference answers, kernel start included).
EXERCISE = "06_control_flow"
# A known-wrong answer that its task's visible self-check already rejects (piecewise(0.5) gives 0.5, not 0.25):
# check my work reruns only the self-checks, so it can name only such a mistake, not one the hidden tests catch.
WRONG = "index_off_by_one"
TASKS = [task for task, _ in self_checks(read_source(paths.source_path(EXERCISE, "exercise")))]
SCRATCH = ROOT / "build" / "browser"  # the notebooks the browser runs: inside the served root, ignored by git
MENUS = ("File", "Edit", "View", "Run", "Kernel", "Tabs", "Settings", "Help")  # JupyterLab's menu bar, in order
SEEN_MENUS = {"en": {"File", "Edit", "Run"}, "zh": {"文件", "编辑", "运行"}}  # what a student reads there
START_TIMEOUT = 120  # seconds for JupyterLab to answer; a busy 2-core machine needs far less
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in front
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Lab:
    """One language's JupyterLab server, started with `make lab`'s command line."""
    lang: str
    base: str
    token: str
    proc: subprocess.Popen
    log: Path
    runtime: Path

    def log_tail(self, chars: int = 6000) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else "(no log)"
        return f"--- JupyterLab's log ({self.log}), last {chars} characters ---\n{text[-chars:]}"

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.base}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read().decode("utf-8")
        return json.loads(body) if body else None

    def printed_url(self) -> str | None:
        """The course link JupyterLab printed (its token shown as "..."), or None before it printed one."""
        found = re.search(rf"{re.escape(self.base)}/lab/\S*", self.log.read_text(encoding="utf-8", errors="replace"))
        return found.group(0) if found else None

    def shut_down_kernels(self, notebook: str) -> None:
        # A finished exercise's kernel would hold JAX's memory and a core's share until the server stops.
        with contextlib.suppress(OSError):  # a server that died: the test's own error says so; its teardown kills
            self._shut_down_kernels(notebook)

    def _shut_down_kernels(self, notebook: str) -> None:
        for session in self.api("/api/sessions"):
            if session.get("path") == notebook:
                self.api(f"/api/sessions/{session['id']}", method="DELETE")


def _kill_kernels_of(runtime: Path) -> None:
    """Kernels a killed server left behind: their command line names its runtime folder's connection file."""
    if not Path("/proc").is_dir():  # not Linux: nothing to look through (JupyterLab's own shutdown stays)
        return
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if str(runtime).encode() in (entry / "cmdline").read_bytes():
                    os.kill(int(entry.name), signal.SIGKILL)


def _wait_until_serving(server: Lab) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"JupyterLab exited with {server.proc.returncode}\n{server.log_tail()}")
        with contextlib.suppress(OSError, ValueError):  # refused, reset, half-written reply: not yet up
            if server.printed_url() and server.api("/api/status") is not None:
                return
        time.sleep(0.3)
    raise AssertionError(f"JupyterLab did not answer within {START_TIMEOUT} s\n{server.log_tail()}")


@contextlib.contextmanager
def _kept_workspaces(lang: str, scratch: Path):
    """`make lab`'s workspaces (build/lab/LANG/workspaces): empty for the test, as they were afterwards.

    The tests open scratch notebooks; JupyterLab saves open tabs in its workspace, which a student's next `make lab`
    would reopen, and would reopen the student's tabs here. JupyterLab takes one workspaces folder only (a second
    --LabApp.workspaces_dir is refused), so the folder `make lab` uses is set aside and put back.
    """
    folder = lab.lab_dir(lang) / "workspaces"
    kept = scratch / "workspaces"
    SCRATCH.mkdir(parents=True, exist_ok=True)
    # `make integration` spreads these tests over two workers without their group: one server per language at a time.
    with open(SCRATCH / f"lab-{lang}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if folder.exists():
            shutil.move(folder, kept)
        folder.mkdir(parents=True)
        try:
            yield
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            if kept.exists():
                shutil.move(kept, folder)


@pytest.fixture(scope="module")
def chromium():
    with browserlib.chromium() as browser:
        yield browser


@pytest.fixture(scope="module", params=LANGS)
def server(request, chromium, tmp_path_factory):
    """JupyterLab for one language, as `make lab COURSE_LANG=LANG` starts it, on a free port with its own token."""
    lang = request.param
    scratch = tmp_path_factory.mktemp(f"lab-{lang}")
    lab.write_settings(lang)  # as `make lab` does before it starts JupyterLab
    with _kept_workspaces(lang, scratch):
        port, token = free_port(), secrets.token_hex(24)
        env = tool_env()
        env["JUPYTER_RUNTIME_DIR"] = str(scratch / "runtime")  # connection files here, not in the user's home
        cmd = lab.command(lang, ["--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                                 f"--ServerApp.token={token}"])
        log = scratch / "jupyterlab.log"
        with browserlib.running(cmd, ROOT, env, log) as proc:
            lab_server = Lab(lang, f"http://127.0.0.1:{port}", token, proc, log, scratch / "runtime")
            try:
                _wait_until_serving(lab_server)
                yield lab_server
            finally:
                _kill_kernels_of(lab_server.runtime)


def _answer_writes(route):
    """Reads of the course's files go to JupyterLab; writes are answered here and never reach the disk.

    Opening a notebook makes JupyterLab put its kernel's details into the file's metadata, save it two minutes later
    (autosave) and first keep a checkpoint copy beside it; the course home is a generated file that `make check-sync`
    compares byte for byte. A refused write would stop the notebook from opening, or raise a dialog: each is answered
    as the server would, so the page goes on as for a student.
    """
    request = route.request
    path = urllib.parse.unquote(urllib.parse.urlparse(request.url).path).split("/api/contents/", 1)[1]
    checkpoints = path.endswith("/checkpoints")  # even listing them makes the server create their folder
    if request.method == "GET" and not checkpoints:
        route.continue_()
        return
    now = datetime.now(timezone.utc).isoformat()
    if checkpoints and request.method == "GET":
        route.fulfill(status=200, json=[])
    elif checkpoints and request.method == "POST":
        route.fulfill(status=201, json={"id": "checkpoint", "last_modified": now})
    elif request.method == "PUT":
        route.fulfill(status=200, json={"name": PurePosixPath(path).name, "path": path, "type": "notebook",
                                        "writable": True, "created": now, "last_modified": now, "content": None,
                                        "format": None, "mimetype": None, "size": None})
    else:
        route.abort()


def _new_context(chromium):
    """A fresh browser profile that reads the course but never writes its files (see _answer_writes)."""
    context = browserlib.new_context(chromium)
    context.route("**/api/contents/**", _answer_writes)
    return context


@pytest.fixture
def page(chromium):
    context = _new_context(chromium)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def home(server, chromium):
    """The course home, opened from the link JupyterLab printed (one page shared by the tests that only read it)."""
    printed = server.printed_url()
    context = _new_context(chromium)
    try:
        home_page = context.new_page()
        # Jupyter prints its token as "..."; a student's own link carries it in full.
        home_page.goto(printed.replace("token=...", f"token={server.token}"))
        home_page.locator(f"{PANEL} .jp-Notebook .jp-Cell").first.wait_for()
        yield printed, home_page
    finally:
        context.close()


@contextlib.contextmanager
def _diagnosed(server: Lab, page, name: str):
    """On a failure: a screenshot of what the browser showed and JupyterLab's log, in the message."""
    from playwright.sync_api import Error as PlaywrightError

    (SCREENSHOTS / f"failed-{name}.png").unlink(missing_ok=True)  # an earlier run's
    try:
        yield
    except (AssertionError, PlaywrightError) as exc:
        try:
            view = f"the browser's view: {paths.shown(screenshot(page, f'failed-{name}.png'))}"
        except PlaywrightError as shot_error:  # a crashed page: the log still says what happened
            view = f"no screenshot: {shot_error}"
        raise AssertionError(f"{exc}\n({view})\n{server.log_tail()}") from exc


def _translations(server: Lab) -> dict[str, str]:
    """msgid (or "context\\x04msgid") -> what JupyterLab shows, from the language pack the server serves."""
    locale = lab.LOCALE[server.lang]
    if locale == "en":
        return {}
    catalog = server.api(f"/lab/api/translations/{locale}")["data"]["jupyterlab"]
    return {key: values[0] for key, values in catalog.items() if isinstance(values, list)}  # "": the catalog's header


def _shown(server: Lab, msgid: str, context: str | None = None) -> str:
    strings = _translations(server)
    if not strings:
        return msgid
    key = f"{context}\x04{msgid}" if context else msgid
    assert key in strings, f"the {server.lang} language pack does not translate {key!r}"
    return strings[key]


def _heading(notebook: str) -> str:
    first = nbformat.read(ROOT / notebook, as_version=4).cells[0].source
    return next(line[2:].strip() for line in first.splitlines() if line.startswith("# "))


def test_the_printed_link_opens_the_course_home(server, home):
    printed, home_page = home
    notebook = paths.course_home_notebook(server.lang)
    assert printed.split("?")[0] == f"{server.base}/lab/tree/{notebook}", printed
    with _diagnosed(server, home_page, f"lab-home-{server.lang}"):
        heading = home_page.locator(f"{PANEL} .jp-RenderedMarkdown h1", has_text=_heading(notebook)).first
        heading.wait_for(state="visible")
        tab = home_page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
        assert tab.text_content() == Path(notebook).name
    screenshot(home_page, f"lab-home-{server.lang}.png")


def test_the_menus_speak_the_course_language(server, home):
    _, home_page = home
    expected = [_shown(server, title, context="menu") for title in MENUS]
    if server.lang != "en":
        assert all(CJK.search(title) for title in expected), f"the language pack's menu titles: {expected}"
    with _diagnosed(server, home_page, f"lab-menus-{server.lang}"):
        home_page.locator(".lm-MenuBar-itemLabel").first.wait_for()
        shown = home_page.locator(".lm-MenuBar-itemLabel").all_text_contents()
    # Extensions add menus of their own (nbgrader's, untranslated): JupyterLab's eight come in their order.
    assert [title for title in shown if title in expected] == expected, shown
    assert SEEN_MENUS[server.lang] <= set(shown), shown


def _scratch_copy(lang: str, name: str, answers: dict[str, str]) -> str:
    """The student release with these answers, under build/browser/LANG/; its path in the served root."""
    folder = SCRATCH / lang
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    partial = path.with_suffix(".tmp")
    nbformat.write(submission(EXERCISE, lang, answers), partial)
    partial.replace(path)  # whole, even if another worker writes the same copy
    return path.relative_to(ROOT).as_posix()


# True once Run All has finished: every code cell ran or was abandoned after an error ("[ ]"), none is queued
# ("[*]") and the kernel is idle. The first cell's prompt leaves "[ ]" as soon as Run All queues it.
RUN_ALL_DONE = """panel => {
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status;
  return prompts.length > 0 && !prompts[0].includes('[ ]') && !prompts.some(t => t.includes('*')) && status === 'idle';
}"""


# True once the notebook's kernel is started and connected. The indicator also says "idle" before any kernel
# exists (the toolbar then reads "No Kernel"), and cells run then are lost when the kernel arrives.
KERNEL_READY = """([panel, kernel]) => {
  const name = panel.querySelector('.jp-Toolbar-kernelName')?.textContent || '';
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status;
  return name.includes(kernel) && status === 'idle';
}"""


def _open_and_run_all(server: Lab, page, notebook: str):
    """Open a notebook in JupyterLab, wait for its kernel, Run → Run All Cells by the menus; the notebook's panel."""
    specs = server.api("/api/kernelspecs")
    kernel = specs["kernelspecs"][specs["default"]]["spec"]["display_name"]  # what the toolbar shows, e.g. Python 3 (ipykernel)
    page.goto(f"{server.base}/lab/tree/{notebook}?reset&token={server.token}")  # reset: no other tab reopened
    panel = page.locator(PANEL)
    panel.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.wait_for_function(KERNEL_READY, arg=[panel.element_handle(), kernel], timeout=WAIT_MS)
    page.get_by_role("menuitem", name=_shown(server, "Run", context="menu"), exact=True).click()
    page.get_by_role("menuitem", name=_shown(server, "Run All Cells"), exact=True).click()
    page.wait_for_function(RUN_ALL_DONE, arg=panel.element_handle(), timeout=WAIT_MS)
    return panel


def _cell(panel, notebook: str, grade_id: str):
    """The browser's view of the cell with this nbgrader grade_id (JupyterLab shows cells in the file's order)."""
    cells = nbformat.read(ROOT / notebook, as_version=4).cells
    index = next(i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return panel.locator(".jp-Notebook .jp-Cell").nth(index)


def _summary(server: Lab, cell, passed: int) -> str:
    """The check-my-work cell's output once Run All is done; it must open with the summary of `passed` tasks."""
    first = CHECK_MY_WORK[server.lang]["summary"].format(passed=passed, total=len(TASKS))
    text = cell.locator(".jp-OutputArea").text_content() or ""
    assert text.startswith(first), (
        f"after Run All Cells the check-my-work cell should open with {first!r}; it shows {text!r}. An empty output "
        "means Run All stopped earlier: JupyterLab stops at the first cell that raises (a failing self-check) unless "
        "that cell is tagged raises-exception.")
    return text


def _task_lines(summary: str) -> dict[str, str]:
    return {m.group(2): m.group(0).strip() for m in re.finditer(r"^\s*([✓✗]) (\w+): .*$", summary, re.M)}


def test_check_my_work_passes_every_task_of_the_reference(server, page):
    lang = server.lang
    words = CHECK_MY_WORK[lang]
    notebook = _scratch_copy(lang, f"{EXERCISE}_reference", reference_answers(EXERCISE, lang))
    try:
        with _diagnosed(server, page, f"exercise-{lang}-reference"):
            panel = _open_and_run_all(server, page, notebook)
            last = _cell(panel, notebook, CHECK_MY_WORK_ID)
            last.locator(".jp-OutputArea").scroll_into_view_if_needed()
            summary = _summary(server, last, passed=len(TASKS))
            assert _task_lines(summary) == {task: f"✓ {task}: {words['passes']}" for task in TASKS}, summary
            assert words["reminder"] in summary
        screenshot(page, f"exercise-{lang}-reference-summary.png")
    finally:
        server.shut_down_kernels(notebook)


def test_check_my_work_names_the_task_a_wrong_answer_fails(server, page):
    lang = server.lang
    words = CHECK_MY_WORK[lang]
    mistake = next((w for w in wrong.load(EXERCISE) if w.name == WRONG), None)
    assert mistake is not None, f"solutions/{EXERCISE}.wrong.yml no longer has {WRONG!r}: pick another one"
    answers = {**reference_answers(EXERCISE, lang), mistake.grade_id: mistake.code}
    notebook = _scratch_copy(lang, f"{EXERCISE}_wrong", answers)
    try:
        with _diagnosed(server, page, f"exercise-{lang}-wrong"):
            panel = _open_and_run_all(server, page, notebook)
            # where the task is, its self-check shows the error
            check = _cell(panel, notebook, task_tests_cell(submission(EXERCISE, lang, {}), mistake.grade_id))
            check.locator(".jp-OutputArea").scroll_into_view_if_needed()
            assert "AssertionError" in (check.locator(".jp-OutputArea").text_content() or "")
            screenshot(page, f"exercise-{lang}-wrong-selfcheck.png")
            last = _cell(panel, notebook, CHECK_MY_WORK_ID)
            last.locator(".jp-OutputArea").scroll_into_view_if_needed()
            summary = _summary(server, last, passed=len(TASKS) - 1)
            lines = _task_lines(summary)
            assert set(lines) == set(TASKS), summary
            failing = lines.pop(mistake.grade_id)
            assert re.fullmatch(rf"✗ {mistake.grade_id}: \S.*", failing), failing
            # the reason is the self-check's own message, in the notebook's language
            assert bool(CJK.search(failing)) == (lang == "zh"), failing
            assert lines == {task: f"✓ {task}: {words['passes']}" for task in lines}, summary
        screenshot(page, f"exercise-{lang}-wrong-summary.png")
    finally:
        server.shut_down_kernels(notebook)
