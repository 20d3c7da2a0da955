# The visible checks of 12 · A simple RNN and its vanishing gradients (`make feedback TOPIC=12_simple_rnn` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for the simple RNN. Run them with `pytest exercises/12_simple_rnn`."""

import numpy as np
import pytest
import tensorflow as tf

from grimoire.quiet import import_keras
from grimoire.teach import call_or_not_started, expect_value
from simple_rnn import hidden_state_gradient_norms, rnn_forward, rnn_step


def keras_simple_rnn(weights, **options):
    """A keras.layers.SimpleRNN holding the given (kernel, recurrent_kernel, bias), in float64."""
    keras = import_keras()
    kernel, recurrent_kernel, bias = weights
    layer = keras.layers.SimpleRNN(recurrent_kernel.shape[0], dtype="float64", **options)
    layer.build((None, None, kernel.shape[0]))
    layer.set_weights([kernel, recurrent_kernel, bias])
    return layer


def random_weights(rng, input_dim, units):
    return (rng.normal(0, 0.8, size=(input_dim, units)), rng.normal(0, 0.6, size=(units, units)),
            rng.normal(0, 0.5, size=units))


def off(got, expected) -> str:
    return f"{np.abs(got - expected).max():.3g}" if np.shape(got) == expected.shape else "?"


@pytest.mark.task("rnn_step")
def test_rnn_step_returns_one_state_per_example():
    got = call_or_not_started(rnn_step, np.ones((2, 3)), np.zeros((2, 4)), np.zeros((3, 4)),
                              np.zeros((4, 4)), np.zeros(4))
    expect_value("rnn_step(x_t (2, 3), h_prev (2, 4), kernel (3, 4), ...).shape",
                 np.shape(got), (2, 4), concept="h_t has one state of units = 4 numbers per example: "
                                                "(batch, units), like h_prev")


@pytest.mark.task("rnn_step")
def test_rnn_step_squashes_input_and_state_with_tanh():
    # kernel reads x_t = [1, 2] as 0.1 * 1 + 0.2 * 2 = 0.5; the recurrent kernel doubles h_prev.
    got = call_or_not_started(rnn_step, np.array([[1.0, 2.0]]), np.array([[0.25, -0.25]]),
                              np.array([[0.1, 0.1], [0.2, 0.2]]), 2.0 * np.eye(2), np.array([0.0, 1.0]))
    expected = np.tanh([[0.5 + 0.5 + 0.0, 0.5 - 0.5 + 1.0]])
    expect_value("rnn_step(x_t=[[1, 2]], h_prev=[[0.25, -0.25]], kernel=[[0.1, 0.1], [0.2, 0.2]], "
                 "recurrent_kernel=2 * I, bias=[0, 1])", got, expected,
                 concept="h_t = tanh(x_t @ kernel + h_prev @ recurrent_kernel + bias) = tanh([[1, 1]]): "
                         "did you read h_prev, add the bias once and squash with tanh?")


@pytest.mark.task("rnn_step")
def test_rnn_step_matches_keras_on_random_weights():
    rng = np.random.default_rng(12)
    x_t, h_prev = rng.normal(size=(3, 2)), rng.uniform(-1, 1, size=(3, 4))
    weights = random_weights(rng, 2, 4)
    initial = tf.constant(h_prev)
    expected = np.asarray(keras_simple_rnn(weights)(x_t[:, None, :], initial_state=[initial]))
    got = call_or_not_started(rnn_step, x_t, h_prev, *weights)
    expect_value(f"rnn_step(x_t (3, 2), h_prev (3, 4), random kernel (2, 4), recurrent_kernel (4, 4), "
                 f"bias (4,)) (off Keras' by {off(got, expected)})", got, expected, atol=1e-5,
                 concept="Keras multiplies the previous state on the left, h_prev @ recurrent_kernel "
                         "(not recurrent_kernel @ h_prev, not its transpose)")


@pytest.mark.task("rnn_forward")
def test_rnn_forward_returns_the_last_state_of_a_keras_simple_rnn():
    rng = np.random.default_rng(3)
    x_seq = rng.normal(size=(2, 5, 3))  # (batch, time, input_dim)
    weights = random_weights(rng, 3, 4)
    expected = np.asarray(keras_simple_rnn(weights)(x_seq))
    got = call_or_not_started(rnn_forward, x_seq, *weights)
    expect_value(f"rnn_forward(x_seq (2, 5, 3), kernel (3, 4), recurrent_kernel (4, 4), bias (4,)) "
                 f"(off Keras' by {off(got, expected)})", got, expected, atol=1e-5,
                 concept="keras.layers.SimpleRNN(4) returns the last state, (batch, units) = (2, 4): "
                         "start from zeros and feed each step's state into the next (fix rnn_step first)")


