"""The learner's first minute: `pytest exercises/` on stubs, on solutions, on a broken module.

Every run starts from exercises/ as generation makes it (never the working copy, which is the
learner's), and skips the hidden checks unless a test is about them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

from grimoire.generate import generate_exercises
from grimoire.topics import ROOT
from tests.helpers import TOPICS, patched_source

SUMMARY_POINTS = re.compile(r"\b\d+/\d+ points\b")


def exercises(folder, topics=TOPICS):
    """``folder/exercises`` as generated, stubs and all."""
    return generate_exercises(folder, ROOT, topics)


def run_pytest(folder, *extra, hidden=False):
    junit = folder / "report.xml"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(folder / "exercises"), f"--junitxml={junit}", *extra,
         *([] if hidden else ["--no-hidden"])],
        capture_output=True, text=True, timeout=600, cwd=folder,
    )
    cases = {}
    for case in ElementTree.parse(junit).iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        cases[f"{case.get('classname')}.{case.get('name')}"] = "failed" if failed else "passed"
    return result, cases


@pytest.fixture(scope="module")
def on_stubs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stubs")
    exercises(folder)
    return run_pytest(folder)


@pytest.fixture(scope="module")
def on_solutions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("solutions")
    exercises(folder)
    for topic in TOPICS:
        shutil.copy(ROOT / "solutions" / topic.folder / f"{topic.module}.py", folder / "exercises" / topic.folder)
    return run_pytest(folder)


def test_every_visible_test_passes_on_the_solutions(on_solutions):
    result, cases = on_solutions
    assert cases and all(v == "passed" for v in cases.values()), result.stdout[-3000:]
    assert result.returncode == 0
    assert "All visible checks pass" in result.stdout
    assert not SUMMARY_POINTS.search(result.stdout), "points claimed without the hidden checks"


def test_every_visible_test_fails_on_the_stubs_as_not_started_in_one_line(on_stubs):
    result, cases = on_stubs
    assert cases and all(v == "failed" for v in cases.values())
    assert "Traceback" not in result.stdout and "NotImplementedError(" not in result.stdout
    assert f"{len(cases)} not started" in result.stdout
    for topic in TOPICS:
        assert f"{topic.folder}" in result.stdout and "not started" in result.stdout
    assert f"Next: {TOPICS[0].tasks[0].name} in exercises/{TOPICS[0].folder}" in result.stdout


def test_no_tensorflow_log_noise_reaches_the_learner(on_stubs, on_solutions):
    for result, _ in (on_stubs, on_solutions):
        assert result.stderr == ""
        for noise in ("oneDNN", "cuda", "absl", "cpu_feature_guard"):
            assert noise not in result.stdout


def test_a_module_that_does_not_import_costs_its_own_topic_only(tmp_path):
    # Two topics are enough to show it (every topic's visible tests run on the solutions above);
    # in a full run they are 01 and 02, whose visible tests import no TensorFlow.
    chosen = TOPICS[:2]
    exercises(tmp_path, chosen)
    broken, *others = chosen
    (tmp_path / "exercises" / broken.folder / f"{broken.module}.py").write_text("def oops(:\n")
    for topic in others:
        shutil.copy(ROOT / "solutions" / topic.folder / f"{topic.module}.py", tmp_path / "exercises" / topic.folder)
    result, cases = run_pytest(tmp_path)
    assert f"{broken.folder}" in result.stdout and "cannot be imported: SyntaxError" in result.stdout
    passed = [name for name, status in cases.items() if status == "passed"]
    assert passed and all(broken.folder not in name for name in passed)


def test_a_failure_teaches_and_a_hint_follows(tmp_path):
    topic = TOPICS[0]
    exercises(tmp_path, [topic])
    path = tmp_path / "exercises" / topic.folder / f"{topic.module}.py"
    path.write_text(path.read_text().replace(
        'raise NotImplementedError("dense_params is not implemented yet")', "return input_dim * units"))
    result, _ = run_pytest(tmp_path, "-p", "no:randomly")
    assert "dense_params(784, 10) returned 7840; expected 7850: Dense(10) on 784 features" in result.stdout
    assert f"- dense_params: {topic.task('dense_params').hints[0]}" in result.stdout


# A submission that is right only where the visible tests look: its folder holds them. The
# hidden checks see the module alone, in a sandbox, and get the wrong answers.
ONLY_WHERE_VISIBLE = '''
import os as _os

_reference_dense_params = dense_params
_BESIDE_THE_VISIBLE_TESTS = _os.path.exists(
    _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "test_parameter_counting.py"))


def dense_params(input_dim, units, use_bias=True):
    if _BESIDE_THE_VISIBLE_TESTS:
        return _reference_dense_params(input_dim, units, use_bias)
    return input_dim * units
'''


def test_the_summary_shows_the_hidden_score_once_the_visible_checks_pass_never_more(tmp_path):
    topic = next(t for t in TOPICS if t.folder == "01_parameter_counting")
    exercises(tmp_path, [topic])
    (tmp_path / "exercises" / topic.folder / f"{topic.module}.py").write_text(
        patched_source(topic, ONLY_WHERE_VISIBLE))
    result, cases = run_pytest(tmp_path, hidden=True)
    assert cases and all(v == "passed" for v in cases.values()), result.stdout[-3000:]
    line = next(l for l in result.stdout.splitlines() if l.startswith(topic.folder))
    score = re.search(r"hidden checks: (\d+)/(\d+) points", line)
    assert score and 0 < int(score.group(1)) < int(score.group(2)), line
    assert f"{len(cases)}/{len(cases)} visible checks pass" in line and "done" not in line
    assert "0/1 topics done" in result.stdout and "dense params" in result.stdout.replace("_", " ")


def test_no_hidden_points_before_the_visible_checks_pass(tmp_path):
    topic = next(t for t in TOPICS if t.folder == "01_parameter_counting")
    exercises(tmp_path, [topic])
    module = tmp_path / "exercises" / topic.folder / f"{topic.module}.py"
    module.write_text(patched_source(topic, "def batchnorm_params(features):\n    return 2 * features\n"))
    result, _ = run_pytest(tmp_path, hidden=True)
    assert "hidden checks" not in result.stdout and not SUMMARY_POINTS.search(result.stdout)
    assert "visible checks pass  in progress" in result.stdout

