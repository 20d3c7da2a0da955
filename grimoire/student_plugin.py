"""The learner's pytest loop (loaded by ``exercises/conftest.py``).

- An untouched stub is reported as NOT STARTED in one line, not as a traceback.
- A failed visible check prints its teaching message alone: the call, what came back, what
  was expected, and why.
- A broken module (a syntax error, say) costs its own topic only: the others still run.
- The run ends with one line per topic (checks passed, points, progress), the next thing to
  try, and hints: the first hint of each failing task, or every hint with ``--hints``.
- TensorFlow is imported quietly, once, and only when a topic needs it.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

from grimoire.feedback import is_untouched_stub
from grimoire.quiet import import_keras, quiet_environment
from grimoire.teach import Mismatch, NotStarted

NEEDS_KERAS = re.compile(r"^\s*(import|from)\s+(keras|tensorflow)\b", re.MULTILINE)
_results: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
_broken: dict[str, str] = {}
_folders: dict[str, Path] = {}


def pytest_addoption(parser):
    parser.addoption("--hints", action="store_true", help="show every hint of the topics run")


def pytest_configure(config):
    quiet_environment()
    config.option.continue_on_collection_errors = True
    if config.option.tbstyle == "auto":
        config.option.tbstyle = "short"
    config.addinivalue_line("markers", "task(name): the exercise task a visible test belongs to")


def _topic_dir(path) -> Path:
    return Path(str(path)).parent


def pytest_pycollect_makemodule(module_path, parent):
    """Before a topic's tests import the learner's module, import Keras quietly if it needs it."""
    folder = _topic_dir(module_path)
    sources = " ".join(p.read_text(errors="ignore") for p in folder.glob("*.py"))
    if NEEDS_KERAS.search(sources):
        import_keras()


def pytest_collectreport(report):
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message if crash else str(report.longrepr).strip().splitlines()[-1]
        message = message.removeprefix("E").strip()
        folder = _topic_dir(report.fspath)
        _broken[folder.name] = message
        _folders[folder.name] = folder


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" and not report.failed:
        return
    marker = item.get_closest_marker("task")
    task = marker.args[0] if marker else item.name
    topic = _topic_dir(item.path).name
    _folders[topic] = _topic_dir(item.path)
    if report.when == "call" or report.failed:
        status = "passed" if report.passed else "failed"
        error = call.excinfo.value if call.excinfo else None
        if isinstance(error, NotStarted) or (isinstance(error, NotImplementedError) and is_untouched_stub(error)):
            status = "not started"
            report.not_started = True
            report.longrepr = f"{task}: not started yet (it still raises NotImplementedError)"
        elif isinstance(error, Mismatch):
            report.longrepr = str(error)
        _results[topic][task].append(status)


def pytest_report_teststatus(report, config):
    if getattr(report, "not_started", False):
        return "not started", "N", "NOT STARTED"
    return None


def _topic_info(folder: Path) -> dict:
    try:
        return json.loads((folder / "topic.json").read_text())
    except (OSError, ValueError):
        return {"tasks": []}


def _progress(done: int, total: int, width: int = 10) -> str:
    filled = round(width * done / total) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    topics = sorted(set(_results) | set(_broken))
    if not topics:
        return
    write = terminalreporter.write_line
    terminalreporter.section("TF Grimoire")
    next_step, hints, done_topics = None, [], 0
    for topic in topics:
        info = _topic_info(_folders[topic])
        tasks = _results.get(topic, {})
        statuses = [s for runs in tasks.values() for s in runs]
        passed = statuses.count("passed")
        points = {t["name"]: t["points"] for t in info["tasks"]}
        earned = sum(points.get(name, 0) for name, runs in tasks.items()
                     if runs and all(s == "passed" for s in runs))
        if topic in _broken:
            state, markup = f"cannot be imported: {_broken[topic]}", {"red": True}
        elif statuses and all(s == "passed" for s in statuses):
            state, markup = "done", {"green": True}
            done_topics += 1
        elif statuses and all(s == "not started" for s in statuses):
            state, markup = "not started", {"yellow": True}
        else:
            state, markup = "in progress", {"yellow": True}
        write(f"{topic:28} {passed}/{len(statuses)} checks  {earned}/{sum(points.values())} points  {state}",
              **markup)
        module_path = os.path.relpath(_folders[topic] / f"{info.get('module', topic[3:])}.py")
        for task in info["tasks"]:
            runs = tasks.get(task["name"], [])
            if runs and all(s == "passed" for s in runs):
                continue
            if next_step is None:
                next_step = f"{task['name']} in {module_path}"
            failing = "failed" in runs
            shown = task["hints"] if config.getoption("--hints") else task["hints"][:1] if failing else []
            hints += [f"{task['name']}: {hint}" for hint in shown]
        if topic in _broken and next_step is None:
            next_step = f"fix {module_path} so that Python can import it"
    write(f"{_progress(done_topics, len(topics))} {done_topics}/{len(topics)} topics done", bold=True)
    if next_step:
        write(f"Next: {next_step}", bold=True)
    else:
        write("All visible checks pass. Hidden checks grade your work: `autograder grade exercises`.",
              green=True)
    if hints:
        write("Hints:" if config.getoption("--hints") else "Hints (all of them: --hints):")
        for hint in hints:
            write(f"  - {hint}")
