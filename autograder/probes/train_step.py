"""Probes for 04_train_step: fit and evaluate the learner's ``CustomFitModel`` in the child.

The grader builds the very same model with ``keras.Model`` (same ``kind``, same seed: identical
weights) and lets the built-in ``fit`` / ``evaluate`` produce the expected weights and history.
The builders below are shared by both sides, so the two models cannot drift apart.
"""

from __future__ import annotations

import contextlib

KINDS = ("regression", "dropout_batchnorm", "regularized")


@contextlib.contextmanager
def graph_errors(where: str):
    """NumPy on a graph tensor raises NotImplementedError, which would read as "not started"."""
    try:
        yield
    except NotImplementedError as error:
        if "symbolic" not in str(error):
            raise
        raise TypeError(f"inside {where}, NumPy was handed a graph tensor ({error}); train_step "
                        "runs in a compiled graph: use TensorFlow or keras.ops there") from None


def build(kind: str, model_class, seed: int, features: int):
    """A functional model of the given kind, identical for the same seed."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((features,))
    if kind == "regression":
        hidden = keras.layers.Dense(8, activation="relu")(inputs)
        outputs = keras.layers.Dense(1)(hidden)
    elif kind == "dropout_batchnorm":
        hidden = keras.layers.Dense(12, activation="relu")(inputs)
        hidden = keras.layers.BatchNormalization()(hidden)
        hidden = keras.layers.Dropout(0.3)(hidden)
        outputs = keras.layers.Dense(3, activation="softmax")(hidden)
    elif kind == "regularized":
        hidden = keras.layers.Dense(8, activation="tanh",
                                    kernel_regularizer=keras.regularizers.L2(0.05))(inputs)
        outputs = keras.layers.Dense(1, activation="sigmoid")(hidden)
    else:
        raise ValueError(f"unknown model kind {kind!r}")
    return model_class(inputs, outputs)


def compile_model(kind: str, model, run_eagerly: bool = False) -> None:
    """Each kind has its own optimizer, loss and metrics: a train_step must use the compiled ones.

    The first two kinds compile ``weighted_metrics`` too: only those see the sample weights, and
    only if the step hands ``sample_weight`` to the metrics.
    """
    import keras

    if kind == "regression":
        model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse", metrics=["mae"],
                      weighted_metrics=[keras.metrics.MeanAbsoluteError(name="weighted_mae")],
                      run_eagerly=run_eagerly)
    elif kind == "dropout_batchnorm":
        model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="weighted_accuracy")],
                      run_eagerly=run_eagerly)
    else:
        model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="binary_crossentropy",
                      metrics=["accuracy", keras.metrics.AUC(name="auc")], run_eagerly=run_eagerly)


def plain_history(history) -> dict:
    return {key: [float(value) for value in values] for key, values in history.history.items()}


def fit(module, kind, seed, x, y, sample_weight=None, batch_size=16, epochs=2):
    """Fit ``CustomFitModel`` (graph mode, no shuffling): its weights and history."""
    model = build(kind, module.CustomFitModel, seed, x.shape[1])
    compile_model(kind, model)
    with graph_errors("model.fit"):
        history = model.fit(x, y, sample_weight=sample_weight, batch_size=batch_size,
                            epochs=epochs, shuffle=False, verbose=0)
    return {"weights": model.get_weights(), "history": plain_history(history)}


def evaluate(module, kind, seed, x, y, sample_weight=None, batch_size=16):
    """Evaluate a fresh ``CustomFitModel``: the scores, and the weights afterwards."""
    model = build(kind, module.CustomFitModel, seed, x.shape[1])
    compile_model(kind, model)
    with graph_errors("model.evaluate"):
        scores = model.evaluate(x, y, sample_weight=sample_weight, batch_size=batch_size,
                                verbose=0, return_dict=True)
    return {"scores": {key: float(value) for key, value in scores.items()},
            "weights": model.get_weights()}
