"""Probes for 03_custom_metric: drive the learner's ``BinaryF1`` and report plain numbers.

Eager probes feed NumPy batches to ``update_state`` and read ``result()`` after each one; graph
probes put the metric into a compiled model's ``evaluate`` or ``fit``. The grader computes what
the numbers should be (NumPy counts, ``keras.metrics.F1Score``); nothing here decides.
"""

from __future__ import annotations

import contextlib

SYMBOLIC_NUMPY = "symbolic"  # TensorFlow's words when NumPy is handed a graph tensor


@contextlib.contextmanager
def graph_errors(where: str):
    """NumPy on a graph tensor raises NotImplementedError, which would read as "not started".

    Say what really happened instead; a NotImplementedError of the stub passes through.
    """
    try:
        yield
    except NotImplementedError as error:
        if SYMBOLIC_NUMPY not in str(error):
            raise
        raise TypeError(f"inside {where}, NumPy was handed a graph tensor ({error}); "
                        "update_state and result must use keras.ops only") from None


def _weights_kwargs(weights, index):
    return {} if weights is None else {"sample_weight": weights[index]}


def stream(module, labels, predictions, threshold=0.5, weights=None):
    """A fresh ``BinaryF1(threshold)`` fed batch after batch: ``result()`` after each batch."""
    metric = module.BinaryF1(threshold=threshold)
    results = []
    for index, (y_true, y_pred) in enumerate(zip(labels, predictions)):
        metric.update_state(y_true, y_pred, **_weights_kwargs(weights, index))
        results.append(float(metric.result()))
    return results


def fresh_result(module):
    """``result()`` of a metric that has seen nothing."""
    return float(module.BinaryF1().result())


def reset_then_stream(module, first, second, threshold=0.5):
    """Feed ``first`` batches, ``reset_state()``, then ``second``: results after the reset."""
    metric = module.BinaryF1(threshold=threshold)
    for y_true, y_pred in zip(*first):
        metric.update_state(y_true, y_pred)
    metric.reset_state()
    results = [float(metric.result())]
    for y_true, y_pred in zip(*second):
        metric.update_state(y_true, y_pred)
        results.append(float(metric.result()))
    return results


def round_trip(module, threshold, name, labels, predictions):
    """Rebuild ``BinaryF1(threshold, name)`` from its config; the clone's name and score."""
    original = module.BinaryF1(threshold=threshold, name=name)
    config = original.get_config()
    clone = module.BinaryF1.from_config(config)
    clone.update_state(labels, predictions)
    return {"name": clone.name, "result": float(clone.result())}


def identity_model():
    """A model whose output is its input: its predictions are exactly the probabilities given."""
    import keras

    inputs = keras.Input((1,))
    return keras.Model(inputs, keras.layers.Identity()(inputs))


def evaluate(module, probabilities, labels, batch_size, threshold=0.5, sample_weight=None):
    """``model.evaluate`` (a compiled graph) with the metric; its reported score."""
    model = identity_model()
    metric = module.BinaryF1(threshold=threshold)
    # Keras hands sample_weight only to weighted_metrics; plain metrics never see it.
    if sample_weight is None:
        model.compile(loss="binary_crossentropy", metrics=[metric])
    else:
        model.compile(loss="binary_crossentropy", weighted_metrics=[metric])
    with graph_errors("model.evaluate"):
        scores = model.evaluate(probabilities, labels, sample_weight=sample_weight,
                                batch_size=batch_size, verbose=0, return_dict=True)
    return float(scores["binary_f1"])


def classifier(seed: int, features: int):
    """A small logistic-regression model, identical for the same seed (grader and child)."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((features,))
    outputs = keras.layers.Dense(1, activation="sigmoid")(inputs)
    return keras.Model(inputs, outputs)


def compile_classifier(model, metric, run_eagerly=False):
    import keras

    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy", metrics=[metric],
                  run_eagerly=run_eagerly)


def fit_history(module, x, y, seed, threshold, batch_size, epochs):
    """Train the seeded classifier with the metric compiled in; the metric's history per epoch."""
    model = classifier(seed, x.shape[1])
    compile_classifier(model, module.BinaryF1(threshold=threshold))
    with graph_errors("model.fit"):
        history = model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return [float(value) for value in history.history["binary_f1"]]
