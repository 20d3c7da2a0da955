"""Every hidden check can fail: realistic mistakes lose points, correct variants keep them."""

from __future__ import annotations

import pytest

from grimoire.topics import ROOT
from tests.catalog import load
from tests.helpers import (TOPICS, all_checks, failed_checks, patched_source, run_visible_tests,
                           write_submission)

CATALOG = {topic.module: load(topic.module) for topic in TOPICS}
MISTAKES = [(t, m) for t in TOPICS for m in CATALOG[t.module][0]]
VARIANTS = [(t, v) for t in TOPICS for v in CATALOG[t.module][1]]


@pytest.mark.parametrize("topic, mistake", MISTAKES, ids=[f"{t.module}:{m.name}" for t, m in MISTAKES])
def test_each_mistake_loses_the_points_of_the_checks_it_should_fail(topic, mistake, grade, tmp_path):
    """Only the checks a mistake names are run: each of them must fail (and cost its points)."""
    write_submission(tmp_path, {topic.folder: patched_source(topic, mistake.code)})
    report = grade(tmp_path, topics=[topic.folder], checks=list(mistake.kills))
    ran = all_checks(report, topic.module)
    assert ran == set(mistake.kills), f"the catalog names unknown checks: {set(mistake.kills) - ran}"
    passed = ran - failed_checks(report, topic.module)
    assert passed == set(), f"{mistake.name} should fail these checks but passed them"
    assert report["score"] == 0 < report["max_score"]


@pytest.mark.parametrize("topic", TOPICS, ids=[t.module for t in TOPICS])
def test_every_hidden_check_is_failed_by_some_mistake(topic, grade):
    """With the test above, every check is shown to fail on at least one realistic mistake."""
    mistakes = [m for t, m in MISTAKES if t is topic]
    assert len(mistakes) >= 5, f"{topic.module}: the catalog needs at least five realistic mistakes"
    checks = all_checks(grade(ROOT / "solutions", topics=[topic.folder]), topic.module)
    killed = set().union(*(set(m.kills) for m in mistakes))
    assert checks - killed == set(), "no mistake in the catalog fails these checks"


@pytest.mark.parametrize("topic, mistake", MISTAKES, ids=[f"{t.module}:{m.name}" for t, m in MISTAKES])
def test_mistakes_marked_visible_fail_a_visible_test(topic, mistake, tmp_path):
    results = run_visible_tests(topic, patched_source(topic, mistake.code), tmp_path)
    caught = any(results.values())
    assert caught == mistake.visible, (
        f"{mistake.name}: visible tests {'caught' if caught else 'missed'} it; "
        f"the catalog says visible={mistake.visible}")


@pytest.mark.parametrize("topic, variant", VARIANTS, ids=[f"{t.module}:{v.name}" for t, v in VARIANTS])
def test_correct_variants_earn_every_point_and_pass_the_visible_tests(topic, variant, grade, tmp_path):
    source = patched_source(topic, variant.code)
    report = grade(write_submission(tmp_path / "submission", {topic.folder: source}), topics=[topic.folder])
    messages = [c["message"] for c in report["topics"][topic.module]["checks"] if not c["passed"]]
    assert messages == []
    assert not any(run_visible_tests(topic, source, tmp_path).values())
