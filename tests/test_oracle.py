"""``@oracle`` replays Keras' answer for the same inputs, and only for the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.oracle import oracle


def counted(function):
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)

    return oracle(wrapper), calls


def test_the_same_content_is_answered_once_and_other_content_again():
    total, calls = counted(lambda array, scale=1: float(array.sum()) * scale)
    first = total(np.arange(6, dtype="float32").reshape(2, 3))
    assert total(np.arange(6, dtype="float32").reshape(2, 3)) == first and len(calls) == 1
    total(np.arange(6, dtype="float32").reshape(3, 2))  # other shape
    total(np.arange(6, dtype="float64").reshape(2, 3))  # other dtype
    total(np.arange(1, 7, dtype="float32").reshape(2, 3))  # other values
    total(np.arange(6, dtype="float32").reshape(2, 3), scale=2)  # other keyword
    assert len(calls) == 5


def test_a_generator_is_left_where_the_real_call_left_it():
    draw, calls = counted(lambda rng, n: rng.normal(size=n).tolist())
    first, second = np.random.default_rng(3), np.random.default_rng(3)
    assert draw(first, 4) == draw(second, 4) and len(calls) == 1
    assert first.random() == second.random()  # the next draw is the same, cached or not
    draw(np.random.default_rng(4), 4)
    assert len(calls) == 2


def test_an_exception_is_replayed_and_an_unreadable_argument_is_never_cached():
    def fits(size):
        if size < 0:
            raise ValueError("does not fit")
        return size

    check, calls = counted(fits)
    for _ in range(2):
        with pytest.raises(ValueError, match="does not fit"):
            check(-1)
    assert len(calls) == 1
    opaque, calls = counted(lambda thing: id(thing))
    opaque(object()), opaque(object())
    assert len(calls) == 2


def test_the_least_recently_used_answer_goes_first():
    square = oracle(lambda n: n * n, size=2)
    square(1), square(2), square(1), square(3)
    assert square.cache_size() == 2


def test_a_copying_oracle_hands_each_caller_its_own_answer():
    shapes = oracle(lambda n: [{"size": n}], copy=True)
    first = shapes(3)
    first[0]["size"] = 99
    assert shapes(3) == [{"size": 3}]
