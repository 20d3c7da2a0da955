# 13 · Joining branches: concatenate, add, stack: write your code at each TODO, then check it with `make feedback TOPIC=13_functional_merges`
# (`make watch` checks it on every save; `make reset TOPIC=13_functional_merges` starts over, keeping a copy).
"""Joining two branches of a Functional model: concatenate, add, or stack.

The Functional API builds a model as a graph of layers called on symbolic tensors, so a model
can have several inputs, each with its own branch, joined somewhere further on. Keras offers
three ways of joining:

- ``keras.layers.Concatenate()``: put the features side by side along the last axis;
- ``keras.layers.Add()``: add them element by element (they must have matching shapes, up to
  broadcasting);
- ``keras.ops.stack(tensors, axis=1)``: put them on top of one another, along a new axis.

A shape below never includes the batch axis: ``(4, 3)`` is a tensor of shape ``(batch, 4, 3)``.
"""

import keras
from keras import layers, ops


def merged_shape(shapes, merge):
    """The shape that joining inputs of the given ``shapes`` gives, without the batch axis.

    ``shapes`` is a list of two or more shape tuples (batch axis excluded), ``merge`` one of
    ``"concatenate"``, ``"add"`` or ``"stack"``. Return a tuple of ints, exactly what
    ``keras.layers.Concatenate()`` (along the last axis), ``keras.layers.Add()`` and
    ``keras.ops.stack(..., axis=1)`` give, and raise ``ValueError`` where Keras refuses:

    - concatenate: all shapes have the same rank and agree on every axis but the last, whose
      sizes add up;
    - add: the shapes broadcast like NumPy's, aligned on their last axis: a size-1 axis, or a
      missing leading axis, stretches to the other's size; any other difference is an error;
    - stack: all shapes are identical, and a new axis (axis 1 with the batch axis, so first
      here) counts the inputs.

    Work it out yourself: no TensorFlow or Keras in this function.

    >>> merged_shape([(4, 3), (4, 5)], "concatenate")
    (4, 8)
    >>> merged_shape([(4, 3), (1, 3)], "add")
    (4, 3)
    >>> merged_shape([(3,), (3,)], "stack")
    (2, 3)
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("merged_shape is not implemented yet")


def two_branch_model(a_dim, b_dim, units, merge):
    """A Functional model with two inputs, one Dense branch each, joined by ``merge``.

    Build it with the Functional API:

    - two inputs, ``keras.Input(shape=(a_dim,), name="a")`` and ``keras.Input(shape=(b_dim,),
      name="b")``; the model takes the list ``[a, b]``;
    - a ``Dense(units, activation="relu")`` branch on each, named ``"branch_a"`` and
      ``"branch_b"``;
    - the two branches joined by ``merge``: ``"concatenate"`` with ``layers.Concatenate()``,
      ``"add"`` with ``layers.Add()``, ``"stack"`` with ``ops.stack(..., axis=1)`` followed by
      ``layers.Flatten()`` (a Dense layer reads the last axis only);
    - a ``Dense(1)`` output named ``"output"``.

    Return the ``keras.Model``. The names let the grader set every weight by layer name.

    >>> model = two_branch_model(3, 4, 5, "concatenate")
    >>> [tensor.name for tensor in model.inputs], model.output.shape
    (['a', 'b'], (None, 1))
    >>> model.count_params()  # (3 + 1) * 5 + (4 + 1) * 5 + (10 + 1) * 1
    56
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("two_branch_model is not implemented yet")
