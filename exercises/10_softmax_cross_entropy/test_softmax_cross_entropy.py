# The visible checks of 10 · Softmax and cross-entropy from logits (`make feedback TOPIC=10_softmax_cross_entropy` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for softmax and cross-entropy. Run them with `pytest exercises/10_softmax_cross_entropy`."""

import numpy as np
import pytest

from grimoire.quiet import import_keras
from grimoire.teach import call_or_not_started, expect_value
from softmax_cross_entropy import binary_crossentropy_with_logits, log_softmax, softmax, sparse_categorical_crossentropy


@pytest.mark.task("softmax")
def test_softmax_gives_probabilities_that_sum_to_one_per_row():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    got = call_or_not_started(softmax, logits)
    e = np.exp([1.0, 2.0, 3.0])
    expect_value("softmax([[1, 2, 3], [0, 0, 0]])", got, np.array([e / e.sum(), [1 / 3, 1 / 3, 1 / 3]]),
                 concept="softmax(z)_i = exp(z_i) / sum_j exp(z_j) along the last axis: every row sums to 1, "
                         "and equal logits share the probability equally")


@pytest.mark.task("softmax")
def test_softmax_stays_finite_for_logits_of_1000():
    got = call_or_not_started(softmax, np.array([[1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1000.0]]))
    expect_value("softmax([[1000, 1000, -1000], [-1000, -1000, -1000]])", got,
                 np.array([[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]]),
                 concept="np.exp(1000.0) is inf and np.exp(-1000.0) is 0: subtract the largest logit of each "
                         "row first (softmax does not change), so the largest term is exp(0) = 1")


@pytest.mark.task("softmax")
def test_softmax_normalizes_along_the_axis_it_is_given():
    keras = import_keras()
    logits = np.random.default_rng(3).normal(size=(2, 3, 4))
    got = call_or_not_started(softmax, logits, axis=1)
    expect_value("softmax(logits (2, 3, 4), axis=1)", got, np.asarray(keras.ops.softmax(logits, axis=1)),
                 concept="with axis=1 the probabilities sum to 1 along axis 1: take the max and the sum along "
                         "axis, with keepdims=True so that they broadcast back")


@pytest.mark.task("log_softmax")
def test_log_softmax_is_the_log_of_the_probabilities():
    logits = np.array([[1.0, 2.0, 3.0]])
    got = call_or_not_started(log_softmax, logits)
    expect_value("log_softmax([[1, 2, 3]])", got, logits - np.log(np.exp(logits).sum()),
                 concept="log softmax(z)_i = z_i - log(sum_j exp(z_j))")


@pytest.mark.task("log_softmax")
def test_log_softmax_stays_finite_where_a_probability_underflows():
    got = call_or_not_started(log_softmax, np.array([[1000.0, 0.0, -1000.0]]))
    expect_value("log_softmax([[1000, 0, -1000]])", got, np.array([[0.0, -1000.0, -2000.0]]),
                 concept="the probability of -1000 underflows to 0 and np.log(0) is -inf, yet its log is "
                         "exactly -2000: compute z - m - log(sum(exp(z - m))), with m the largest logit")


@pytest.mark.task("sparse_categorical_crossentropy")
def test_sparse_categorical_crossentropy_gives_one_loss_per_example():
    keras = import_keras()
    labels = np.array([0, 2, 1])
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 0.5, 3.0], [1.0, -1.0, 0.0]])
    got = call_or_not_started(sparse_categorical_crossentropy, labels, logits)
    expected = np.asarray(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
    expect_value("sparse_categorical_crossentropy([0, 2, 1], logits (3, 3))", got, expected,
                 concept="the loss of example i is -log_softmax(logits[i])[labels[i]]: one number per example, "
                         "shape (batch,), not their mean")


@pytest.mark.task("sparse_categorical_crossentropy")
def test_sparse_categorical_crossentropy_takes_labels_of_shape_batch_1():
    labels = np.array([[1], [1]])
    logits = np.array([[0.0, 0.0, 0.0], [1000.0, 0.0, -1000.0]])
    got = call_or_not_started(sparse_categorical_crossentropy, labels, logits)
    expect_value("sparse_categorical_crossentropy([[1], [1]], [[0, 0, 0], [1000, 0, -1000]])", got,
                 np.array([np.log(3.0), 1000.0]),
                 concept="labels of shape (batch, 1) hold the same classes as (batch,): flatten them first. "
                         "Three equal logits give -log(1/3) = log(3); a right class 1000 below the best "
                         "costs 1000, not -log(0) = inf: build on log_softmax, not np.log(softmax(...))")


@pytest.mark.task("binary_crossentropy_with_logits")
def test_binary_crossentropy_with_logits_matches_keras_element_by_element():
    keras = import_keras()
    labels = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 1.0]])
    logits = np.array([[2.0, -1.0, 0.5], [0.0, -3.0, 4.0]])
    got = call_or_not_started(binary_crossentropy_with_logits, labels, logits)
    expected = np.asarray(keras.ops.binary_crossentropy(labels, logits, from_logits=True))
    expect_value("binary_crossentropy_with_logits(labels (2, 3), logits (2, 3))", got, expected,
                 concept="one loss per element, the shape of the logits: -y log(sigmoid(z)) - (1 - y) "
                         "log(1 - sigmoid(z)), for soft labels like 0.3 too")


@pytest.mark.task("binary_crossentropy_with_logits")
def test_binary_crossentropy_with_logits_stays_finite_for_large_logits():
    got = call_or_not_started(binary_crossentropy_with_logits, np.array([0.0, 1.0, 1.0, 0.0]),
                              np.array([40.0, -40.0, 1000.0, -1000.0]))
    expect_value("binary_crossentropy_with_logits([0, 1, 1, 0], [40, -40, 1000, -1000])", got,
                 np.array([40.0, 40.0, 0.0, 0.0]), atol=1e-9,
                 concept="sigmoid(40) rounds to exactly 1, so log(1 - sigmoid(40)) is -inf: write the loss in z "
                         "alone, max(z, 0) - z * y + log(1 + exp(-|z|)), which never overflows")

