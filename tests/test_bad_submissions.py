"""Bad input costs the points of the checks it touches, nothing else, and says why."""

from __future__ import annotations

import pytest

from autograder.engine import grade
from grimoire.topics import ROOT
from tests.helpers import TOPICS, patched_source, solution_source, write_submission

TOPIC = TOPICS[0]  # 01_parameter_counting
# A neighbour that must stay fully graded (the next topic: cheap, pure Python).
NEIGHBOURS = TOPICS[1:2]
GRADED = [t.folder for t in [TOPIC, *NEIGHBOURS]]
DENSE_CHECKS = {"dense_params_matches_keras_with_bias", "dense_params_matches_keras_without_bias"}

CASES = {
    "an exception": ("def dense_params(input_dim, units, use_bias=True):\n    return {}[input_dim]\n",
                     DENSE_CHECKS, "raised KeyError"),
    "a missing function": ("del dense_params\n", DENSE_CHECKS, "has no function or class named 'dense_params'"),
    "a float for an int": ("def dense_params(input_dim, units, use_bias=True):\n"
                           "    return float(input_dim * units + units * use_bias)\n",
                           DENSE_CHECKS, "(a float)"),
    "an object equal to everything": (
        "class Always:\n    def __eq__(self, other):\n        return True\n\n"
        "def dense_params(input_dim, units, use_bias=True):\n    return Always()\n",
        DENSE_CHECKS, "Always"),
    "an endless loop": ("def dense_params(input_dim, units, use_bias=True):\n    while True:\n        pass\n",
                        DENSE_CHECKS, "did not finish within"),
    "os._exit in a call": ("import os\n\ndef dense_params(input_dim, units, use_bias=True):\n    os._exit(0)\n",
                           DENSE_CHECKS, "ended the Python process"),
    "a memory bomb": ("def dense_params(input_dim, units, use_bias=True):\n"
                      "    return len(bytearray(64 * 1024 ** 3))\n", DENSE_CHECKS, "MemoryError"),
}
WHOLE_TOPIC_CASES = {
    "sys.exit at import": ("import sys\nsys.exit(0)\n", "sys.exit(0) was called"),
    "os._exit at import": ("import os\nos._exit(0)\n", "ended the Python process"),
    "a syntax error": ("def broken(:\n", "SyntaxError"),
}


def others_full(report):
    return all(t["score"] == t["max_score"] for m, t in report["topics"].items() if m != TOPIC.module)


def build(tmp_path, source):
    sources = {t.folder: solution_source(t) for t in NEIGHBOURS}
    sources[TOPIC.folder] = source
    return write_submission(tmp_path, sources)


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_function_loses_its_own_checks_only(case, tmp_path):
    code, failing, message = CASES[case]
    report = grade(build(tmp_path, patched_source(TOPIC, code)), topics=GRADED, seed=1, timeout=2)
    checks = report["topics"][TOPIC.module]["checks"]
    assert {c["name"] for c in checks if not c["passed"]} == failing
    assert all(message in c["message"] for c in checks if not c["passed"]), checks
    assert others_full(report)


@pytest.mark.parametrize("case", list(WHOLE_TOPIC_CASES))
def test_a_module_that_cannot_load_loses_its_topic_only(case, tmp_path):
    code, message = WHOLE_TOPIC_CASES[case]
    report = grade(build(tmp_path, code + solution_source(TOPIC)), topics=GRADED, seed=1, timeout=5)
    topic = report["topics"][TOPIC.module]
    assert topic["score"] == 0 and all(message in c["message"] for c in topic["checks"])
    assert others_full(report)


def test_files_beside_the_module_never_reach_the_sandbox(tmp_path):
    """A conftest.py or sitecustomize.py dropped beside the code is not copied, so never runs."""
    root = build(tmp_path, solution_source(TOPIC))
    for name in ("conftest.py", "sitecustomize.py"):
        (root / TOPIC.folder / name).write_text("import os\nos._exit(3)\n")
    report = grade(root, topics=[TOPIC.folder], seed=1)
    assert report["score"] == report["max_score"]


def test_a_symlinked_module_is_refused_with_a_message(tmp_path):
    (tmp_path / TOPIC.folder).mkdir()
    (tmp_path / TOPIC.folder / f"{TOPIC.module}.py").symlink_to(ROOT / "solutions" / TOPIC.folder / f"{TOPIC.module}.py")
    report = grade(tmp_path, topics=[TOPIC.folder], seed=1)
    assert report["score"] == 0
    assert "symbolic link" in report["topics"][TOPIC.module]["checks"][0]["message"]


@pytest.mark.skipif(__import__("autograder.isolation").isolation.landlock_abi() < 1,
                    reason="this kernel has no Landlock; writes are not confined")
def test_a_submission_cannot_write_outside_its_own_folder(tmp_path):
    target = tmp_path / "gradebook.db"
    code = ("def dense_params(input_dim, units, use_bias=True):\n"
            "    try:\n"
            f"        open({str(target)!r}, 'w').write('forged')\n"
            "    except OSError:\n"
            "        pass\n"
            "    return input_dim * units + (units if use_bias else 0)\n")
    report = grade(build(tmp_path / "submission", patched_source(TOPIC, code)), topics=[TOPIC.folder], seed=1)
    assert not target.exists()
    assert report["score"] == report["max_score"]


def test_a_check_that_breaks_costs_that_check_only_and_is_reported(tmp_path, monkeypatch):
    import autograder.checks.test_01_parameter_counting as checks

    class BrokenLayers:
        def __getattr__(self, name):
            raise TypeError("a bug in a check")

    root = build(tmp_path, solution_source(TOPIC))
    monkeypatch.setattr(checks, "layers", BrokenLayers())  # the oracle breaks, not the submission
    report = grade(root, topics=GRADED, seed=1)
    assert report["topics"][TOPIC.module]["score"] == 0
    assert all("the grader itself failed" in c["message"] for c in report["topics"][TOPIC.module]["checks"])
    assert report["grader_faults"] and others_full(report)
