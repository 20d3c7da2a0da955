# The visible checks of 05 · Inside an LSTM: the gates (`make feedback TOPIC=05_lstm_gates` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for the LSTM gates. Run them with `pytest exercises/05_lstm_gates`."""

import inspect

import numpy as np
import pytest

from grimoire.quiet import import_keras
from grimoire.teach import Mismatch, call_or_not_started, expect_value
from lstm_gates import lstm_forward, lstm_step


@pytest.mark.task("lstm_step")
def test_the_gates_are_yours_without_tensorflow_or_keras():
    """The rule of this topic, checked in your code: no TensorFlow or Keras, however imported."""
    units = 2
    call_or_not_started(lstm_step, np.ones((1, 3)), np.zeros((1, units)), np.zeros((1, units)),
                        np.zeros((3, 4 * units)), np.zeros((units, 4 * units)), np.zeros(4 * units))

    def names(code):  # the names and strings a function's code uses, nested functions included
        found = set(code.co_names)
        for constant in code.co_consts:
            if inspect.iscode(constant):
                found |= names(constant)
            elif isinstance(constant, str):
                found.add(constant)
        return found

    for name in ("lstm_step", "lstm_forward"):
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
                           "module, however imported (import, importlib, __import__, sys.modules): the "
                           "point of this topic is to write the gates yourself in NumPy, and the grader "
                           "gives no point to a function that asks Keras")


@pytest.mark.task("lstm_step")
def test_lstm_step_returns_the_new_hidden_and_cell_states_as_a_pair():
    units = 4
    got = call_or_not_started(lstm_step, np.ones((2, 3)), np.zeros((2, units)), np.zeros((2, units)),
                              np.zeros((3, 4 * units)), np.zeros((units, 4 * units)), np.zeros(4 * units))
    shapes = tuple(np.shape(part) for part in got) if type(got) is tuple else type(got).__name__
    expect_value("lstm_step(x_t (2, 3), h_prev (2, 4), c_prev (2, 4), ...) as shapes", shapes, ((2, 4), (2, 4)),
                 concept="return a tuple (h_t, c_t): the hidden state and the cell state, each (batch, units)")


@pytest.mark.task("lstm_step")
def test_a_half_open_forget_gate_keeps_half_of_the_old_cell():
    # Zero weights and zero bias: every gate is sigmoid(0) = 0.5 and the candidate is tanh(0) = 0.
    units = 3
    got = call_or_not_started(lstm_step, np.ones((1, 2)), np.ones((1, units)), np.array([[1.0, -2.0, 4.0]]),
                              np.zeros((2, 4 * units)), np.zeros((units, 4 * units)), np.zeros(4 * units))
    call = "lstm_step(x_t, h_prev, c_prev=[[1, -2, 4]], all weights and biases 0)"
    expect_value(f"type({call})", type(got).__name__, "tuple", concept="return the pair (h_t, c_t)")
    h_t, c_t = got
    expect_value(f"{call}[1] (c_t = {np.round(c_t, 4).tolist()})", c_t, np.array([[0.5, -1.0, 2.0]]),
                 concept="c_t = f * c_prev + i * g = 0.5 * [[1, -2, 4]] + 0.5 * tanh(0) = [[0.5, -1, 2]]: "
                         "the forget gate scales the old cell, the input gate adds the candidate "
                         "(and lstm_step returns h_t first, c_t second)")
    expect_value(f"{call}[0] (h_t = {np.round(h_t, 4).tolist()})", h_t, 0.5 * np.tanh([[0.5, -1.0, 2.0]]),
                 concept="h_t = o * tanh(c_t) = 0.5 * tanh([[0.5, -1, 2]]): did you forget the tanh?")


@pytest.mark.task("lstm_step")
def test_the_bias_blocks_follow_keras_gate_order_input_forget_candidate_output():
    # Only the bias speaks: the input gate opens (+20), the forget gate shuts (-20), the candidate
    # is tanh(atanh(0.5)) = 0.5 and the output gate opens (+20). The old cell [[3, -3]] is erased.
    units = 2
    bias = np.repeat([20.0, -20.0, np.arctanh(0.5), 20.0], units)
    got = call_or_not_started(lstm_step, np.ones((1, 3)), np.ones((1, units)), np.array([[3.0, -3.0]]),
                              np.zeros((3, 4 * units)), np.zeros((units, 4 * units)), bias)
    call = "lstm_step(..., c_prev=[[3, -3]], kernels 0, bias blocks [+20 | -20 | atanh(0.5) | +20])"
    expect_value(f"type({call})", type(got).__name__, "tuple", concept="return the pair (h_t, c_t)")
    h_t, c_t = got
    expect_value(f"{call}[1] (c_t = {np.round(c_t, 4).tolist()})", c_t, np.array([[0.5, 0.5]]), atol=1e-5,
                 concept="Keras' blocks are input, forget, candidate, output: i = 1 writes, f = 0 erases, so "
                         "c_t = 0 * c_prev + 1 * 0.5. Is your gate order i, f, c, o, are the gates sigmoids, "
                         "and is the bias added exactly once?")
    expect_value(f"{call}[0] (h_t = {np.round(h_t, 4).tolist()})", h_t, np.tanh([[0.5, 0.5]]), atol=1e-5,
                 concept="the output gate is the fourth block: o = 1, so h_t = tanh(c_t) = tanh(0.5)")


