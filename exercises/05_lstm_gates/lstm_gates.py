# 05 · Inside an LSTM: the gates: write your code at each TODO, then check it with `make feedback TOPIC=05_lstm_gates`
# (`make watch` checks it on every save; `make reset TOPIC=05_lstm_gates` starts over, keeping a copy).
"""One LSTM step by hand, in NumPy, with the weights laid out exactly as Keras stores them.

``keras.layers.LSTM(units)`` on ``input_dim`` features holds three arrays, in the order
``layer.get_weights()`` returns them:

- ``kernel``, shape ``(input_dim, 4 * units)``: what each gate reads from the input ``x_t``;
- ``recurrent_kernel``, shape ``(units, 4 * units)``: what each gate reads from ``h_prev``;
- ``bias``, shape ``(4 * units,)``.

The last axis holds four blocks of ``units`` columns, one per gate, in the order **input,
forget, candidate, output** (``i, f, c, o``). Your functions must agree with Keras to 1e-5.
"""

import numpy as np


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, element by element: squashes into (0, 1)."""
    return 1.0 / (1.0 + np.exp(-x))


def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    """One time step of a Keras LSTM: return the pair ``(h_t, c_t)``.

    Shapes: ``x_t`` is ``(batch, input_dim)``; ``h_prev`` and ``c_prev`` are
    ``(batch, units)``; ``kernel``, ``recurrent_kernel`` and ``bias`` are in Keras' layout
    (see the module docstring). Every gate reads the input *and* the previous hidden state:
    ``z = x_t @ kernel + h_prev @ recurrent_kernel + bias``, then split ``z`` into its four
    blocks. The input, forget and output gates go through ``sigmoid``; the candidate through
    ``tanh``. The new cell state keeps what the forget gate lets through and adds what the
    input gate writes; the new hidden state is the output gate times ``tanh`` of the new cell.
    Return a tuple of two NumPy arrays, each ``(batch, units)``.

    >>> units = 2
    >>> h, c = lstm_step(np.zeros((1, 3)), np.zeros((1, units)), np.ones((1, units)),
    ...                  np.zeros((3, 4 * units)), np.zeros((units, 4 * units)), np.zeros(4 * units))
    >>> c  # every gate is sigmoid(0) = 0.5 and the candidate tanh(0) = 0: half the old cell stays
    array([[0.5, 0.5]])
    >>> h  # 0.5 * tanh(0.5)
    array([[0.23105858, 0.23105858]])
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("lstm_step is not implemented yet")


def lstm_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    """Run a Keras LSTM over a whole sequence, like ``keras.layers.LSTM(units)(x_seq)``.

    ``x_seq`` is ``(batch, time, input_dim)``; ``units`` is ``recurrent_kernel.shape[0]``.
    Start from zero hidden and cell states, apply ``lstm_step`` to each time step in order,
    and carry *both* states from one step to the next. Return the last hidden state,
    ``(batch, units)``, or with ``return_sequences=True`` the hidden state of every step,
    ``(batch, time, units)``.

    >>> x_seq = np.zeros((2, 7, 3))
    >>> lstm_forward(x_seq, np.zeros((3, 8)), np.zeros((2, 8)), np.zeros(8)).shape
    (2, 2)
    >>> lstm_forward(x_seq, np.zeros((3, 8)), np.zeros((2, 8)), np.zeros(8), return_sequences=True).shape
    (2, 7, 2)
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("lstm_forward is not implemented yet")
