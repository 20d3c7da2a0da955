# The visible checks of 01 · Counting parameters (`make feedback TOPIC=01_parameter_counting` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for parameter counting. Run them with `pytest exercises/01_parameter_counting`."""

import inspect

import pytest

from grimoire.teach import Mismatch, call_or_not_started, expect_call
from parameter_counting import batchnorm_params, conv2d_params, dense_params, lstm_params


@pytest.mark.task("dense_params")
def test_the_counting_is_yours_without_tensorflow_or_keras():
    """The rule of this topic, checked in your code: no TensorFlow or Keras, however imported."""
    call_or_not_started(dense_params, 784, 10)

    def names(code):  # the names and strings a function's code uses, nested functions included
        found = set(code.co_names)
        for constant in code.co_consts:
            if inspect.iscode(constant):
                found |= names(constant)
            elif isinstance(constant, str):
                found.add(constant)
        return found

    for name in ('dense_params', 'conv2d_params', 'lstm_params', 'batchnorm_params'):
        function = globals().get(name)  # in a notebook, only the functions written so far
        if not inspect.isfunction(function):
            continue
        used = sorted(used_name for used_name in names(function.__code__)
                      if used_name in ("keras", "tensorflow", "tf", "importlib", "__import__", "sys")
                      or str(getattr(function.__globals__.get(used_name), "__module__", None)
                             or getattr(function.__globals__.get(used_name), "__name__", "")
                             ).startswith(("keras", "tensorflow")))
        if used:
            raise Mismatch(f"{name} uses {', '.join(used)}; expected no TensorFlow or Keras in your "
                           "module, however imported (import, importlib, __import__, sys.modules): "
                           "the point of this topic is to know where each parameter comes from, and the grader gives no point to a function that asks Keras")


@pytest.mark.task("dense_params")
def test_a_dense_layer_has_one_weight_per_input_and_unit_plus_one_bias_per_unit():
    expect_call(dense_params, 784, 10, expected=7850,
                concept="Dense(10) on 784 features holds 784 * 10 weights and 10 biases")


@pytest.mark.task("dense_params")
def test_a_dense_layer_without_bias_has_only_its_kernel():
    expect_call(dense_params, 64, 32, use_bias=False, expected=2048,
                concept="with use_bias=False only the 64 x 32 kernel remains")


@pytest.mark.task("conv2d_params")
def test_a_conv_filter_spans_every_input_channel():
    expect_call(conv2d_params, 3, 16, 3, expected=448,
                concept="16 filters of 3 x 3 x 3 weights each, plus 16 biases")


@pytest.mark.task("conv2d_params")
def test_a_conv_kernel_may_be_rectangular():
    expect_call(conv2d_params, 8, 4, (1, 5), expected=164,
                concept="a (1, 5) kernel has 1 * 5 positions: 4 filters x 5 x 8 weights + 4 biases")


@pytest.mark.task("lstm_params")
def test_an_lstm_has_four_gates_each_reading_input_and_state():
    expect_call(lstm_params, 10, 20, expected=2480,
                concept="4 gates x (20 * (10 + 20) weights + 20 biases)")


@pytest.mark.task("batchnorm_params")
def test_batchnorm_splits_learned_and_tracked_statistics():
    expect_call(batchnorm_params, 64, expected=(128, 128),
                concept="gamma and beta are trainable (2 x 64); moving mean and variance are not (2 x 64)")