@pytest.mark.task("lstm_step")
def test_lstm_step_matches_a_keras_lstm_on_random_weights():
    keras = import_keras()
    rng = np.random.default_rng(5)
    x_t, h_prev, c_prev = (rng.normal(size=(2, n)).astype("float32") for n in (3, 4, 4))
    weights = [rng.normal(size=shape).astype("float32") for shape in ((3, 16), (4, 16), (16,))]
    layer = keras.layers.LSTM(4, return_state=True)  # run for one time step, from (h_prev, c_prev)
    layer.build((None, 1, 3))
    layer.set_weights(weights)
    _, keras_h, keras_c = (np.asarray(out) for out in layer(x_t[:, None, :], initial_state=[h_prev, c_prev]))
    got = call_or_not_started(lstm_step, x_t, h_prev, c_prev, *weights)
    call = "lstm_step(x_t (2, 3), h_prev (2, 4), c_prev (2, 4), random kernel, recurrent_kernel, bias)"
    expect_value(f"type({call})", type(got).__name__, "tuple", concept="return the pair (h_t, c_t)")
    h_t, c_t = got

    def off(mine, keras_answer):
        same_shape = np.shape(mine) == keras_answer.shape
        return f"{np.abs(mine - keras_answer).max():.3g}" if same_shape else "?"

    expect_value(f"{call}[1] (c_t, off Keras' by {off(c_t, keras_c)})", c_t, keras_c, atol=1e-5,
                 concept="every gate reads x_t @ kernel + h_prev @ recurrent_kernel + bias, cut into blocks "
                         "i, f, c, o: did you use both kernels, x_t and h_prev, and Keras' gate order?")
    expect_value(f"{call}[0] (h_t, off Keras' by {off(h_t, keras_h)})", h_t, keras_h, atol=1e-5,
                 concept="h_t = o * tanh(c_t) with o = sigmoid of the fourth block")


@pytest.mark.task("lstm_forward")
def test_lstm_forward_returns_the_last_hidden_state_of_a_keras_lstm():
    keras = import_keras()
    rng = np.random.default_rng(7)
    x_seq = rng.normal(size=(2, 5, 3)).astype("float32")  # (batch, time, input_dim)
    weights = [rng.normal(size=shape).astype("float32") for shape in ((3, 16), (4, 16), (16,))]
    layer = keras.layers.LSTM(4)
    layer.build((None, 5, 3))
    layer.set_weights(weights)
    expected = np.asarray(layer(x_seq))
    got = call_or_not_started(lstm_forward, x_seq, *weights)
    off = f"{np.abs(got - expected).max():.3g}" if np.shape(got) == expected.shape else "?"
    expect_value(f"lstm_forward(x_seq (2, 5, 3), kernel (3, 16), recurrent_kernel (4, 16), bias (16,)) "
                 f"(off Keras' by {off})", got, expected, atol=1e-5,
                 concept="keras.layers.LSTM(4) returns the last hidden state, (batch, units) = (2, 4); start "
                         "from zero states and carry both h and c from step to step (fix lstm_step first)")


@pytest.mark.task("lstm_forward")
def test_lstm_forward_returns_every_hidden_state_with_return_sequences():
    keras = import_keras()
    rng = np.random.default_rng(11)
    x_seq = rng.normal(size=(2, 5, 3)).astype("float32")
    weights = [rng.normal(size=shape).astype("float32") for shape in ((3, 16), (4, 16), (16,))]
    layer = keras.layers.LSTM(4, return_sequences=True)
    layer.build((None, 5, 3))
    layer.set_weights(weights)
    expected = np.asarray(layer(x_seq))
    got = call_or_not_started(lstm_forward, x_seq, *weights, return_sequences=True)
    off = f"{np.abs(got - expected).max():.3g}" if np.shape(got) == expected.shape else "?"
    expect_value(f"lstm_forward(x_seq (2, 5, 3), ..., return_sequences=True) (off Keras' by {off})",
                 got, expected, atol=1e-5,
                 concept="one hidden state per time step, (batch, time, units) = (2, 5, 4) like "
                         "keras.layers.LSTM(4, return_sequences=True): stack them along axis 1")
