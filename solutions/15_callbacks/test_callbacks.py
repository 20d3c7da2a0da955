"""Visible tests for the callbacks. Run them with `pytest exercises/15_callbacks`.

Each test trains a tiny model for a few epochs. A helper callback writes chosen values of a
metric into the logs of each epoch (your callback reads them like any logged metric), so that
the best epoch, a tie or a threshold crossing is known in advance.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from callbacks import KeepBest, StopAtThreshold
from grimoire.teach import Mismatch, NotStarted, call_or_not_started, expect_value

X = np.linspace(-1, 1, 48, dtype="float32").reshape(16, 3)
Y = X @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")


class Script(keras.callbacks.Callback):
    """Writes values[epoch] into the logs under ``name``, before the callbacks after it run."""

    def __init__(self, name, values):
        super().__init__()
        self.name, self.values = name, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.name] = self.values[epoch]


class Trace(keras.callbacks.Callback):
    """The model's weights at the end of each epoch."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def fit_with(callback, epochs, script=None, validation=False):
    """Train a fresh tiny model with [Script(*script), callback, Trace]: model, history, trace."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="tanh"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", run_eagerly=True)
    trace = Trace()
    callbacks = ([Script(*script)] if script else []) + [callback, trace]

    # The 16 examples as one batch of a tf.data pipeline: Keras would slice NumPy arrays again
    # at every epoch, which takes longer than the epoch itself.
    batch = tf.data.Dataset.from_tensors((X, Y))
    validation_batch = tf.data.Dataset.from_tensors((X, -Y)) if validation else None

    def train():
        return model.fit(batch, epochs=epochs, verbose=0, shuffle=False, callbacks=callbacks,
                         validation_data=validation_batch)

    train.__name__ = type(callback).__name__  # an untouched stub reads "not started: KeepBest"
    history = call_or_not_started(train)
    return model, history.history, trace.weights


def same_weights(a, b):
    return all(np.allclose(x, y) for x, y in zip(a, b))


@pytest.mark.task("KeepBest")
def test_keep_best_restores_the_weights_of_the_lowest_epoch():
    values = [0.9, 1.2, 0.4, 0.6, 0.7]
    keep_best = KeepBest(monitor="score", mode="min")
    model, _, trace = fit_with(keep_best, len(values), ("score", values))
    call = f"fit(epochs=5, callbacks=[KeepBest(monitor='score', mode='min')]) with score = {values}"
    expect_value(f"{call}: keep_best.best_epoch", keep_best.best_epoch, 2,
                 concept="epoch 2 has the lowest score, 0.4; epochs count from 0")
    expect_value(f"{call}: keep_best.best_value", keep_best.best_value, 0.4,
                 concept="the score of the best epoch")
    if same_weights(model.get_weights(), trace[-1]):
        raise Mismatch(f"{call}: the model ends with the last epoch's weights; expected those of "
                       "epoch 2: set the kept weights back in on_train_end, and keep a copy "
                       "(self.model.get_weights()), not a reference to weights that keep training")
    if not same_weights(model.get_weights(), trace[2]):
        raise Mismatch(f"{call}: the model does not end with the weights of epoch 2; expected "
                       "them: keep a copy of the weights when an epoch is the best so far, and "
                       "set them back once, when training ends")


@pytest.mark.task("KeepBest")
def test_keep_best_in_mode_max_keeps_the_highest_epoch():
    values = [0.2, 0.5, 0.9, 0.6]
    keep_best = KeepBest(monitor="val_auc", mode="max")
    model, _, trace = fit_with(keep_best, len(values), ("val_auc", values))
    call = f"fit(epochs=4, callbacks=[KeepBest(monitor='val_auc', mode='max')]) with val_auc = {values}"
    expect_value(f"{call}: keep_best.best_epoch", keep_best.best_epoch, 2,
                 concept="in mode 'max' the best value is the highest: 0.9, at epoch 2")
    if not same_weights(model.get_weights(), trace[2]):
        raise Mismatch(f"{call}: the model does not end with the weights of epoch 2; expected them")


@pytest.mark.task("KeepBest")
def test_keep_best_keeps_the_first_of_equal_values():
    values = [0.8, 0.3, 0.5, 0.3]
    keep_best = KeepBest(monitor="score", mode="min")
    fit_with(keep_best, len(values), ("score", values))
    expect_value(f"fit(epochs=4, callbacks=[KeepBest(monitor='score')]) with score = {values}: "
                 "keep_best.best_epoch", keep_best.best_epoch, 1,
                 concept="0.3 at epoch 3 is no better than 0.3 at epoch 1: only a strictly better "
                         "value replaces the kept epoch (as in EarlyStopping)")


@pytest.mark.task("KeepBest")
def test_keep_best_monitors_val_loss_by_default_like_early_stopping():
    keep_best = KeepBest()
    model, history, _ = fit_with(keep_best, 4, validation=True)
    expected = int(np.argmin(history["val_loss"]))
    expect_value("fit(x, y, validation_data=..., epochs=4, callbacks=[KeepBest()]): keep_best.best_epoch",
                 keep_best.best_epoch, expected,
                 concept=f"KeepBest() watches val_loss in mode 'min': val_loss was "
                         f"{[round(v, 4) for v in history['val_loss']]}, lowest at epoch {expected}")


@pytest.mark.task("KeepBest")
def test_keep_best_says_which_metric_is_missing():
    try:
        fit_with(KeepBest(), 2)  # no validation data: no val_loss in the logs
    except NotStarted:
        raise
    except Exception as error:  # noqa: BLE001  (any error that names the metric will do)
        if "val_loss" not in str(error):
            raise Mismatch(f"fit(x, y, epochs=2, callbacks=[KeepBest()]) without validation data "
                           f"raised {type(error).__name__}: {error}; expected an error that names "
                           "the missing metric 'val_loss'") from None
    else:
        raise Mismatch("fit(x, y, epochs=2, callbacks=[KeepBest()]) without validation data "
                       "finished without an error; expected an error that names the missing metric "
                       "'val_loss': a typo or a forgotten validation_data must not go unnoticed")


@pytest.mark.task("StopAtThreshold")
def test_stop_at_threshold_stops_after_the_first_epoch_below():
    values = [0.9, 0.7, 0.4, 0.3, 0.2, 0.1]
    _, history, _ = fit_with(StopAtThreshold("val_error", 0.5), len(values), ("val_error", values))
    expect_value(f"fit(epochs=6, callbacks=[StopAtThreshold('val_error', 0.5)]) with val_error = "
                 f"{values}: len(history['loss'])", len(history["loss"]), 3,
                 concept="epoch 2 is the first below 0.5: set self.model.stop_training = True at "
                         "its end, and fit runs no more epochs (3 in all)")


@pytest.mark.task("StopAtThreshold")
def test_stop_at_threshold_passes_strictly():
    values = [0.9, 0.5, 0.45, 0.2, 0.1]
    _, history, _ = fit_with(StopAtThreshold("val_error", 0.5), len(values), ("val_error", values))
    expect_value(f"fit(epochs=5, callbacks=[StopAtThreshold('val_error', 0.5)]) with val_error = "
                 f"{values}: len(history['loss'])", len(history["loss"]), 3,
                 concept="0.5 is not below 0.5: the first value that passes is 0.45, at epoch 2")


@pytest.mark.task("StopAtThreshold")
def test_stop_at_threshold_in_mode_max_stops_above():
    values = [0.2, 0.6, 0.9, 0.95]
    _, history, _ = fit_with(StopAtThreshold("val_auc", 0.5, mode="max"), len(values), ("val_auc", values))
    expect_value(f"fit(epochs=4, callbacks=[StopAtThreshold('val_auc', 0.5, mode='max')]) with "
                 f"val_auc = {values}: len(history['loss'])", len(history["loss"]), 2,
                 concept="in mode 'max' a value passes above the threshold: 0.6 at epoch 1")
