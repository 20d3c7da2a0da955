# 12 · A simple RNN and its vanishing gradients: write your code at each TODO, then check it with `make feedback TOPIC=12_simple_rnn`
# (`make watch` checks it on every save; `make reset TOPIC=12_simple_rnn` starts over, keeping a copy).
"""A simple RNN by hand, in NumPy, with the weights laid out exactly as Keras stores them.

``keras.layers.SimpleRNN(units)`` on ``input_dim`` features holds three arrays, in the order
``layer.get_weights()`` returns them:

- ``kernel``, shape ``(input_dim, units)``: what the new state reads from the input ``x_t``;
- ``recurrent_kernel``, shape ``(units, units)``: what it reads from the previous state ``h_prev``;
- ``bias``, shape ``(units,)``.

Rows hold what is read, columns what is written: ``x_t @ kernel`` and ``h_prev @
recurrent_kernel`` (the input on the left). The activation is ``tanh``. Your functions must
agree with Keras to 1e-5, and use NumPy only: no TensorFlow or Keras in this module.
"""

import numpy as np


def rnn_step(x_t, h_prev, kernel, recurrent_kernel, bias):
    """One time step of a Keras SimpleRNN: return the new hidden state ``h_t``.

    Shapes: ``x_t`` is ``(batch, input_dim)``, ``h_prev`` is ``(batch, units)``, the weights
    are in Keras' layout (see the module docstring). The new state reads the input *and* the
    previous state, adds the bias once, and squashes the sum with ``tanh``:
    ``h_t = tanh(x_t @ kernel + h_prev @ recurrent_kernel + bias)``. Return one NumPy array,
    ``(batch, units)``.

    >>> h = rnn_step(np.ones((1, 2)), np.zeros((1, 3)), np.full((2, 3), 0.25), np.eye(3), np.zeros(3))
    >>> h  # tanh(1 * 0.25 + 1 * 0.25) = tanh(0.5)
    array([[0.46211716, 0.46211716, 0.46211716]])
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("rnn_step is not implemented yet")


def rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    """Run a Keras SimpleRNN over a sequence, like ``keras.layers.SimpleRNN(units)(x_seq)``.

    ``x_seq`` is a batch of sequences, ``(batch, time, input_dim)``, or a single sequence,
    ``(time, input_dim)``; ``units`` is ``recurrent_kernel.shape[0]``. Start from a zero
    state, apply ``rnn_step`` to each time step in order and carry the state from one step to
    the next. Return the last state, ``(batch, units)``, or with ``return_sequences=True`` the
    state after every step, ``(batch, time, units)``. A single sequence gives the same without
    the batch axis: ``(units,)``, or ``(time, units)``.

    >>> kernel, recurrent_kernel, bias = np.zeros((3, 2)), np.zeros((2, 2)), np.zeros(2)
    >>> rnn_forward(np.zeros((4, 7, 3)), kernel, recurrent_kernel, bias).shape
    (4, 2)
    >>> rnn_forward(np.zeros((4, 7, 3)), kernel, recurrent_kernel, bias, return_sequences=True).shape
    (4, 7, 2)
    >>> rnn_forward(np.zeros((7, 3)), kernel, recurrent_kernel, bias, return_sequences=True).shape
    (7, 2)
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("rnn_forward is not implemented yet")


def hidden_state_gradient_norms(x_seq, kernel, recurrent_kernel, bias):
    """How strongly the last state depends on each earlier state: ``|d sum(h_T) / d h_t|``.

    ``x_seq`` is one sequence, ``(time, input_dim)``. Run the RNN forward from a zero state,
    keeping every state ``h_0, ..., h_{T-1}`` (``h_t`` is the state after reading ``x_t``).
    Then backpropagate *by hand* the gradient of ``sum(h_{T-1})``, the sum of the last state:
    it is all ones with respect to the last state itself, and one step back it goes through
    the step ``h_{t+1} = tanh(z_{t+1})``, ``z_{t+1} = x_{t+1} @ kernel + h_t @ recurrent_kernel
    + bias``, so that (with ``g_t`` the gradient with respect to ``h_t``, a ``(units,)`` vector)

        g_t = (g_{t+1} * (1 - h_{t+1} ** 2)) @ recurrent_kernel.T

    Return the Euclidean norm of every ``g_t``, as an array of shape ``(time,)`` in time order:
    the last entry is ``sqrt(units)``. No TensorFlow here: the grader checks your numbers with
    a ``tf.GradientTape``.

    >>> units = 4
    >>> kernel, recurrent_kernel, bias = np.zeros((2, units)), 0.5 * np.eye(units), np.zeros(units)
    >>> norms = hidden_state_gradient_norms(np.zeros((5, 2)), kernel, recurrent_kernel, bias)
    >>> norms  # every state is 0, tanh' = 1, and each step back multiplies the gradient by 0.5
    array([0.125, 0.25 , 0.5  , 1.   , 2.   ])
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("hidden_state_gradient_norms is not implemented yet")