@pytest.mark.task("rnn_forward")
def test_rnn_forward_returns_every_state_with_return_sequences():
    rng = np.random.default_rng(4)
    x_seq = rng.normal(size=(2, 5, 3))
    weights = random_weights(rng, 3, 4)
    expected = np.asarray(keras_simple_rnn(weights, return_sequences=True)(x_seq))
    got = call_or_not_started(rnn_forward, x_seq, *weights, return_sequences=True)
    expect_value(f"rnn_forward(x_seq (2, 5, 3), ..., return_sequences=True) (off Keras' by "
                 f"{off(got, expected)})", got, expected, atol=1e-5,
                 concept="one state per time step, (batch, time, units) = (2, 5, 4): stack them along axis 1")


@pytest.mark.task("rnn_forward")
def test_rnn_forward_runs_a_single_sequence_without_a_batch_axis():
    rng = np.random.default_rng(5)
    x_seq = rng.normal(size=(6, 3))  # one sequence: (time, input_dim)
    weights = random_weights(rng, 3, 2)
    expected = np.asarray(keras_simple_rnn(weights, return_sequences=True)(x_seq[None]))[0]
    got = call_or_not_started(rnn_forward, x_seq, *weights, return_sequences=True)
    expect_value(f"rnn_forward(x_seq (6, 3), ..., return_sequences=True) (off Keras' by {off(got, expected)})",
                 got, expected, atol=1e-5,
                 concept="a single (time, input_dim) sequence is a batch of one: x_seq[None] runs like "
                         "the batched case, then drop the batch axis to return (time, units) = (6, 2)")


@pytest.mark.task("hidden_state_gradient_norms")
def test_gradient_norms_shrink_by_the_recurrent_scale_when_every_state_is_zero():
    # Zero inputs and bias keep every state at 0, where tanh' = 1: each step back multiplies the
    # gradient by recurrent_kernel.T = 0.5 * I, so the norm halves.
    got = call_or_not_started(hidden_state_gradient_norms, np.zeros((4, 2)), np.zeros((2, 3)),
                              0.5 * np.eye(3), np.zeros(3))
    expected = np.sqrt(3) * np.array([0.125, 0.25, 0.5, 1.0])
    expect_value("hidden_state_gradient_norms(zeros (4, 2), kernel 0, recurrent_kernel=0.5 * I, bias 0)",
                 got, expected, concept="the gradient of sum(h_T) with respect to h_T is ones (norm "
                                        "sqrt(3)); each step back multiplies it by 0.5: return the norms in "
                                        "time order, the last step last")


@pytest.mark.task("hidden_state_gradient_norms")
def test_gradient_norms_match_a_gradient_tape():
    keras = import_keras()
    rng = np.random.default_rng(6)
    x_seq = rng.normal(size=(6, 2))
    weights = random_weights(rng, 2, 3)
    cell = keras.layers.SimpleRNNCell(3, dtype="float64")
    cell.build((None, 2))
    cell.set_weights(list(weights))
    h, states = tf.zeros((1, 3), dtype=tf.float64), []
    with tf.GradientTape() as tape:
        tape.watch(h)
        for x_t in x_seq:
            _, (h,) = cell(tf.constant(x_t[None]), [h])
            states.append(h)
        total = tf.reduce_sum(states[-1])
    expected = np.array([float(tf.norm(g)) for g in tape.gradient(total, states)])
    got = call_or_not_started(hidden_state_gradient_norms, x_seq, *weights)
    expect_value("hidden_state_gradient_norms(x_seq (6, 2), random kernel (2, 3), recurrent_kernel (3, 3), "
                 f"bias (3,)) = {np.round(got, 4)}", got, expected, rtol=1e-6, atol=1e-9,
                 concept=f"a tf.GradientTape finds {np.round(expected, 4)}: one step back is "
                         "g_t = (g_{t+1} * (1 - h_{t+1}**2)) @ recurrent_kernel.T; did you keep the "
                         "1 - tanh^2 factor of the right step, and transpose the recurrent kernel?")
