"""grade-cohort hands each free worker a submission of the assignment it already holds."""

from __future__ import annotations

import pytest

from autograder.cohort_queue import AssignmentQueue


def cohort(counts: dict[str, int]) -> list[tuple[str, str]]:
    """(assignment, student) pairs, students first: the order discovery gives them."""
    most = max(counts.values())
    return [(a, f"s{i}") for i in range(most) for a, n in counts.items() if i < n]


def by_assignment(job):
    return job[0]


def test_a_worker_keeps_to_its_assignment_while_it_has_submissions_left():
    queue = AssignmentQueue(cohort({"01": 3, "02": 3}), by_assignment)
    taken = [queue.take("w1")[0] for _ in range(6)]
    assert taken == ["01", "01", "01", "02", "02", "02"]
    assert not queue and len(queue) == 0


def test_two_workers_share_an_assignment_only_when_no_other_has_submissions_left():
    queue = AssignmentQueue(cohort({"01": 4, "02": 4, "03": 4}), by_assignment)
    seen: dict[str, set[str]] = {"w1": set(), "w2": set()}
    for turn in range(12):
        worker = ("w1", "w2")[turn % 2]
        seen[worker].add(queue.take(worker)[0])
    # In plain order each worker would have graded all three (and paid for every oracle twice).
    assert seen == {"w1": {"01", "03"}, "w2": {"02", "03"}}


def test_a_worker_whose_assignment_ran_out_takes_the_largest_one_nobody_holds():
    queue = AssignmentQueue(cohort({"01": 1, "02": 2, "03": 5, "04": 3}), by_assignment)
    assert queue.take("w1")[0] == "03"
    assert queue.take("w2")[0] == "04"
    assert queue.take("w3")[0] == "02"
    assert queue.take("w3")[0] == "02"
    assert queue.take("w3")[0] == "01"  # the only one nobody holds
    assert queue.take("w3")[0] == "03"  # all held: the one with the most left


def test_without_a_worker_the_plain_order_is_kept():
    jobs = cohort({"01": 2, "02": 2})
    queue = AssignmentQueue(jobs, by_assignment)
    assert [queue.take() for _ in range(4)] == sorted(jobs, key=lambda j: (j[0] != "01", j[1]))
    with pytest.raises(IndexError):
        queue.take("w1")
