"""The notebook path in a real browser: JupyterLab + headless Chromium, as a learner uses it.

A copy of a release notebook is opened in JupyterLab (127.0.0.1, a token, a free port); the
test runs the untouched notebook and sees the visible check's "not started" line, types a
wrong answer and sees the one-line mismatch (call, result, expectation, concept), then types
the reference solution into every answer cell, runs all cells and sees every task's visible
checks pass.

Needs the system's Chromium (Debian: ``apt-get install chromium``) and Python ``playwright``;
no browser is ever downloaded. ``.ci/run`` installs Chromium, so in CI (``CI`` set) a missing
piece fails the test; on a learner's machine without Chromium it is skipped, saying why.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from grimoire.feedback import NOT_STARTED
from grimoire.topics import ROOT
from tests.browser_helpers import find_chromium, jupyter_lab, leftover_processes

TOPIC = "01_parameter_counting"  # pure Python: the kernel starts in a second
NOTEBOOK = f"{TOPIC}/{TOPIC}.ipynb"
# A realistic first attempt at the first task (Dense without its biases), and what its first
# visible check must say: the call, the result, the expectation (then the concept).
FIRST = "dense_params"
WRONG_ANSWER = "def dense_params(input_dim, units, use_bias=True):\n    return input_dim * units\n"
WRONG_LINE = "dense_params(784, 10) returned 7840; expected 7850"

IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


def _browser_or_skip() -> tuple[object, str]:
    """(playwright's sync_playwright, chromium path); in CI a missing piece fails, else skips."""
    problems = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        problems.append("Python package `playwright` (pip install playwright; no `playwright install` needed)")
    chromium = find_chromium()
    if chromium is None:
        problems.append("the system Chromium (Debian/Ubuntu: apt-get install chromium; or set GRIMOIRE_CHROMIUM)")
    if problems:
        message = "the browser test needs " + " and ".join(problems)
        if IN_CI:
            pytest.fail(message + " (CI is set: .ci/run installs them)", pytrace=False)
        pytest.skip(message)
    return sync_playwright, chromium


def _cells(path: Path) -> dict[str, int]:
    """grade_id -> index of the cell in the notebook (the page shows the cells in this order)."""
    notebook = nbformat.read(path, as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: index for index, cell in enumerate(notebook.cells)
            if "nbgrader" in cell.metadata}


def _reference_answers() -> dict[str, str]:
    """grade_id -> the instructor notebook's solution cell, for every answer cell."""
    notebook = nbformat.read(ROOT / "source" / NOTEBOOK, as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("solution")}


def _first_concept(notebook, task: str) -> str:
    """The concept of the first visible check of ``task``, as its check cell writes it."""
    source = next(c.source for c in notebook.cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == f"{task}_visible")
    return re.search(r'concept="([^"]+)"', source).group(1)


@pytest.fixture
def course(tmp_path):
    """A temporary copy of the release notebooks (the learner's saves must not touch release/)."""
    root = tmp_path / "course"
    shutil.copytree(ROOT / "release" / TOPIC, root / TOPIC)
    return root


def test_a_learner_in_jupyterlab_sees_the_one_line_feedback_and_then_passing_checks(course, tmp_path):
    sync_playwright, chromium = _browser_or_skip()
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)

    release = nbformat.read(course / NOTEBOOK, as_version=4)
    cells = _cells(course / NOTEBOOK)
    answers = _reference_answers()
    tasks = [grade_id for grade_id in answers if f"{grade_id}_visible" in cells]
    assert FIRST in tasks and set(answers) <= set(cells), f"release and source notebooks disagree: {sorted(answers)}"
    seen: dict[str, str] = {}  # what the learner saw, for the failure messages

    state = tmp_path / "jupyter-state"
    with jupyter_lab(course, state) as lab, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(lab.notebook_url(NOTEBOOK), wait_until="commit")  # the waits below say when it is ready
            panel = page.locator(".jp-NotebookPanel").filter(has=page.locator(".jp-Notebook"))
            expect(panel).to_be_visible(timeout=60_000)
            expect(panel.locator(".jp-Notebook .jp-Cell")).to_have_count(len(release.cells))
            # The kernel is up when the status bar names it idle (the toolbar's indicator says
            # "idle" before any kernel exists, and a cell run then is silently dropped).
            kernel = release.metadata.kernelspec.display_name
            expect(page.get_by_role("button", name=f"{kernel} | Idle", exact=True)).to_be_visible(timeout=60_000)

            def cell(grade_id):
                return panel.locator(".jp-Notebook .jp-Cell").nth(cells[grade_id])

            def output(grade_id):
                return cell(grade_id).locator(".jp-OutputArea")

            def run_all():
                page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
                page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()

            def run(grade_id):
                cell(grade_id).locator(".jp-InputPrompt").click()
                page.keyboard.press("ControlOrMeta+Enter")

            def type_into(grade_id, code):
                editor = cell(grade_id).locator(".cm-content")
                editor.click()
                page.keyboard.press("ControlOrMeta+a")
                page.keyboard.insert_text(code)  # as typed, without the editor's auto-indent
                expect(editor).to_contain_text(code.strip().splitlines()[-1].strip())

            # 1. The untouched notebook: the first visible check says the task is not started.
            run_all()
            not_started = NOT_STARTED.format(name=FIRST)
            expect(output(f"{FIRST}_visible")).to_contain_text(not_started)
            seen["untouched"] = output(f"{FIRST}_visible").inner_text()

            # 2. A wrong answer: the check's line names the call, the result, the expectation
            #    and the concept.
            type_into(FIRST, WRONG_ANSWER)
            run(FIRST)
            run(f"{FIRST}_visible")
            expect(output(f"{FIRST}_visible")).to_contain_text(WRONG_LINE)
            seen["wrong"] = output(f"{FIRST}_visible").inner_text()
            assert _first_concept(release, FIRST) in seen["wrong"], seen["wrong"]

            # 3. The reference solution in every answer cell: every task's visible checks pass.
            for task in tasks:
                type_into(task, answers[task])
            run_all()
            for task in tasks:
                expect(output(f"{task}_visible")).to_contain_text(f"{task}: the visible checks pass")
            seen["solved"] = "\n".join(output(f"{t}_visible").inner_text() for t in tasks)
            expect(panel.locator(ERROR_OUTPUT)).to_have_count(0)
            assert not_started not in seen["solved"] and "Error" not in seen["solved"], seen["solved"]
        finally:
            browser.close()
        for name, text in seen.items():
            print(f"--- {name} ---\n{text}")
    assert leftover_processes(state) == [], "JupyterLab or a kernel outlived the test"
