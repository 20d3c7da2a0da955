"""The learner's pytest loop (loaded by ``exercises/conftest.py``).

- An untouched stub is reported as NOT STARTED in one line, not as a traceback.
- A failed visible check prints its teaching message alone: the call, what came back, what
  was expected, and why.
- A broken module (a syntax error, say) costs its own topic only: the others still run.
- The run ends with one line per topic (visible checks passed, progress), the next thing to
  try, and hints: the first hint of each failing task, or every hint with ``--hints``.
- Points are never claimed from visible checks. Once every visible check of a topic passes, the
  hidden checks grade that topic (the sandboxed grader, on a copy of the learner's module
  alone) and the line shows the points they give; ``--no-hidden`` skips that.
- TensorFlow is imported quietly, once, and only when a topic needs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
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
MAX_HIDDEN_SHOWN = 5


def pytest_addoption(parser):
    parser.addoption("--hints", action="store_true", help="show every hint of the topics run")
    parser.addoption("--no-hidden", action="store_true",
                     help="do not run the hidden checks of topics whose visible checks all pass")


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


def hidden_scores(modules: dict[str, Path]) -> dict[str, dict | str]:
    """Grade topics with the hidden checks: ``{topic folder: topic report, or why it could not}``.

    The grader sees a temporary folder holding only each learner module (never the visible
    tests or anything else of the workspace), and runs the learner's code in its sandbox.
    """
    from autograder.engine import grade

    with tempfile.TemporaryDirectory(prefix="grimoire-hidden-") as scratch:
        for topic, module in modules.items():
            (Path(scratch) / topic).mkdir()
            shutil.copyfile(module, Path(scratch) / topic / module.name)
        try:
            report = grade(Path(scratch), topics=list(modules))
        except Exception as error:  # noqa: BLE001  (the grader broke: say so, claim nothing)
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            return {topic: f"the hidden checks could not run ({reason})" for topic in modules}
    return {topic: report["topics"][module.stem] for topic, module in modules.items()}


def _hidden_line(result: dict | str) -> str:
    if isinstance(result, str):
        return result
    return f"hidden checks: {result['score']:g}/{result['max_score']:g} points"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    topics = sorted(set(_results) | set(_broken))
    if not topics:
        return
    write = terminalreporter.write_line
    next_step, hints, done_topics = None, [], 0
    infos, modules, states = {}, {}, {}
    for topic in topics:
        info = infos[topic] = _topic_info(_folders[topic])
        statuses = [s for runs in _results.get(topic, {}).values() for s in runs]
        module = _folders[topic] / f"{info.get('module', topic[3:])}.py"
        if topic in _broken:
            states[topic] = "broken"
        elif statuses and all(s == "passed" for s in statuses):
            states[topic] = "passed"
            modules[topic] = module
        elif statuses and all(s == "not started" for s in statuses):
            states[topic] = "not started"
        else:
            states[topic] = "in progress"
    hidden = {}
    if modules and not config.getoption("--no-hidden"):
        terminalreporter.write_line("Every visible check of " + ", ".join(modules)
                                    + " passes: running the hidden checks...")
        hidden = hidden_scores({t: m for t, m in modules.items() if m.is_file()})
    terminalreporter.section("TF Grimoire")
    lost = []
    for topic in topics:
        info, state = infos[topic], states[topic]
        tasks = _results.get(topic, {})
        statuses = [s for runs in tasks.values() for s in runs]
        checks = f"{statuses.count('passed')}/{len(statuses)} visible checks pass"
        if state == "broken":
            line, markup = f"cannot be imported: {_broken[topic]}", {"red": True}
        elif state == "passed":
            result = hidden.get(topic)
            if result is None:
                line, markup = f"{checks}  (hidden checks not run)", {"green": True}
                done_topics += 1
            elif isinstance(result, str) or result["score"] < result["max_score"]:
                line, markup = f"{checks}  {_hidden_line(result)}", {"yellow": True}
                if not isinstance(result, str):
                    lost += [(topic, c) for c in result["checks"] if not c["passed"]]
            else:
                line, markup = f"{checks}  {_hidden_line(result)}  done", {"green": True}
                done_topics += 1
        else:
            line, markup = f"{checks}  {state}", {"yellow": True}
        write(f"{topic:28} {line}", **markup)
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
        if state == "broken" and next_step is None:
            next_step = f"fix {module_path} so that Python can import it"
    write(f"{_progress(done_topics, len(topics))} {done_topics}/{len(topics)} topics done", bold=True)
    if lost:
        write("Hidden checks that fail (they try other inputs than the visible ones):")
        for topic, check in lost[:MAX_HIDDEN_SHOWN]:
            write(f"  - {topic} {check['name'].replace('_', ' ')}: {check['message']}")
        if len(lost) > MAX_HIDDEN_SHOWN:
            write(f"  ... and {len(lost) - MAX_HIDDEN_SHOWN} more: `make grade` lists them all")
    if next_step:
        write(f"Next: {next_step}", bold=True)
    elif lost:
        write(f"Next: {lost[0][1]['task']} in {lost[0][0]}: the visible checks pass, a hidden one does not",
              bold=True)
    elif hidden:
        write("Every visible and hidden check passes.", green=True)
    else:
        write("All visible checks pass. The hidden checks grade your work: `make grade`.", green=True)
    if hints:
        write("Hints:" if config.getoption("--hints") else "Hints (all of them: --hints):")
        for hint in hints:
            write(f"  - {hint}")
