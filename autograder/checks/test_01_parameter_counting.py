"""Hidden checks for 01_parameter_counting: random layers, counted by Keras itself."""

from __future__ import annotations

import numpy as np

from autograder.api import CheckFailed, check
from autograder.sandbox import SubmissionRaised
from grimoire.feedback import describe, format_call, mismatch, same_value
from grimoire.quiet import import_keras

keras = import_keras()
layers = keras.layers

# What the learner writes themselves (enforced by the grader, check by check): the point is the
# arithmetic, so no TensorFlow or Keras in the module, however imported.
OWN_WORK = {
    "dense_params": {"no_framework": True},
    "conv2d_params": {"no_framework": True},
    "lstm_params": {"no_framework": True},
    "batchnorm_params": {"no_framework": True},
}


def same_numbers(got, expected) -> bool:
    """The same numbers, whatever their kind (7850.0 for 7850, [128, 128] for (128, 128))."""
    try:
        return bool(np.array_equal(np.asarray(got, dtype=float), np.asarray(expected, dtype=float)))
    except (TypeError, ValueError):
        return False


def expect_count(submission, name, *args, expected, concept, **kwargs):
    """``expect``; an error raised instead of a count, or the right count of the wrong kind,
    says so."""
    call = format_call(name, args, kwargs)
    try:
        got = submission.call(name, *args, **kwargs)
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}; expected {expected!r}: {concept}") from None
    if same_value(got, expected):
        return
    if same_numbers(got, expected):
        kind = "an int" if isinstance(expected, int) else "a tuple of two ints"
        raise CheckFailed(f"{call} returned {describe(got)}; expected {expected!r}: the count is "
                          f"right, but a count is {kind}")
    raise CheckFailed(mismatch(call, got, expected, concept))


def keras_count(layer, input_shape) -> int:
    layer.build(input_shape)
    return layer.count_params()


def dense_case(rng, use_bias: bool):
    input_dim, units = (int(n) for n in rng.integers(1, 400, size=2))
    expected = keras_count(layers.Dense(units, use_bias=use_bias), (None, input_dim))
    bias = f" + {units} biases" if use_bias else " and no bias"
    concept = f"Keras' Dense({units}) on {input_dim} features holds {input_dim} x {units} weights{bias}"
    return (input_dim, units), {"use_bias": use_bias}, expected, concept


@check(task="dense_params", points=2)
def test_dense_params_matches_keras_with_bias(submission, rng):
    for _ in range(5):
        args, kwargs, expected, concept = dense_case(rng, use_bias=True)
        expect_count(submission, "dense_params", *args, expected=expected, concept=concept, **kwargs)


@check(task="dense_params", points=1)
def test_dense_params_matches_keras_without_bias(submission, rng):
    for _ in range(3):
        args, kwargs, expected, concept = dense_case(rng, use_bias=False)
        expect_count(submission, "dense_params", *args, expected=expected, concept=concept, **kwargs)


def conv_case(rng, kernel_size, use_bias=True):
    in_channels, filters = (int(n) for n in rng.integers(1, 65, size=2))
    layer = layers.Conv2D(filters, kernel_size, use_bias=use_bias)
    expected = keras_count(layer, (None, 32, 32, in_channels))
    height, width = layer.kernel_size
    bias = f" plus one bias per filter ({filters} biases)" if use_bias else " and no bias"
    shape = (f" (a rectangular kernel: {height} rows by {width} columns)" if height != width else "")
    concept = (f"{filters} filters, each {height} x {width} x {in_channels} weights{shape} "
               f"(every filter spans all {in_channels} input channels){bias}")
    return (in_channels, filters, kernel_size), {"use_bias": use_bias}, expected, concept


@check(task="conv2d_params", points=2)
def test_conv2d_params_matches_keras_for_square_kernels(submission, rng):
    for _ in range(5):
        args, kwargs, expected, concept = conv_case(rng, int(rng.integers(1, 8)))
        expect_count(submission, "conv2d_params", *args, expected=expected, concept=concept, **kwargs)


@check(task="conv2d_params", points=1)
def test_conv2d_params_matches_keras_for_rectangular_kernels(submission, rng):
    for _ in range(4):
        height, width = (int(n) for n in rng.choice(range(1, 8), size=2, replace=False))
        args, kwargs, expected, concept = conv_case(rng, (height, width))
        expect_count(submission, "conv2d_params", *args, expected=expected, concept=concept, **kwargs)


@check(task="conv2d_params", points=1)
def test_conv2d_params_matches_keras_without_bias(submission, rng):
    for _ in range(3):
        args, kwargs, expected, concept = conv_case(rng, int(rng.integers(1, 6)), use_bias=False)
        expect_count(submission, "conv2d_params", *args, expected=expected, concept=concept, **kwargs)


def lstm_case(rng, use_bias=True):
    input_dim, units = (int(n) for n in rng.integers(1, 129, size=2))
    expected = keras_count(layers.LSTM(units, use_bias=use_bias), (None, None, input_dim))
    bias = f" + {units} biases" if use_bias else ", no bias"
    concept = (f"4 gates, each reading {input_dim} input + {units} recurrent features: "
               f"4 x ({units} x ({input_dim} + {units}) weights{bias})")
    return (input_dim, units), {"use_bias": use_bias}, expected, concept


@check(task="lstm_params", points=2)
def test_lstm_params_matches_keras(submission, rng):
    for _ in range(5):
        args, kwargs, expected, concept = lstm_case(rng)
        expect_count(submission, "lstm_params", *args, expected=expected, concept=concept, **kwargs)


@check(task="lstm_params", points=1)
def test_lstm_params_matches_keras_without_bias(submission, rng):
    for _ in range(3):
        args, kwargs, expected, concept = lstm_case(rng, use_bias=False)
        expect_count(submission, "lstm_params", *args, expected=expected, concept=concept, **kwargs)


@check(task="batchnorm_params", points=2)
def test_batchnorm_params_splits_trainable_like_keras(submission, rng):
    for _ in range(4):
        features = int(rng.integers(1, 513))
        layer = layers.BatchNormalization()
        layer.build((None, 7, features))
        trainable = sum(int(v.numpy().size) for v in layer.trainable_weights)
        frozen = sum(int(v.numpy().size) for v in layer.non_trainable_weights)
        concept = (f"gamma and beta ({features} each) are trainable; the moving mean and "
                   f"variance ({features} each) are not")
        expect_count(submission, "batchnorm_params", features, expected=(trainable, frozen), concept=concept)
