"""The grader on the kit's own extremes: the solutions earn every point, the stubs none."""

from __future__ import annotations

import json
import subprocess
import sys

from autograder.engine import CHECKS_DIR
from grimoire.authoring import hidden_checks
from grimoire.topics import ROOT
from tests.helpers import TOPICS, stub_source, write_submission


def test_the_solutions_earn_every_point(grade):
    report = grade(ROOT / "solutions", topics=[t.folder for t in TOPICS])
    failures = [f"{c['name']}: {c['message']}" for t in report["topics"].values() for c in t["checks"]
                if not c["passed"]]
    assert failures == []
    assert report["score"] == report["max_score"] > 0
    assert set(report["topics"]) == {topic.module for topic in TOPICS}
    for topic in TOPICS:  # the catalog reads the checks from their decorators: the same list
        declared = hidden_checks(CHECKS_DIR / f"test_{topic.folder}.py")
        graded = {c["name"]: {"task": c["task"], "points": c["max_points"]}
                  for c in report["topics"][topic.module]["checks"]}
        assert graded == declared


def test_untouched_stubs_earn_nothing_and_say_not_started(grade, tmp_path):
    """Stubs as generation makes them (never the learner's working copy of exercises/)."""
    report = grade(write_submission(tmp_path, {t.folder: stub_source(t) for t in TOPICS}),
                   topics=[t.folder for t in TOPICS])
    assert report["score"] == 0
    for topic in report["topics"].values():
        for check in topic["checks"]:
            assert "not started" in check["message"], check


def test_a_missing_module_costs_its_topic_only(grade, tmp_path):
    first, *others = TOPICS[:2]  # one topic missing, the next still graded in full
    write_submission(tmp_path, {t.folder: (ROOT / "solutions" / t.folder / f"{t.module}.py").read_text()
                                for t in others})
    report = grade(tmp_path, topics=[t.folder for t in TOPICS[:2]])
    assert report["topics"][first.module]["score"] == 0
    assert "was not submitted" in report["topics"][first.module]["checks"][0]["message"]
    for topic in others:
        assert report["topics"][topic.module]["score"] == report["topics"][topic.module]["max_score"]


def test_the_command_line_writes_the_json_report_and_exits_zero(tmp_path):
    write_submission(tmp_path / "sub", {t.folder: stub_source(t) for t in TOPICS})
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(tmp_path / "sub"), "--json",
         str(tmp_path / "grade.json"), "--seed", "3", "--topic", TOPICS[0].module],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no TensorFlow log noise
    report = json.loads((tmp_path / "grade.json").read_text())
    assert set(report) >= {"score", "max_score", "topics"}
    topic = report["topics"][TOPICS[0].module]
    assert set(topic) >= {"score", "max_score", "checks"}
    assert set(topic["checks"][0]) >= {"name", "passed", "points", "max_points", "message"}
    assert f"Total: 0/{report['max_score']}" in result.stdout


def test_the_command_line_fails_only_when_the_grader_cannot_run(tmp_path):
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "nowhere")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "is not a folder" in result.stderr
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path), "--topic", "99_nothing"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "no hidden checks for 99_nothing" in result.stderr


def test_a_check_that_reads_a_shared_scenario_runs_once_per_seed():
    """Shared scenarios (one fit several checks read) are made per seed: the catalog's every-seed
    rule reaches the checks that read them."""
    from autograder.engine import _run

    checks = ["keep_best_restores_the_best_epochs_weights_when_training_ends",
              "keep_best_in_mode_max_keeps_the_highest_value"]
    collector = _run(ROOT / "solutions", ["15_callbacks"], 1, None, None, checks, seeds=[1, 2])
    ran = {key.split("::")[-1] for key in collector.checks}
    assert ran == {f"test_{name}[seed{seed}]" for name in checks for seed in (1, 2)}
    assert all(entry["passed"] for entry in collector.checks.values())
