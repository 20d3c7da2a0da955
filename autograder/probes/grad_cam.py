"""Probes for 06_grad_cam: build a model from plain data, ask the learner for its heatmap.

A model cannot cross the process boundary, so the hidden checks send a spec (sizes and a seed)
and the probe builds the model here; the check builds the very same model in the grader
(:func:`random_cnn` and :func:`two_blob_model` are shared) for its oracle. Weights come from a
NumPy generator seeded by the spec, never from Keras' global seed, so both sides agree exactly.
"""

from __future__ import annotations

# The layer names of a random CNN, in order; checks explain CONV_OUTPUT or CONV_PRE_ACTIVATION.
FIRST_CONV = "conv_1"
CONV_PRE_ACTIVATION = "conv_2"
CONV_OUTPUT = "conv_2_relu"


def random_cnn(spec: dict):
    """A small Functional CNN with seeded weights.

    ``spec``: ``seed``, ``height``, ``width``, ``channels``, ``filters`` (two ints), ``head``
    (``"gap"`` or ``"flatten"``), ``classes``. Layers: conv_1 (3x3, same, ReLU) -> pool_1 (2x2)
    -> conv_2 (3x3, valid, linear) -> conv_2_relu -> head -> logits (Dense, no activation).
    """
    import keras
    import numpy as np

    first, second = spec["filters"]
    inputs = keras.Input((spec["height"], spec["width"], spec["channels"]), name="image")
    x = keras.layers.Conv2D(first, 3, padding="same", activation="relu", name=FIRST_CONV)(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool_1")(x)
    x = keras.layers.Conv2D(second, 3, name=CONV_PRE_ACTIVATION)(x)
    x = keras.layers.Activation("relu", name=CONV_OUTPUT)(x)
    if spec["head"] == "gap":
        x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(spec["classes"], name="logits")(x)
    model = keras.Model(inputs, outputs, name="random_cnn")

    rng = np.random.default_rng(spec["seed"])
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        kernel, bias = weights
        fan_in = int(np.prod(kernel.shape[:-1]))
        layer.set_weights([
            rng.normal(0.0, np.sqrt(2.0 / fan_in), kernel.shape).astype("float32"),
            rng.normal(0.0, 0.1, bias.shape).astype("float32"),
        ])
    return model


def two_blob_model(size: int):
    """Input (size, size, 1) -> 1x1 conv "evidence" [+1, -1] with ReLU -> GAP -> Dense "scores".

    Score 0 = mean(relu(x)) - mean(relu(-x)), score 1 = the opposite: the evidence for class 0
    is where the image is bright, for class 1 where it is dark.
    """
    import keras
    import numpy as np

    inputs = keras.Input((size, size, 1), name="image")
    evidence = keras.layers.Conv2D(2, 1, activation="relu", name="evidence")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(evidence)
    scores = keras.layers.Dense(2, name="scores")(pooled)
    model = keras.Model(inputs, scores, name="two_blob_model")
    model.get_layer("evidence").set_weights(
        [np.array([[[[1.0, -1.0]]]], "float32"), np.zeros(2, "float32")])
    model.get_layer("scores").set_weights(
        [np.array([[1.0, -1.0], [-1.0, 1.0]], "float32"), np.zeros(2, "float32")])
    return model


def _heatmaps(module, model, cases):
    results = []
    for image, layer_name, pred_index in cases:
        if pred_index is None:  # the default must mean "the top class"
            results.append(module.make_gradcam_heatmap(image, model, layer_name))
        else:
            results.append(module.make_gradcam_heatmap(image, model, layer_name, pred_index=pred_index))
    return results


def random_cnn_heatmaps(module, spec, cases):
    """The learner's heatmaps on one random CNN; ``cases``: [(image, layer name, pred_index)]."""
    return _heatmaps(module, random_cnn(spec), cases)


def two_blob_heatmaps(module, size, cases):
    """The learner's heatmaps on the hand-set two-blob model; ``cases`` as above."""
    return _heatmaps(module, two_blob_model(size), cases)
