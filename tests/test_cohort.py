"""`autograder grade-cohort`: a hostile cohort in a real nbgrader course, killed and resumed.

One course (topic 01 only, so it stays fast): each student is one entry of the adversarial
catalog and must earn exactly the points it deserves. The first run is killed as soon as it has
committed a submission; the second finishes the rest; a third has nothing left to do (so an
unreadable or refused submission, recorded once, is not retried). Then nbgrader's own `export`
and `generate_feedback` read what grade-cohort wrote. Links anywhere in a submission (the
notebook, another file, the assignment folder, the student folder) are refused with a message.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grimoire.topics import ROOT
from tests.test_nbgrader_round_trip import nbgrader

TOPIC = "01_parameter_counting"
AUTOGRADER = str(Path(sys.executable).with_name("autograder"))
FULL = 12  # dense 3, conv2d 4, lstm 3, batchnorm 2

DENSE_LOOP = "def dense_params(input_dim, units, use_bias=True):\n    while True:\n        pass\n"
CONV_BOMB = ("def conv2d_params(in_channels, filters, kernel_size, use_bias=True):\n"
             "    return len(bytearray(64 * 1024 ** 3))\n")
DENSE_ZERO = "def dense_params(input_dim, units, use_bias=True):\n    return 0\n"
MONKEYPATCH = """
import builtins, numpy.testing
import autograder.api, autograder.engine, autograder.notebook
numpy.testing.assert_equal = lambda *a, **k: None
autograder.api.expect = lambda *a, **k: None
autograder.api.same_value = lambda *a, **k: True
autograder.engine.grade = lambda *a, **k: {"score": 999}
autograder.notebook.grade_task = lambda *a, **k: 999.0
builtins.print = lambda *a, **k: None
"""
# Patching what the child itself answers with only breaks the child's own answers.
SABOTAGE = "import builtins, autograder.wire\nbuiltins.isinstance = lambda *a: True\nautograder.wire.decode = lambda data: 0\n"
ALWAYS_EQUAL = ("class Always:\n    def __eq__(self, other):\n        return True\n\n"
                "def dense_params(input_dim, units, use_bias=True):\n    return Always()\n")


def _cells(notebook, grade_id):
    return [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]


def _replace(notebook, grade_id, source):
    _cells(notebook, grade_id)[0].source = source
    return notebook


def _insert(notebook, index, source, metadata=None):
    notebook.cells.insert(index, nbformat.v4.new_code_cell(source, metadata=metadata or {}))
    return notebook


def _catalog(course: Path):
    """``{student: (notebook or raw text or None, expected points, extra files)}``."""
    source = nbformat.read(course / "source" / TOPIC / f"{TOPIC}.ipynb", 4)
    release = nbformat.read(course / "release" / TOPIC / f"{TOPIC}.ipynb", 4)
    solved = lambda: nbformat.from_dict(json.loads(json.dumps(source)))  # noqa: E731
    gradebook = course / "gradebook.db"
    writer = (f"import os\n_ = open({str(gradebook)!r}, 'a').write('pwned')\n"
              f"_ = open({str(course / 'autograded' / 'correct' / TOPIC / (TOPIC + '.ipynb'))!r}, 'w').write('x')\n")
    writes_in_function = (
        "def dense_params(input_dim, units, use_bias=True):\n"
        f"    try:\n        open({str(gradebook)!r}, 'w').write('pwned')\n    except OSError:\n        pass\n"
        "    return input_dim * units + (units if use_bias else 0)\n")

    reshaped = solved()
    dense = _cells(reshaped, "dense_params")[0]
    wrong = nbformat.from_dict(json.loads(json.dumps(dense)))
    wrong.source = DENSE_ZERO
    reshaped.cells.insert(reshaped.cells.index(dense), wrong)  # duplicated: the later copy wins
    lstm = _cells(reshaped, "lstm_params")[0]
    lstm.source = "def _gates():\n    return 4\n"  # split: the rest lives in a plain cell below
    reshaped.cells.insert(reshaped.cells.index(lstm) + 1, nbformat.v4.new_code_cell(
        "def lstm_params(input_dim, units, use_bias=True):\n"
        "    return _gates() * (units * (input_dim + units) + (units if use_bias else 0))\n"))
    batchnorm = _cells(reshaped, "batchnorm_params")[0]
    batchnorm.cell_type = "markdown"  # retyped: nbgrader turns it back into code
    del batchnorm["outputs"], batchnorm["execution_count"]
    _replace(reshaped, "setup", "raise SystemExit('setup replaced')")  # locked: taken from the gradebook
    _insert(reshaped, 2, 'print("dense_params: 3/3 points")',  # a forged graded cell
            {"nbgrader": {"grade": True, "grade_id": "forged_graded", "points": 100, "locked": True,
                          "solution": False, "schema_version": 3}})
    _cells(reshaped, "dense_params_visible")[0].source = "assert False"

    deleted = solved()
    deleted.cells.remove(_cells(deleted, "conv2d_params")[0])
    deleted.cells.remove(_cells(deleted, "lstm_params_graded")[0])

    types = solved()
    _replace(types, "dense_params", "import numpy as np\ndef dense_params(input_dim, units, use_bias=True):\n"
             "    return np.float64(input_dim * units + (units if use_bias else 0))\n")
    _replace(types, "lstm_params", "import tensorflow as tf\ndef lstm_params(input_dim, units, use_bias=True):\n"
             "    return tf.constant(4 * (units * (input_dim + units) + (units if use_bias else 0)))\n")
    _replace(types, "batchnorm_params", "def batchnorm_params(features):\n    return [2 * features, 2 * features]\n")

    hostile_files = {"conftest.py": "import os\nos._exit(3)\n", "sitecustomize.py": "import os\nos._exit(3)\n"}
    return {
        "correct": (solved(), FULL, {}),
        "untouched": (release, 0, {}),
        "endless_loop": (_replace(solved(), "dense_params", DENSE_LOOP), FULL - 3, {}),
        "memory_bomb": (_replace(solved(), "conv2d_params", CONV_BOMB), FULL - 4, {}),
        "exit_statements": (_insert(_insert(solved(), 1, "import sys\nsys.exit(0)"), 1, "import os\nos._exit(0)"), FULL, {}),
        "exit_at_import": (_insert(solved(), 1, "import os\n_ = os._exit(0)"), 0, {}),
        "monkeypatch": (_insert(_replace(solved(), "dense_params", DENSE_ZERO), 1, MONKEYPATCH), FULL - 3, {}),
        "sabotage": (_insert(solved(), 1, SABOTAGE), 0, {}),
        "always_equal": (_replace(solved(), "dense_params", ALWAYS_EQUAL), FULL - 3, {}),
        "dropped_files": (solved(), FULL, hostile_files),
        "writes_files": (_insert(_replace(solved(), "dense_params", writes_in_function), 1, writer), FULL, {}),
        "huge_file": (solved(), FULL, {"data.bin": 64 * 1024**2}),
        "symlinked": (None, 0, {f"{TOPIC}.ipynb": course / "source" / TOPIC / f"{TOPIC}.ipynb"}),
        "linked_extra_file": (solved(), 0, {"notes.txt": course / "gradebook.db"}),
        "linked_folder": (LINKED_FOLDER, 0, {}),
        "malformed": ('{"cells": [ this is not json', 0, {}),
        "deep_json": ('{"cells": [], "x": ' + "[" * 100_000 + "]" * 100_000 + "}", 0, {}),
        "reshaped": (reshaped, FULL, {}),
        "deleted": (deleted, FULL - 4, {}),
        "wrong_types": (types, FULL - 3 - 3 - 2, {}),
    }


LINKED_FOLDER = object()  # the assignment folder itself is a link to a classmate's
LINKED_STUDENT = "linked_student"  # submitted/linked_student is a link to a classmate's folder


def _submit(course: Path, student: str, notebook, files: dict) -> None:
    folder = course / "submitted" / student / TOPIC
    if notebook is LINKED_FOLDER:
        folder.parent.mkdir(parents=True)
        folder.symlink_to(course / "submitted" / "correct" / TOPIC)
        return
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text("2026-01-15 09:30:00.000000 UTC")
    if isinstance(notebook, str):
        (folder / f"{TOPIC}.ipynb").write_text(notebook)
    elif notebook is not None:
        nbformat.write(notebook, folder / f"{TOPIC}.ipynb")
    for name, content in files.items():
        if isinstance(content, Path):
            (folder / name).symlink_to(content)
        elif isinstance(content, int):
            with open(folder / name, "wb") as handle:
                handle.truncate(content)
        else:
            (folder / name).write_text(content)


def _committed(course: Path) -> int:
    try:
        with sqlite3.connect(course / "gradebook.db", timeout=1) as db:
            return db.execute("select count(*) from submitted_assignment").fetchone()[0]
    except sqlite3.Error:
        return 0


def isolation_flags() -> list[str]:
    """``--allow-weak-isolation`` only where this machine cannot isolate fully (grade-cohort refuses)."""
    from autograder.cohort_worker import isolation

    return [] if isolation().get("level") == "full" else ["--allow-weak-isolation"]


def _grade_cohort(course: Path, *extra: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([AUTOGRADER, "grade-cohort", str(course), "--no-progress", "--timeout", "2",
                             "--time-limit", "90", "--workers", "1", "--seed", "7", *isolation_flags(), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, **kwargs)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    course = tmp_path_factory.mktemp("cohort")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source" / TOPIC, course / "source" / TOPIC)
    nbgrader(course, "generate_assignment", TOPIC, "--force")
    catalog = _catalog(course)
    for student, (notebook, _, files) in sorted(catalog.items(), key=lambda item: item[0] != "correct"):
        _submit(course, student, notebook, files)
    (course / "submitted" / LINKED_STUDENT).symlink_to(course / "submitted" / "correct")
    checksum = (course / "source" / TOPIC / f"{TOPIC}.ipynb").read_bytes()

    first = _grade_cohort(course)  # killed as soon as it has committed one submission
    deadline = time.monotonic() + 300
    while _committed(course) == 0 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    killed_after = _committed(course)

    started = time.monotonic()
    second = _grade_cohort(course, "--json", str(course / "summary.json"))
    second_output = second.communicate(timeout=600)[0]
    second_seconds = time.monotonic() - started
    third = _grade_cohort(course)
    third_output = third.communicate(timeout=300)[0]
    nbgrader(course, "export", "--to", "grades.csv")
    return {"course": course, "catalog": catalog, "killed_after": killed_after, "second": (second.returncode, second_output),
            "second_seconds": second_seconds, "summary": json.loads((course / "summary.json").read_text()),
            "third": third_output, "source_untouched": checksum == (course / "source" / TOPIC / f"{TOPIC}.ipynb").read_bytes()}


def _export(course: Path) -> dict[str, float]:
    with open(course / "grades.csv") as handle:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}


def test_a_killed_run_resumes_without_losing_or_duplicating_a_grade(cohort):
    course, catalog = cohort["course"], cohort["catalog"]
    assert 1 <= cohort["killed_after"] < len(catalog)
    returncode, output = cohort["second"]
    assert returncode == 0, output
    assert f"already done {cohort['killed_after']}" in output
    assert f"graded {len(catalog) - cohort['killed_after']}," in output
    assert f"graded 0, already done {len(catalog)}" in cohort["third"]
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute("select student_id, count(*) from submitted_assignment group by student_id").fetchall()
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert db.execute("select count(*) from grade where auto_score is null").fetchone()[0] == 0
        assert db.execute("select count(*) from grade where needs_manual_grade").fetchone()[0] == 0
    assert sorted(rows) == sorted((student, 1) for student in catalog)


@pytest.mark.parametrize("student", [
    "correct", "untouched", "endless_loop", "memory_bomb", "exit_statements", "exit_at_import",
    "monkeypatch", "sabotage", "always_equal", "dropped_files", "writes_files", "huge_file", "symlinked",
    "linked_extra_file", "linked_folder", "malformed", "deep_json", "reshaped", "deleted", "wrong_types"])
def test_every_submission_earns_exactly_what_it_deserves(cohort, student):
    assert _export(cohort["course"])[student] == cohort["catalog"][student][1]


def test_links_and_unreadable_notebooks_are_refused_recorded_and_not_retried(cohort):
    course, summary = cohort["course"], cohort["summary"]
    returncode, output = cohort["second"]
    assert cohort["second_seconds"] < 600  # the run finished within its limit
    assert summary["isolation"]["level"] in ("full", "partial", "none") and "isolation: " in output
    # the linked student folder: refused by name, never followed, nothing in the gradebook for it
    assert any(f"/{LINKED_STUDENT}:" in line and "symbolic link" in line for line in summary["refused"])
    assert LINKED_STUDENT not in _export(course)
    for student, words in {"deep_json": "could not be read", "malformed": "could not be read",
                           "symlinked": "symbolic link", "linked_extra_file": "symbolic link",
                           "linked_folder": "symbolic link"}.items():
        notebook = (course / "autograded" / student / TOPIC / f"{TOPIC}.ipynb").read_text()
        assert words in notebook, (student, notebook[:500])
    # recorded once: the third run has nothing left, the unreadable ones included
    assert f"graded 0, already done {len(cohort['catalog'])}" in cohort["third"]
    # classmates unchanged: the student whose folder the links point to keeps exactly full marks
    assert _export(course)["correct"] == FULL


def test_nothing_outside_a_sandbox_was_written(cohort):
    course = cohort["course"]
    assert cohort["source_untouched"]
    assert b"pwned" not in (course / "gradebook.db").read_bytes()
    graded = nbformat.read(course / "autograded" / "correct" / TOPIC / f"{TOPIC}.ipynb", 4)
    assert any(c.get("outputs") for c in graded.cells)


def test_nbgrader_feedback_shows_each_check_and_no_hidden_assertion(cohort):
    course = cohort["course"]
    nbgrader(course, "generate_feedback", TOPIC, "--student", "endless_loop")
    nbgrader(course, "generate_feedback", TOPIC, "--student", "malformed")
    html = (course / "feedback" / "endless_loop" / TOPIC / f"{TOPIC}.html").read_text()
    assert "did not finish within" in html and "conv2d params matches keras" in html
    assert "Score: 9.0 / 12.0" in html or "9.0" in html
    checks = (ROOT / "autograder" / "checks" / f"test_{TOPIC}.py").read_text()
    markers = [m for m in ("expect(submission", "expect_count(submission", "def test_", "keras_count") if m in checks]
    assert len(markers) >= 2
    for marker in markers:
        assert marker not in html
    malformed = (course / "feedback" / "malformed" / TOPIC / f"{TOPIC}.html").read_text()
    assert "not valid notebook JSON" in malformed


def test_a_folder_of_module_submissions_grades_into_the_course(cohort, tmp_path):
    from autograder.cohort import grade_cohort

    course = cohort["course"]
    solution = (ROOT / "solutions" / TOPIC / "parameter_counting.py").read_text()
    for student, source in {"file_correct": solution, "file_broken": "import os\nos._exit(0)\n"}.items():
        (tmp_path / student / TOPIC).mkdir(parents=True)
        (tmp_path / student / TOPIC / "parameter_counting.py").write_text(source)
    summary = grade_cohort(tmp_path, course=course, workers=1, call_timeout=2, seed=3, progress=False)
    assert (summary.graded, summary.failed, summary.timed_out) == (2, [], [])
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "tf-grimoire") as gb:
        assert gb.find_submission(TOPIC, "file_correct").score == FULL
        assert gb.find_submission(TOPIC, "file_broken").score == 0

