# 10 · Softmax and cross-entropy from logits: write your code at each TODO, then check it with `make feedback TOPIC=10_softmax_cross_entropy`
# (`make watch` checks it on every save; `make reset TOPIC=10_softmax_cross_entropy` starts over, keeping a copy).
"""Softmax and cross-entropy from logits, in NumPy, numerically stable.

A classifier's last Dense layer outputs **logits**: any real numbers, one per class. Softmax
turns them into probabilities; cross-entropy scores those probabilities against the true
labels. Keras computes both *from the logits* (``from_logits=True``) because the naive
formulas overflow or take ``log(0)`` once a logit is large: ``np.exp(1000.0)`` is ``inf``.

Every function here must stay finite for logits like ``1000`` or ``-1000`` and agree with
Keras (``keras.ops.softmax``, ``keras.ops.log_softmax``,
``keras.losses.sparse_categorical_crossentropy(..., from_logits=True)`` and
``keras.ops.binary_crossentropy(..., from_logits=True)``). Write them with NumPy only.
"""

import numpy as np


def softmax(logits, axis=-1):
    """Softmax of ``logits`` along ``axis``: non-negative numbers that sum to 1 along that axis.

    ``softmax(z)_i = exp(z_i) / sum_j exp(z_j)``. Softmax does not change when the same number
    is subtracted from every logit along the axis, so subtract the largest one first: then no
    ``exp`` overflows, and the largest term is ``exp(0) = 1``, so the sum is never 0. Return a
    NumPy array of the same shape as ``logits``.

    >>> softmax(np.array([1000.0, 1000.0, -1000.0]))
    array([0.5, 0.5, 0. ])
    >>> softmax(np.array([[0.0, 0.0], [1.0, 3.0]]), axis=0)
    array([[0.26894142, 0.04742587],
           [0.73105858, 0.95257413]])
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("softmax is not implemented yet")


def log_softmax(logits, axis=-1):
    """The logarithm of ``softmax(logits, axis)``, computed without taking ``log`` of a softmax.

    ``log softmax(z)_i = z_i - log(sum_j exp(z_j))``. The second term is the "log-sum-exp";
    compute it stably with the largest logit ``m`` taken out:
    ``log(sum_j exp(z_j)) = m + log(sum_j exp(z_j - m))``. ``np.log(softmax(z))`` is not good
    enough: a probability that underflows to 0 becomes ``-inf``, where the answer is a finite
    number like ``-2000``. Return a NumPy array of the same shape as ``logits``.

    >>> log_softmax(np.array([1000.0, 0.0, -1000.0]))
    array([    0., -1000., -2000.])
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("log_softmax is not implemented yet")


def sparse_categorical_crossentropy(labels, logits):
    """One cross-entropy loss per example, like Keras' with ``from_logits=True``.

    ``logits`` is ``(batch, classes)``; ``labels`` holds one integer class index per example,
    shaped ``(batch,)`` or ``(batch, 1)`` (Keras accepts both). The loss of an example is
    ``-log softmax(logits)[label]``: minus the log-probability the model gives the right class.
    Return a NumPy array of shape ``(batch,)``: one loss per example, not their mean.

    >>> sparse_categorical_crossentropy(np.array([0, 1]), np.array([[2.0, 2.0], [50.0, 0.0]]))
    array([ 0.69314718, 50.        ])
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("sparse_categorical_crossentropy is not implemented yet")


def binary_crossentropy_with_logits(labels, logits):
    """Binary cross-entropy of each logit against its label, element by element, stable.

    With ``p = sigmoid(z)`` the loss is ``-y * log(p) - (1 - y) * log(1 - p)``; labels ``y`` may
    be 0, 1 or anything in between. Written that way it breaks for large ``|z|``: ``sigmoid(40)``
    rounds to exactly 1 and ``log(1 - 1)`` is ``-inf``. Rewrite it in ``z`` alone; the form
    ``max(z, 0) - z * y + log(1 + exp(-|z|))`` never overflows (``np.log1p`` helps). Return a
    NumPy array of the same shape as ``logits``, one loss per element, like
    ``keras.ops.binary_crossentropy(labels, logits, from_logits=True)`` (no mean).

    >>> binary_crossentropy_with_logits(np.array([1.0, 0.0, 0.0]), np.array([-40.0, 40.0, 0.0]))
    array([40.        , 40.        ,  0.69314718])
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("binary_crossentropy_with_logits is not implemented yet")
