"""Counting the parameters of Keras layers by hand.

Every number here can be checked with ``layer.count_params()``; the point is to know where
each one comes from, so that a model summary never surprises you.
"""


def as_pair(value):
    """``3 -> (3, 3)``, ``(3, 5) -> (3, 5)``: Keras takes an int or a pair for a kernel size."""
    return (value, value) if isinstance(value, int) else tuple(value)


def dense_params(input_dim, units, use_bias=True):
    """Parameters of ``keras.layers.Dense(units, use_bias=use_bias)`` on ``input_dim`` features.

    The layer holds a kernel of shape ``(input_dim, units)`` and, when ``use_bias`` is True,
    one bias per unit. Return an ``int``.

    >>> dense_params(784, 10)
    7850
    """
    ### BEGIN SOLUTION
    return input_dim * units + (units if use_bias else 0)
    ### END SOLUTION


def conv2d_params(in_channels, filters, kernel_size, use_bias=True):
    """Parameters of ``keras.layers.Conv2D(filters, kernel_size, use_bias=use_bias)``.

    The input has ``in_channels`` channels; ``kernel_size`` is an int or a pair
    ``(height, width)``. Each filter sees every input channel through a
    ``height x width`` window, and has one bias when ``use_bias`` is True. Strides, padding
    and dilation do not change the count. Return an ``int``.

    >>> conv2d_params(3, 16, 3)
    448
    """
    ### BEGIN SOLUTION
    height, width = as_pair(kernel_size)
    return height * width * in_channels * filters + (filters if use_bias else 0)
    ### END SOLUTION


def lstm_params(input_dim, units, use_bias=True):
    """Parameters of ``keras.layers.LSTM(units, use_bias=use_bias)`` on ``input_dim`` features.

    An LSTM has four gates (input, forget, candidate, output). Each gate reads the current
    input *and* the previous hidden state, and has its own bias. Return an ``int``.

    >>> lstm_params(10, 20)
    2480
    """
    ### BEGIN SOLUTION
    per_gate = units * (input_dim + units) + (units if use_bias else 0)
    return 4 * per_gate
    ### END SOLUTION


def batchnorm_params(features):
    """Parameters of ``keras.layers.BatchNormalization()`` over ``features`` channels.

    Return a pair of ints ``(trainable, non_trainable)``: the scale ``gamma`` and offset
    ``beta`` are learned by gradient descent; the moving mean and moving variance are updated
    during training but not by gradients.

    >>> batchnorm_params(64)
    (128, 128)
    """
    ### BEGIN SOLUTION
    return 2 * features, 2 * features
    ### END SOLUTION
