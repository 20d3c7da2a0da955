# 02 · Convolution shapes: write your code at each TODO, then check it with `make feedback TOPIC=02_conv_shapes`
# (`make watch` checks it on every save; `make reset TOPIC=02_conv_shapes` starts over, keeping a copy).
"""The shapes that flow through a convolutional network, computed by hand.

Shapes are channels_last and leave out the batch axis: an MNIST image is ``(28, 28, 1)``,
``(height, width, channels)``. Every answer here can be checked with Keras itself:
``keras.layers.Conv2D(32, 5).compute_output_shape((None, 28, 28, 1))`` gives
``(None, 24, 24, 32)``.
"""

import math


def as_pair(value):
    """``3 -> (3, 3)``, ``(3, 5) -> (3, 5)``: Keras takes an int or a pair for sizes and strides."""
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    """Output shape of ``keras.layers.Conv2D(filters, kernel_size, strides, padding, dilation_rate=...)``.

    ``input_shape`` is ``(height, width, channels)``. ``kernel_size``, ``strides`` and
    ``dilation_rate`` are each an int or a pair ``(along height, along width)``; ``padding`` is
    ``"valid"`` or ``"same"``. Along each axis of size ``n``, with kernel ``k``, stride ``s`` and
    dilation ``d``:

    - ``"valid"``: the window only visits positions where it fits entirely, and a dilated
      window spans ``d * (k - 1) + 1`` pixels: ``floor((n - d * (k - 1) - 1) / s) + 1``;
    - ``"same"``: zeros are added around the border so that ``ceil(n / s)`` positions remain,
      whatever ``k`` and ``d``.

    Each filter gives one output channel. Return a tuple of three ints
    ``(out_height, out_width, filters)``. Raise ``ValueError`` when an output size would be
    zero or negative (the window does not fit in the input). Keras refuses ``strides > 1``
    together with ``dilation_rate > 1``; you need not handle that case.

    >>> conv2d_output_shape((28, 28, 1), 32, 5)
    (24, 24, 32)
    >>> conv2d_output_shape((28, 28, 1), 32, 3, strides=2, padding="same")
    (14, 14, 32)
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("conv2d_output_shape is not implemented yet")


def pool2d_output_shape(input_shape, pool_size=2, strides=None, padding="valid"):
    """Output shape of ``keras.layers.MaxPooling2D(pool_size, strides, padding)``.

    ``input_shape`` is ``(height, width, channels)``; ``pool_size`` and ``strides`` are each an
    int or a pair. As in Keras, ``strides=None`` means "the same as ``pool_size``": the windows
    tile the image without overlapping. The sizes follow the rules of
    :func:`conv2d_output_shape` with no dilation. Pooling works on each channel on its own.
    Return a tuple of three ints; raise ``ValueError`` when the window does not fit.

    >>> pool2d_output_shape((24, 24, 32))
    (12, 12, 32)
    >>> pool2d_output_shape((7, 7, 8), 3, strides=2, padding="same")
    (4, 4, 8)
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("pool2d_output_shape is not implemented yet")


def cnn_shape_walk(input_shape, layers):
    """The output shape after each layer of a small CNN, walked from ``input_shape``.

    ``layers`` is a list of plain dicts, one per layer, in order. ``"type"`` says which layer;
    the other keys are that Keras layer's own arguments, defaults included:

    - ``{"type": "conv", "filters": 32, "kernel_size": 5}``: ``Conv2D``; may also hold
      ``strides``, ``padding`` and ``dilation_rate``;
    - ``{"type": "pool"}`` or ``{"type": "pool", "pool_size": 2, "strides": 2, "padding": "same"}``:
      ``MaxPooling2D``;
    - ``{"type": "flatten"}``: ``Flatten``, every value in one axis: a 1-tuple;
    - ``{"type": "dense", "units": 10}``: ``Dense``, which replaces the last axis by ``units``.

    Each layer reads the shape the previous one produced. Return a list with one tuple of ints
    per layer (not including ``input_shape``). A layer whose window does not fit raises
    ``ValueError``, and so does an unknown ``"type"``.

    >>> cnn_shape_walk((28, 28, 1), [
    ...     {"type": "conv", "filters": 32, "kernel_size": 5},
    ...     {"type": "pool", "pool_size": 2},
    ...     {"type": "flatten"},
    ... ])
    [(24, 24, 32), (12, 12, 32), (4608,)]
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("cnn_shape_walk is not implemented yet")
