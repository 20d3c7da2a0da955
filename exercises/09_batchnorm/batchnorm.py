# 09 · Batch normalization: training and inference: write your code at each TODO, then check it with `make feedback TOPIC=09_batchnorm`
# (`make watch` checks it on every save; `make reset TOPIC=09_batchnorm` starts over, keeping a copy).
"""Batch normalization by hand, in NumPy, equal to ``keras.layers.BatchNormalization``.

``x`` is a batch of shape ``(batch, features)``; every statistic is per feature (per column).
The layer holds four arrays of shape ``(features,)``: the trainable ``gamma`` (scale) and
``beta`` (offset), and the non-trainable ``moving_mean`` and ``moving_variance``, running
averages that training updates and inference uses. Your function must agree with Keras to 1e-5
in both modes, including the moving statistics it returns.
"""

import numpy as np


def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    """One call of a BatchNormalization layer: return ``(y, new_moving_mean, new_moving_variance)``.

    In training (``training=True``): normalize every feature with the mean and the variance of
    this batch, ``x_hat = (x - mean) / sqrt(variance + epsilon)``, then ``y = gamma * x_hat +
    beta``; and move the running statistics towards the batch's:
    ``moving = momentum * moving + (1 - momentum) * batch_statistic``. Like Keras 3, use the
    *biased* variance (divide by ``batch``, ``x.var(axis=0)``) in both places.

    In inference (``training=False``): normalize with ``moving_mean`` and ``moving_variance``
    instead, and return them unchanged: inference learns nothing.

    ``y`` has the shape of ``x``; the two moving statistics are ``(features,)`` arrays. NumPy
    only.

    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> y, mean, variance = batchnorm_forward(x, np.ones(2), np.zeros(2), np.zeros(2), np.ones(2),
    ...                                      training=True, momentum=0.5, epsilon=0.0)
    >>> y
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> mean  # halfway from 0 to the batch means [2, 20]
    array([ 1., 10.])
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("batchnorm_forward is not implemented yet")
