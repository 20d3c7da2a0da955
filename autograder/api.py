"""What a hidden check is written with.

A hidden check is a pytest test in ``autograder/checks/test_NN_module.py``, decorated with
:func:`check` (which task it grades, how many points it is worth). It gets the ``submission``
fixture (a :class:`~autograder.sandbox.Sandbox` serving the learner's module in a child
process) and an ``rng`` seeded per check, computes the expected answer with an oracle (Keras
itself where it can be), and fails through :func:`expect` / :func:`expect_error` with a message
that teaches. Points are all or nothing per check.
"""

from __future__ import annotations

import pytest

from autograder.sandbox import Sandbox, SubmissionError, SubmissionRaised
from grimoire.feedback import describe, format_call, mismatch, same_value

__all__ = ["check", "CheckFailed", "expect", "expect_error", "expect_that", "Sandbox"]


def check(task: str, points: int):
    """Mark a hidden check: the task (function or class) it grades and its points."""

    def mark(function):
        return pytest.mark.points(points)(pytest.mark.task(task)(function))

    return mark


class CheckFailed(AssertionError):
    """A hidden check's verdict; its message is shown to the learner as is."""


def expect_that(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def expect(submission: Sandbox, name: str, *args, expected, concept: str, **kwargs):
    """Call ``name`` in the submission and compare with ``expected`` (same value and kind)."""
    got = submission.call(name, *args, **kwargs)
    if not same_value(got, expected):
        raise CheckFailed(mismatch(format_call(name, args, kwargs), got, expected, concept))
    return got


def expect_error(submission: Sandbox, name: str, *args, error: str, concept: str, **kwargs):
    """Call ``name`` in the submission and require that it raises ``error`` (a class name)."""
    call = format_call(name, args, kwargs)
    try:
        got = submission.call(name, *args, **kwargs)
    except SubmissionRaised as raised:
        if error in raised.error_types:
            return
        raise CheckFailed(f"{raised}; expected {error}: {concept}") from None
    except SubmissionError:
        raise
    raise CheckFailed(f"{call} returned {describe(got)}; expected {error}: {concept}")
