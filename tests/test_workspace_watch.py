"""`make watch`: the visible checks of the topic being edited, again on every save."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from watchfiles import Change

from grimoire.generate import generate_exercises
from grimoire.topics import ROOT, load_topic
from grimoire.watch import latest_topic, topics_changed

TOPIC = load_topic(ROOT / "solutions" / "01_parameter_counting")


def test_a_save_names_its_topic_and_nothing_else_does(tmp_path):
    exercises = tmp_path / "exercises"
    changes = {
        (Change.modified, str(exercises / "02_conv_shapes" / "conv_shapes.py")),
        (Change.modified, str(exercises / "01_parameter_counting" / "parameter_counting.py")),
        (Change.added, str(exercises / "01_parameter_counting" / "__pycache__" / "x.cpython-311.pyc")),
        (Change.modified, str(exercises / "01_parameter_counting" / "parameter_counting.py.saved-1")),
        (Change.modified, str(exercises / "conftest.py")),
        (Change.modified, str(tmp_path / "elsewhere" / "01_parameter_counting" / "x.py")),
    }
    assert topics_changed(changes, exercises) == ["01_parameter_counting", "02_conv_shapes"]


def test_watch_starts_where_the_learner_worked_last(tmp_path):
    exercises = generate_exercises(tmp_path, ROOT, [TOPIC, load_topic(ROOT / "solutions" / "02_conv_shapes")])
    module = exercises / TOPIC.folder / f"{TOPIC.module}.py"
    later = time.time() + 60
    import os

    os.utime(module, (later, later))
    assert latest_topic(exercises) == TOPIC.folder


def _lines(stream, into: queue.Queue):
    for line in stream:
        into.put(line)


def _until(lines: queue.Queue, marker: str, seen: list[str], timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    block = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        block.append(line)
        seen.append(line)
        if marker in line:
            return "".join(block)
    raise AssertionError(f"no {marker!r} within {timeout} s:\n{''.join(seen)[-3000:]}")


def test_saving_a_file_runs_its_checks_again_and_shows_the_summary(tmp_path):
    exercises = generate_exercises(tmp_path, ROOT, [TOPIC])
    watcher = subprocess.Popen(
        [sys.executable, "-m", "grimoire.watch", TOPIC.folder, "--exercises", str(exercises),
         "--no-hidden", "-p", "no:randomly"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, seen = queue.Queue(), []
    threading.Thread(target=_lines, args=(watcher.stdout, lines), daemon=True).start()
    try:
        first = _until(lines, "Watching", seen)
        assert "0/" in first and "not started" in first
        module = exercises / TOPIC.folder / f"{TOPIC.module}.py"
        module.write_text((ROOT / "solutions" / TOPIC.folder / f"{TOPIC.module}.py").read_text())
        second = _until(lines, "Watching", seen)
        assert f"Checking {TOPIC.folder}" in second and "All visible checks pass" in second
    finally:
        watcher.send_signal(signal.SIGINT)
        try:
            watcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            watcher.kill()
