# 08 · Automatic differentiation: by hand, by differences, by tape: write your code at each TODO, then check it with `make feedback TOPIC=08_autodiff`
# (`make watch` checks it on every save; `make reset TOPIC=08_autodiff` starts over, keeping a copy).
"""Derivatives three ways: by the chain rule, by finite differences, and by ``tf.GradientTape``.

Training a network needs the gradient of a loss with respect to every weight. You first compute
one by hand on a tiny graph, ``J = 3 * (a + b * c)``, the way backpropagation does it: forward
through the graph, then backward, multiplying local derivatives (the chain rule). Then you
estimate gradients numerically, which is slow and approximate but needs nothing but the
function. Last, you let TensorFlow do it: a ``tf.GradientTape`` records the operations while
``f`` runs and replays them backwards, exactly, for any function built from TensorFlow ops.

The functions ``f`` and ``g`` handed to the last four tasks are scalar functions of an array:
``f(x)`` returns one number. Those given to the tape tasks are built from TensorFlow-friendly
operations (``x * x``, ``tf.sin`` ...), so they work on tensors.
"""

import numpy as np
import tensorflow as tf


def backprop_by_hand(a, b, c):
    """``J = 3 * (a + b * c)`` and its three partial derivatives, by the chain rule, without TensorFlow.

    Name the intermediate values of the graph, ``u = b * c``, ``v = a + u``, ``J = 3 * v``,
    compute them forward, then go backward from ``dJ/dJ = 1``: each node's derivative is its
    parent's derivative times the local derivative of the parent with respect to it
    (``dJ/dv = 3``, ``dJ/du = dJ/dv * dv/du`` ...). Return a dict of four Python floats with the
    keys ``"J"``, ``"dJ_da"``, ``"dJ_db"`` and ``"dJ_dc"``.

    >>> backprop_by_hand(5.0, 3.0, 2.0)["J"]
    33.0
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("backprop_by_hand is not implemented yet")


def numerical_gradient(f, x, h=1e-4):
    """The gradient of a scalar function ``f`` at ``x`` by central differences, in NumPy only.

    ``x`` is a NumPy array of any shape (integers included). For every element ``x[i]``, nudge
    that element alone by ``+h`` and by ``-h`` and take ``(f(x + h e_i) - f(x - h e_i)) / (2 h)``.
    Return a float array of the shape of ``x``; leave the caller's ``x`` as it was. ``f`` is a
    black box that takes NumPy arrays: no TensorFlow here.

    >>> numerical_gradient(lambda x: np.sum(x ** 2), np.array([1.0, -2.0])).round(6)
    array([ 2., -4.])
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("numerical_gradient is not implemented yet")


def tape_gradient(f, x):
    """The gradient of the scalar ``f`` at ``x`` with ``tf.GradientTape``, as a NumPy array.

    Turn ``x`` (a NumPy array) into a constant tensor. A tape follows trainable variables on its
    own, but a constant only when told to: ``tape.watch`` it. Run ``f`` inside the tape's
    ``with`` block, ask the tape for the gradient, and return it as a NumPy array of the shape
    of ``x``.

    >>> tape_gradient(lambda x: tf.reduce_sum(x * x), np.array([1.0, -2.0]))
    array([ 2., -4.])
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("tape_gradient is not implemented yet")


def second_derivative(f, x):
    """``f''(x)`` at a scalar ``x`` with two nested tapes, as a Python float.

    The inner tape records ``f`` and gives ``f'(x)``; that computation itself must happen while
    the outer tape records, so that the outer tape can differentiate ``f'`` once more.

    >>> second_derivative(lambda x: x * x * x, 2.0)  # d2/dx2 x^3 = 6 x
    12.0
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("second_derivative is not implemented yet")


def persistent_gradients(f, g, x):
    """The gradients of two scalar functions at the same ``x``, from ONE persistent tape.

    An ordinary tape frees what it recorded after its first ``gradient`` call. Made with
    ``persistent=True`` it can answer several: record ``f(x)`` and ``g(x)`` under one tape,
    then ask it twice. Return the pair ``(df/dx, dg/dx)`` of NumPy arrays, each of the shape
    of ``x``.

    >>> df, dg = persistent_gradients(lambda x: tf.reduce_sum(x * x), lambda x: tf.reduce_sum(3 * x),
    ...                               np.array([1.0, 2.0]))
    >>> df, dg
    (array([2., 4.]), array([3., 3.]))
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("persistent_gradients is not implemented yet")
