# 06 · Grad-CAM: where did the model look?: write your code at each TODO, then check it with `make feedback TOPIC=06_grad_cam`
# (`make watch` checks it on every save; `make reset TOPIC=06_grad_cam` starts over, keeping a copy).
"""Grad-CAM: which part of the picture made the model say what it said?

A convolutional network keeps a map of *where* things are until its last convolution, then
pools it away to decide *what* it saw. Grad-CAM (Selvaraju et al., 2017) goes back from one
class score to that last map: the gradient says how much each channel mattered for the class,
and the channels, weighted that way and added up, show where the evidence lies.

The two helpers below are given: a tiny model whose weights are set by hand, so that you know
in advance where its evidence is, and a picture to show it.
"""

import keras
import numpy as np
import tensorflow as tf


def two_blob_model(size=8):
    """A tiny Functional CNN with hand-set weights, to try Grad-CAM on (given).

    Its input is a ``(size, size, 1)`` grey image. The conv layer ``"evidence"`` is a 1x1
    convolution with ReLU: channel 0 is the brightness above 0, ``relu(x)``, channel 1 the
    darkness below 0, ``relu(-x)``. Global average pooling and the Dense layer ``"scores"``
    (no activation, so the outputs are logits) give

        score 0 ("bright") = mean(relu(x)) - mean(relu(-x))
        score 1 ("dark")   = mean(relu(-x)) - mean(relu(x))

    So the evidence for class 0 is wherever the image is bright, for class 1 wherever it is dark.
    """
    inputs = keras.Input((size, size, 1))
    evidence = keras.layers.Conv2D(2, 1, activation="relu", name="evidence")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(evidence)
    scores = keras.layers.Dense(2, name="scores")(pooled)
    model = keras.Model(inputs, scores, name="two_blob_model")
    model.get_layer("evidence").set_weights([np.array([[[[1.0, -1.0]]]], "float32"), np.zeros(2, "float32")])
    model.get_layer("scores").set_weights([np.array([[1.0, -1.0], [-1.0, 1.0]], "float32"), np.zeros(2, "float32")])
    return model


def blob_image(size=8, bright=None, dark=None, background=0.0, bright_strength=1.0, dark_strength=1.0):
    """A batch of one ``(size, size, 1)`` image: 2x2 blobs on a flat background (given).

    ``bright`` and ``dark`` are the ``(row, column)`` of a blob's top-left pixel, or None for
    no blob; the bright blob has value ``+bright_strength``, the dark one ``-dark_strength``.

    >>> blob_image(4, bright=(0, 0))[0, :, :, 0]
    array([[1., 1., 0., 0.],
           [1., 1., 0., 0.],
           [0., 0., 0., 0.],
           [0., 0., 0., 0.]], dtype=float32)
    """
    image = np.full((1, size, size, 1), background, dtype="float32")
    for corner, value in ((bright, bright_strength), (dark, -dark_strength)):
        if corner is not None:
            row, column = corner
            image[0, row : row + 2, column : column + 2, 0] = value
    return image


def make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):
    """The Grad-CAM heatmap of one image for one class, as a 2-D NumPy array.

    ``img_array`` is a batch holding one image, shape ``(1, height, width, channels)``;
    ``model`` a Functional Keras model whose outputs are class scores (logits);
    ``last_conv_layer_name`` the name of the layer whose output the heatmap explains (usually
    the last convolution, or the activation right after it); ``pred_index`` the class to
    explain, or None for the class the model scores highest.

    1. Make a model that returns both that layer's output ``A`` (shape ``(1, h, w, k)``) and
       the class scores, and run it under a ``tf.GradientTape``.
    2. Take the gradient of the chosen class's score with respect to ``A``.
    3. Average the gradient over the batch and space: one weight per channel.
    4. Add up the channels of ``A[0]``, each times its weight: an ``(h, w)`` map.
    5. Keep only the positive part (ReLU), then divide by the maximum so that the hottest
       place is 1. When nothing is positive, return the zeros (never divide by zero).

    Return an ``np.ndarray`` of shape ``(h, w)``, the layer's spatial size.

    >>> image = blob_image(bright=(1, 1), dark=(5, 5))
    >>> heatmap = make_gradcam_heatmap(image, two_blob_model(), "evidence", pred_index=1)
    >>> heatmap.shape, float(heatmap[5, 5]), float(heatmap[1, 1])
    ((8, 8), 1.0, 0.0)
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("make_gradcam_heatmap is not implemented yet")
