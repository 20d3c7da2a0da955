"""Every hidden check can fail: realistic mistakes lose points, correct variants keep them.

A caught mistake is caught with every seed: each mistake is graded under :data:`SEEDS` (five
seeds), and each check it names must fail under every one of them, with a message that names
the real cause (the mistake's ``concept``).
"""

from __future__ import annotations

import pytest

from autograder.engine import CHECKS_DIR, grade_each_seed
from grimoire.authoring import hidden_checks
from tests.catalog import load
from tests.helpers import (TOPICS, all_checks, failed_checks, patched_source, run_visible_tests,
                           write_submission)

CATALOG = {topic.module: load(topic.module) for topic in TOPICS}
MISTAKES = [(t, m) for t in TOPICS for m in CATALOG[t.module][0]]
VARIANTS = [(t, v) for t in TOPICS for v in CATALOG[t.module][1]]
# The first is the kit's usual seed; the others are arbitrary. A check that catches a mistake
# with some seeds only holds no targeted case for it: add one that every seed runs.
SEEDS = (20261125, 1, 2, 3, 4)


@pytest.mark.parametrize("topic, mistake", MISTAKES, ids=[f"{t.module}:{m.name}" for t, m in MISTAKES])
def test_each_mistake_loses_the_points_of_the_checks_it_should_fail_with_every_seed(
        topic, mistake, grade, tmp_path):
    """Only the checks a mistake names are run: each must fail, under every seed, naming the cause."""
    assert mistake.concept.strip(), f"{mistake.name}: give the mistake a concept= (the real cause)"
    write_submission(tmp_path, {topic.folder: patched_source(topic, mistake.code)})
    missed, vague = {}, {}
    reports = grade_each_seed(tmp_path, list(SEEDS), topics=[topic.folder], checks=list(mistake.kills))
    for seed, report in reports.items():
        ran = all_checks(report, topic.module)
        assert ran == set(mistake.kills), f"the catalog names unknown checks: {set(mistake.kills) - ran}"
        passed = ran - failed_checks(report, topic.module)
        if passed:
            missed[seed] = sorted(passed)
        for check in report["topics"][topic.module]["checks"]:
            if not check["passed"] and mistake.concept.lower() not in check["message"].lower():
                vague.setdefault(check["name"], f"seed {seed}: {check['message']}")
    assert missed == {}, f"{mistake.name} passed these checks with these seeds: {missed}"
    assert vague == {}, (f"{mistake.name}: these messages do not say {mistake.concept!r}, the real "
                         f"cause: {vague}")


@pytest.mark.parametrize("topic", TOPICS, ids=[t.module for t in TOPICS])
def test_every_hidden_check_is_failed_by_some_mistake(topic):
    """With the test above, every check is shown to fail on at least one realistic mistake.

    The checks are read from the check file itself (the decorators), not from a grade.
    """
    mistakes = [m for t, m in MISTAKES if t is topic]
    assert len(mistakes) >= 5, f"{topic.module}: the catalog needs at least five realistic mistakes"
    declared = hidden_checks(CHECKS_DIR / f"test_{topic.folder}.py")
    checks = set(declared)
    assert checks, f"{topic.folder} has no hidden checks"
    killed = set().union(*(set(m.kills) for m in mistakes))
    assert checks - killed == set(), "no mistake in the catalog fails these checks"
    # A mistake that hands a task to Keras loses every point of that task, not only some.
    task_of = {name: entry["task"] for name, entry in declared.items()}
    for mistake in (m for m in mistakes if m.delegates):
        tasks = {task_of[name] for name in mistake.kills}
        whole = {name for name, task in task_of.items() if task in tasks}
        assert whole - set(mistake.kills) == set(), (
            f"{mistake.name} hands {', '.join(sorted(tasks))} to Keras: it must lose every check "
            "of the task")


@pytest.mark.parametrize("topic, mistake", MISTAKES, ids=[f"{t.module}:{m.name}" for t, m in MISTAKES])
def test_mistakes_marked_visible_fail_a_visible_test(topic, mistake, tmp_path):
    results = run_visible_tests(topic, patched_source(topic, mistake.code), tmp_path, first_failure=True)
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
