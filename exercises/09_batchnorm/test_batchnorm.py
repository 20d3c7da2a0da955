# The visible checks of 09 · Batch normalization: training and inference (`make feedback TOPIC=09_batchnorm` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for batch normalization. Run them with `pytest exercises/09_batchnorm`."""

import numpy as np
import pytest

from batchnorm import batchnorm_forward
from grimoire.quiet import import_keras
from grimoire.teach import call_or_not_started, expect_value

X = np.array([[1.0, 10.0, 4.0], [3.0, 30.0, 4.0], [5.0, 20.0, 4.0], [7.0, 40.0, 4.0]])  # last feature constant
GAMMA, BETA = np.array([1.0, 2.0, 1.0]), np.array([0.0, -1.0, 0.5])
MOVING_MEAN, MOVING_VARIANCE = np.array([0.5, 20.0, 0.0]), np.array([4.0, 100.0, 1.0])


def keras_layer(momentum=0.99, epsilon=1e-3):
    keras = import_keras()
    layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, dtype="float64")
    layer.build((None, 3))
    layer.set_weights([GAMMA, BETA, MOVING_MEAN, MOVING_VARIANCE])
    return layer


def three_parts(got, call):
    expect_value(f"type({call})", type(got).__name__, "tuple",
                 concept="return the tuple (y, new_moving_mean, new_moving_variance)")
    expect_value(f"len({call})", len(got), 3, concept="y, new_moving_mean and new_moving_variance")
    return got


@pytest.mark.task("batchnorm_forward")
def test_training_standardizes_every_feature_with_the_batch_statistics():
    got = call_or_not_started(batchnorm_forward, X, np.ones(3), np.zeros(3), MOVING_MEAN, MOVING_VARIANCE,
                              True, epsilon=1e-12)
    call = "batchnorm_forward(x, gamma=1, beta=0, ..., training=True, epsilon=1e-12)"
    y = three_parts(got, call)[0]
    first = (X[:, 0] - 4.0) / np.sqrt(5.0)  # mean 4, biased variance (9 + 1 + 1 + 9) / 4 = 5
    expect_value(f"{call}[0][:, 0]", np.asarray(y)[:, 0], first, atol=1e-6,
                 concept="x_hat = (x - mean) / sqrt(variance + epsilon) per feature (axis=0); x[:, 0] has "
                         "mean 4 and the BIASED variance 20 / 4 = 5 (divided by the batch size, not batch - 1)")
    expect_value(f"{call}[0][:, 2] (a constant feature)", np.asarray(y)[:, 2], np.zeros(4), atol=1e-6,
                 concept="a constant feature has variance 0: x - mean = 0, and epsilon keeps the "
                         "division finite, so x_hat = 0")


@pytest.mark.task("batchnorm_forward")
def test_training_matches_keras_output_and_moving_statistics():
    layer = keras_layer(momentum=0.9)
    expected = np.asarray(layer(X, training=True))
    got = call_or_not_started(batchnorm_forward, X, GAMMA, BETA, MOVING_MEAN, MOVING_VARIANCE, True, momentum=0.9)
    call = "batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training=True, momentum=0.9)"
    y, new_mean, new_variance = three_parts(got, call)
    expect_value(f"{call}[0]", y, expected, atol=1e-5,
                 concept="y = gamma * (x - mean) / sqrt(variance + epsilon) + beta with the batch's mean and "
                         "biased variance; epsilon goes inside the square root")
    expect_value(f"{call}[1]", new_mean, np.asarray(layer.moving_mean), atol=1e-6,
                 concept="moving_mean = 0.9 * moving_mean + 0.1 * batch mean: momentum weighs the old value")
    expect_value(f"{call}[2]", new_variance, np.asarray(layer.moving_variance), atol=1e-6,
                 concept="moving_variance = 0.9 * moving_variance + 0.1 * batch variance, the BIASED one "
                         "(x.var(axis=0)) as Keras 3 keeps it")


@pytest.mark.task("batchnorm_forward")
def test_a_batch_of_two_uses_the_biased_variance():
    x = np.array([[0.0, 2.0], [2.0, -2.0]])
    got = call_or_not_started(batchnorm_forward, x, np.ones(2), np.zeros(2), np.zeros(2), np.ones(2), True,
                              momentum=0.5, epsilon=1e-12)
    call = "batchnorm_forward([[0, 2], [2, -2]], gamma=1, beta=0, zeros, ones, training=True, momentum=0.5)"
    y, _, new_variance = three_parts(got, call)
    expect_value(f"{call}[0]", y, np.array([[-1.0, 1.0], [1.0, -1.0]]), atol=1e-5,
                 concept="two values a and b have the biased variance ((a - b) / 2)**2, so each lies "
                         "exactly one standard deviation from the mean")
    expect_value(f"{call}[2]", new_variance, np.array([1.0, 2.5]), atol=1e-6,
                 concept="0.5 * 1 + 0.5 * [1, 4]: the moving variance moves towards the biased batch "
                         "variance too")


@pytest.mark.task("batchnorm_forward")
def test_inference_uses_the_moving_statistics_and_updates_nothing():
    layer = keras_layer()
    expected = np.asarray(layer(X, training=False))
    got = call_or_not_started(batchnorm_forward, X, GAMMA, BETA, MOVING_MEAN, MOVING_VARIANCE, False)
    call = "batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training=False)"
    y, new_mean, new_variance = three_parts(got, call)
    expect_value(f"{call}[0]", y, expected, atol=1e-5,
                 concept="in inference, y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + "
                         "beta: the batch's own statistics are not used")
    expect_value(f"{call}[1]", new_mean, MOVING_MEAN, concept="inference leaves moving_mean unchanged")
    expect_value(f"{call}[2]", new_variance, MOVING_VARIANCE, concept="inference leaves moving_variance unchanged")
