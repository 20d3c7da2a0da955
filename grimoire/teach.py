"""Helpers the visible tests use, so that every failure teaches.

Visible tests run the learner's code in-process (fast feedback). An untouched stub raises
NotImplementedError, which becomes :class:`NotStarted`: the pytest plugin shows it as one short
line instead of a traceback, and so does a notebook (IPython's ``_render_traceback_``), for
:class:`Mismatch` too.
"""

from __future__ import annotations

from grimoire.feedback import NOT_STARTED, describe, format_call, is_untouched_stub, mismatch, same_value

__all__ = ["NotStarted", "Mismatch", "expect_call", "expect_raises", "expect_value", "call_or_not_started"]


class _OneLine:
    """In a notebook (IPython, JupyterLab, nbgrader's feedback) the failure shows as its message
    alone: IPython asks an exception for ``_render_traceback_()`` before it formats a traceback,
    and a traceback through the kit's helpers would only bury the one line that teaches."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[1;31m✗\x1b[0m {self}"]


class NotStarted(_OneLine, AssertionError):
    """The function under test still raises NotImplementedError."""


class Mismatch(_OneLine, AssertionError):
    """A visible check failed; the message alone says the call, the result, the expectation, why."""


def call_or_not_started(func, *args, **kwargs):
    """Call ``func``; a NotImplementedError from an untouched stub becomes NotStarted."""
    try:
        return func(*args, **kwargs)
    except NotImplementedError as error:
        if not is_untouched_stub(error):
            raise
        # A layer or metric instance has no __name__: name its class instead.
        raise NotStarted(NOT_STARTED.format(name=getattr(func, "__name__", type(func).__name__))) from None


def expect_call(func, *args, expected, concept: str, **kwargs):
    """Assert ``func(*args, **kwargs)`` returns ``expected`` (same value, same kind)."""
    call = format_call(func.__name__, args, kwargs)
    try:
        got = call_or_not_started(func, *args, **kwargs)
    except NotStarted:
        raise
    except Exception as error:
        raise Mismatch(
            f"{call} raised {type(error).__name__}: {error}; expected {describe(expected)}: {concept}"
        ) from None
    if not same_value(got, expected):
        raise Mismatch(mismatch(call, got, expected, concept))
    return got


def expect_raises(func, *args, error=ValueError, concept: str, **kwargs):
    """Assert ``func(*args, **kwargs)`` raises ``error``."""
    call = format_call(func.__name__, args, kwargs)
    try:
        got = call_or_not_started(func, *args, **kwargs)
    except NotStarted:
        raise
    except error:
        return
    except Exception as other:
        raise Mismatch(
            f"{call} raised {type(other).__name__}: {other}; expected {error.__name__}: {concept}"
        ) from None
    raise Mismatch(f"{call} returned {describe(got)}; expected {error.__name__}: {concept}")


def expect_value(call: str, got, expected, concept: str, *, rtol: float = 1e-6, atol: float = 1e-6):
    """Assert an already computed result (``call`` describes how it was made) equals ``expected``.

    For results that take more than one call to produce (a metric after several batches, a
    model after ``fit``); arrays and floats compare with the given tolerances.
    """
    if not same_value(got, expected, rtol=rtol, atol=atol):
        raise Mismatch(mismatch(call, got, expected, concept))
    return got
