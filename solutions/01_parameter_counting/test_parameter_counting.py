"""Visible tests for parameter counting. Run them with `pytest exercises/01_parameter_counting`."""

import pytest

from grimoire.teach import expect_call
from parameter_counting import batchnorm_params, conv2d_params, dense_params, lstm_params


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
