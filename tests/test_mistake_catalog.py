"""Every hidden check can fail: realistic mistakes lose points, correct variants keep them."""

from __future__ import annotations

import pytest

from tests.catalog import load
from tests.helpers import (TOPICS, all_checks, failed_checks, patched_source, run_visible_tests,
                           write_submission)

CATALOG = {topic.module: load(topic.module) for topic in TOPICS}
MISTAKES = [(t, m) for t in TOPICS for m in CATALOG[t.module][0]]
VARIANTS = [(t, v) for t in TOPICS for v in CATALOG[t.module][1]]


@pytest.fixture(scope="module")
def mistake_reports(grade, tmp_path_factory):
    """Grade every mistake once: one submission folder per mistake, one topic each."""
    reports = {}
    for topic, mistake in MISTAKES:
        root = tmp_path_factory.mktemp(mistake.name)
        write_submission(root, {topic.folder: patched_source(topic, mistake.code)})
        reports[mistake.name] = grade(root, topics=[topic.folder])
    return reports


@pytest.mark.parametrize("topic, mistake", MISTAKES, ids=[m.name for _, m in MISTAKES])
def test_each_mistake_loses_the_points_of_the_checks_it_should_fail(topic, mistake, mistake_reports):
    report = mistake_reports[mistake.name]
    failed = failed_checks(report, topic.module)
    assert set(mistake.kills) <= all_checks(report, topic.module), "the catalog names unknown checks"
    assert set(mistake.kills) <= failed, f"expected {mistake.kills} to fail, failed: {sorted(failed)}"
    assert report["score"] < report["max_score"]


@pytest.mark.parametrize("topic", TOPICS, ids=[t.module for t in TOPICS])
def test_every_hidden_check_is_failed_by_some_mistake(topic, mistake_reports):
    mistakes = [m for t, m in MISTAKES if t is topic]
    assert len(mistakes) >= 5, f"{topic.module}: the catalog needs at least five realistic mistakes"
    checks = all_checks(mistake_reports[mistakes[0].name], topic.module)
    killed = set().union(*(failed_checks(mistake_reports[m.name], topic.module) for m in mistakes))
    assert checks - killed == set(), "no mistake in the catalog fails these checks"


@pytest.mark.parametrize("topic, mistake", MISTAKES, ids=[m.name for _, m in MISTAKES])
def test_mistakes_marked_visible_fail_a_visible_test(topic, mistake, tmp_path):
    results = run_visible_tests(topic, patched_source(topic, mistake.code), tmp_path)
    caught = any(results.values())
    assert caught == mistake.visible, (
        f"{mistake.name}: visible tests {'caught' if caught else 'missed'} it; "
        f"the catalog says visible={mistake.visible}")


@pytest.mark.parametrize("topic, variant", VARIANTS, ids=[v.name for _, v in VARIANTS])
def test_correct_variants_earn_every_point_and_pass_the_visible_tests(topic, variant, grade, tmp_path):
    source = patched_source(topic, variant.code)
    report = grade(write_submission(tmp_path / "submission", {topic.folder: source}), topics=[topic.folder])
    messages = [c["message"] for c in report["topics"][topic.module]["checks"] if not c["passed"]]
    assert messages == []
    assert not any(run_visible_tests(topic, source, tmp_path).values())
