# 01 · Counting parameters: write your code at each TODO, then check it with `make feedback TOPIC=01_parameter_counting`
# (`make watch` checks it on every save; `make reset TOPIC=01_parameter_counting` starts over, keeping a copy).
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
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("dense_params is not implemented yet")


def conv2d_params(in_channels, filters, kernel_size, use_bias=True):
    """Parameters of ``keras.layers.Conv2D(filters, kernel_size, use_bias=use_bias)``.

    The input has ``in_channels`` channels; ``kernel_size`` is an int or a pair
    ``(height, width)``. Each filter sees every input channel through a
    ``height x width`` window, and has one bias when ``use_bias`` is True. Strides, padding
    and dilation do not change the count. Return an ``int``.

    >>> conv2d_params(3, 16, 3)
    448
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("conv2d_params is not implemented yet")


def lstm_params(input_dim, units, use_bias=True):
    """Parameters of ``keras.layers.LSTM(units, use_bias=use_bias)`` on ``input_dim`` features.

    An LSTM has four gates (input, forget, candidate, output). Each gate reads the current
    input *and* the previous hidden state, and has its own bias. Return an ``int``.

    >>> lstm_params(10, 20)
    2480
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("lstm_params is not implemented yet")


def batchnorm_params(features):
    """Parameters of ``keras.layers.BatchNormalization()`` over ``features`` channels.

    Return a pair of ints ``(trainable, non_trainable)``: the scale ``gamma`` and offset
    ``beta`` are learned by gradient descent; the moving mean and moving variance are updated
    during training but not by gradients.

    >>> batchnorm_params(64)
    (128, 128)
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("batchnorm_params is not implemented yet")
