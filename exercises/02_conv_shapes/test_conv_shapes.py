# The visible checks of 02 · Convolution shapes (`make feedback TOPIC=02_conv_shapes` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for convolution shapes. Run them with `pytest exercises/02_conv_shapes`."""

import inspect

import pytest

from conv_shapes import cnn_shape_walk, conv2d_output_shape, pool2d_output_shape
from grimoire.teach import Mismatch, call_or_not_started, expect_call, expect_raises


@pytest.mark.task("conv2d_output_shape")
def test_the_shapes_are_yours_without_tensorflow_or_keras():
    """The rule of this topic, checked in your code: no TensorFlow or Keras, however imported."""
    call_or_not_started(conv2d_output_shape, (28, 28, 1), 32, 5)

    def names(code):  # the names and strings a function's code uses, nested functions included
        found = set(code.co_names)
        for constant in code.co_consts:
            if inspect.iscode(constant):
                found |= names(constant)
            elif isinstance(constant, str):
                found.add(constant)
        return found

    for name in ('conv2d_output_shape', 'pool2d_output_shape', 'cnn_shape_walk'):
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
                           "the point of this topic is the arithmetic of windows and strides, and the grader gives no point to a function that asks Keras")


@pytest.mark.task("conv2d_output_shape")
def test_valid_padding_shrinks_each_side_by_kernel_minus_one():
    expect_call(conv2d_output_shape, (28, 28, 1), 32, 5, expected=(24, 24, 32),
                concept="with 'valid' padding a 5-wide window fits in floor((28 - 5) / 1) + 1 = 24 "
                        "positions, and each of the 32 filters gives one output channel")


@pytest.mark.task("conv2d_output_shape")
def test_strides_skip_positions_and_round_down_with_valid_padding():
    expect_call(conv2d_output_shape, (28, 28, 3), 8, 3, strides=2, expected=(13, 13, 8),
                concept="with 'valid' padding the size is floor((28 - 3) / 2) + 1 = 13: "
                        "a window that would stick out past the border is dropped")


@pytest.mark.task("conv2d_output_shape")
def test_same_padding_keeps_the_size_divided_by_the_stride_rounded_up():
    expect_call(conv2d_output_shape, (28, 28, 1), 32, 3, strides=2, padding="same",
                expected=(14, 14, 32), concept="with 'same' padding the size is ceil(28 / 2) = 14")
    expect_call(conv2d_output_shape, (7, 9, 3), 5, 3, strides=2, padding="same", expected=(4, 5, 5),
                concept="with 'same' padding the size is rounded up, not down: ceil(7 / 2) = 4 and "
                        "ceil(9 / 2) = 5 (the last window hangs over the border, into the zeros)")
    expect_call(conv2d_output_shape, (15, 15, 4), 4, 7, padding="same", expected=(15, 15, 4),
                concept="with 'same' padding and stride 1 the size is ceil(15 / 1) = 15, "
                        "whatever the kernel size")


@pytest.mark.task("conv2d_output_shape")
def test_dilation_spreads_the_window_over_more_pixels():
    expect_call(conv2d_output_shape, (20, 20, 1), 6, 3, dilation_rate=2, expected=(16, 16, 6),
                concept="a 3-wide kernel with dilation 2 spans 2 * (3 - 1) + 1 = 5 pixels: "
                        "floor((20 - 5) / 1) + 1 = 16")


@pytest.mark.task("conv2d_output_shape")
def test_kernel_and_strides_may_differ_along_height_and_width():
    expect_call(conv2d_output_shape, (32, 40, 3), 16, (3, 5), strides=(1, 2), expected=(30, 18, 16),
                concept="each axis has its own kernel and stride: height floor((32 - 3) / 1) + 1 = 30, "
                        "width floor((40 - 5) / 2) + 1 = 18")


@pytest.mark.task("conv2d_output_shape")
def test_a_window_larger_than_the_input_raises_value_error():
    expect_raises(conv2d_output_shape, (4, 4, 1), 8, 5, error=ValueError,
                  concept="with 'valid' padding a 5-wide window has nowhere to go in 4 pixels; "
                          "Keras raises ValueError rather than return a size of 0")
    expect_call(conv2d_output_shape, (5, 5, 1), 8, 5, expected=(1, 1, 8),
                concept="a window exactly as large as the input fits once")


@pytest.mark.task("pool2d_output_shape")
def test_pooling_strides_default_to_the_pool_size():
    expect_call(pool2d_output_shape, (24, 24, 32), expected=(12, 12, 32),
                concept="MaxPooling2D() has pool_size 2 and strides=None, which means strides = "
                        "pool_size: floor((24 - 2) / 2) + 1 = 12; the 32 channels are pooled one by one")
    expect_call(pool2d_output_shape, (7, 9, 3), 3, expected=(2, 3, 3),
                concept="pool_size 3 and strides 3 (the default): floor((7 - 3) / 3) + 1 = 2 "
                        "and floor((9 - 3) / 3) + 1 = 3")


@pytest.mark.task("pool2d_output_shape")
def test_pooling_follows_the_padding_and_stride_rules_of_convolutions():
    expect_call(pool2d_output_shape, (7, 7, 8), 3, strides=2, padding="same", expected=(4, 4, 8),
                concept="with 'same' padding the size is ceil(7 / 2) = 4")
    expect_call(pool2d_output_shape, (10, 7, 4), (2, 3), strides=1, expected=(9, 5, 4),
                concept="a (2, 3) window at stride 1: floor((10 - 2) / 1) + 1 = 9 and "
                        "floor((7 - 3) / 1) + 1 = 5")


@pytest.mark.task("pool2d_output_shape")
def test_a_pool_window_larger_than_the_input_raises_value_error():
    expect_raises(pool2d_output_shape, (3, 8, 2), 4, error=ValueError,
                  concept="a 4-wide pool window does not fit in a height of 3 with 'valid' padding")


@pytest.mark.task("cnn_shape_walk")
def test_the_walk_through_a_small_mnist_cnn():
    layers = [
        {"type": "conv", "filters": 32, "kernel_size": 5},
        {"type": "pool", "pool_size": 2},
        {"type": "conv", "filters": 64, "kernel_size": 5},
        {"type": "pool"},
        {"type": "flatten"},
        {"type": "dense", "units": 10},
    ]
    expect_call(cnn_shape_walk, (28, 28, 1), layers,
                expected=[(24, 24, 32), (12, 12, 32), (8, 8, 64), (4, 4, 64), (1024,), (10,)],
                concept="each layer reads the shape the previous one produced: 28 -> conv 5 -> 24 "
                        "-> pool -> 12 -> conv 5 -> 8 -> pool -> 4, then flatten gives "
                        "4 * 4 * 64 = 1024 values and Dense(10) gives 10")


@pytest.mark.task("cnn_shape_walk")
def test_a_walk_uses_every_option_of_its_layers():
    layers = [
        {"type": "conv", "filters": 16, "kernel_size": 3, "strides": 2, "padding": "same"},
        {"type": "pool", "pool_size": 3, "strides": 1},
        {"type": "flatten"},
    ]
    expect_call(cnn_shape_walk, (32, 32, 3), layers, expected=[(16, 16, 16), (14, 14, 16), (3136,)],
                concept="conv: ceil(32 / 2) = 16 with 'same' padding; pool 3 at stride 1: "
                        "floor((16 - 3) / 1) + 1 = 14; flatten: 14 * 14 * 16 = 3136, as a 1-tuple")
