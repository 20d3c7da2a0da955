"""Probes for 15_callbacks: the learner's callbacks in a real ``fit`` of a tiny seeded model.

:func:`build` makes the same compiled model for the same seed here (in the child) and in the
grader, eagerly, so both train bit for bit alike. A :class:`Script` callback placed before the
learner's writes grader-chosen values of a metric into each epoch's logs (the learner's
callback sees them like any logged metric), so that the best epoch, ties and thresholds are
known in advance; a :class:`Trace` placed after it records the weights at each epoch's end.
The probes return weights, histories and the callback's attributes as plain data.
"""

from __future__ import annotations

MISSING = "(no such attribute)"


def build(seed: int, features: int):
    """Dense(3, tanh) -> Dense(1), SGD, mse with an mae metric; eager, identical for a seed."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((features,)),
        keras.layers.Dense(3, activation="tanh"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"],
                  run_eagerly=True)
    return model


def _callback_classes():
    import keras

    class Script(keras.callbacks.Callback):
        """Writes ``values[name][epoch]`` into the logs of every epoch, for every scripted name."""

        def __init__(self, values):
            super().__init__()
            self.values = values or {}

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                for name, values in self.values.items():
                    logs[name] = float(values[epoch])

    class Trace(keras.callbacks.Callback):
        """The model's weights at the end of each epoch, after the callbacks before it ran."""

        def __init__(self):
            super().__init__()
            self.weights = []

        def on_epoch_end(self, epoch, logs=None):
            self.weights.append(self.model.get_weights())

    return Script, Trace


def train(seed, x, y, epochs, callbacks, script=None):
    """Fit a fresh model (full batch, no shuffling) with ``[Script, *callbacks, Trace]``.

    The data is one ``tf.data`` batch: the same steps as ``fit(x, y, batch_size=len(x),
    shuffle=False)``, without the cost of Keras' array adapter at every epoch (half the time of
    an eager fit this small).
    """
    import tensorflow as tf

    Script, Trace = _callback_classes()
    model = build(seed, x.shape[1])
    trace = Trace()
    history = model.fit(tf.data.Dataset.from_tensors((x, y)), epochs=epochs, shuffle=False, verbose=0,
                        callbacks=[Script(script), *callbacks, trace])
    plain = {str(key): [float(v) for v in values] for key, values in history.history.items()}
    return model, plain, trace.weights


def _attribute(callback, name):
    return getattr(callback, name, MISSING)


def keep_best(module, seed, x, y, epochs, options, script=None):
    """``fit`` with ``KeepBest(**options)``: final weights, trace, history, best_epoch/best_value."""
    callback = module.KeepBest(**options)
    model, history, trace = train(seed, x, y, epochs, [callback], script)
    return {"weights": model.get_weights(), "trace": trace, "history": history,
            "best_epoch": _attribute(callback, "best_epoch"),
            "best_value": _attribute(callback, "best_value")}


def missing_metric(module, seed, x, y, cases):
    """For each ``options`` in ``cases``: fit 2 epochs with ``KeepBest(**options)``; what it raised.

    Returns ``{"raised": None}`` when fit finished, else the error's type and message (the
    stub's own NotImplementedError goes through, so that an untouched stub reads as such).
    """
    results = []
    for options in cases:
        callback = module.KeepBest(**options)
        try:
            train(seed, x, y, 2, [callback])
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001  (what the learner raised is the answer)
            results.append({"raised": type(error).__name__, "message": str(error)[:400]})
        else:
            results.append({"raised": None})
    return results


def stop_at_threshold(module, seed, x, y, epochs, options, script=None):
    """``fit`` with ``StopAtThreshold(**options)``: how many epochs ran, history, final weights."""
    callback = module.StopAtThreshold(**options)
    model, history, _ = train(seed, x, y, epochs, [callback], script)
    return {"weights": model.get_weights(), "history": history}
