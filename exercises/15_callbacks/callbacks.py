# 15 · Callbacks: keep the best epoch, stop when good enough: write your code at each TODO, then check it with `make feedback TOPIC=15_callbacks`
# (`make watch` checks it on every save; `make reset TOPIC=15_callbacks` starts over, keeping a copy).
"""Callbacks: your code, called by fit at fixed moments of training.

``model.fit(..., callbacks=[...])`` calls each callback's hooks as training goes:
``on_train_begin``, then for every epoch ``on_epoch_begin`` and ``on_epoch_end(epoch, logs)``
(``logs`` holds that epoch's metrics, e.g. ``{"loss": 0.31, "val_loss": 0.42}``), and
``on_train_end`` at the very end. Inside a hook, ``self.model`` is the model being trained:
a callback can read and set its weights, and stop training. You write two callbacks: one that
keeps the best epoch's weights, one that stops as soon as a metric is good enough.
"""

import keras


class KeepBest(keras.callbacks.Callback):
    """Remember the weights of the best epoch, and put them back when training ends.

    After each epoch, read the monitored metric from ``logs``. If it is better than every
    epoch before (strictly lower in mode ``"min"``, strictly higher in mode ``"max"``; the
    first epoch always is), keep a **copy** of the model's weights (``self.model.get_weights()``
    returns new NumPy arrays), and record ``self.best_epoch`` (counted from 0, as Keras counts)
    and ``self.best_value``. When training ends, set the model's weights to the kept ones.
    Leave the weights alone while training runs.

    If ``logs`` has no entry ``monitor`` (say ``"val_loss"`` when ``fit`` got no validation
    data), raise an error whose message names the missing metric and the ones there are.

    >>> keep_best = KeepBest(monitor="val_loss", mode="min")
    >>> history = model.fit(x, y, validation_data=(x_val, y_val), epochs=20, callbacks=[keep_best])
    >>> keep_best.best_epoch, keep_best.best_value  # the model now holds that epoch's weights
    (7, 0.1432)
    """

    def __init__(self, monitor="val_loss", mode="min"):
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"KeepBest mode must be 'min' or 'max', not {mode!r}")
        self.monitor = monitor
        self.mode = mode
        self.best_epoch = None  # the epoch whose weights are kept, counted from 0
        self.best_value = None  # the monitored value at that epoch
        self.best_weights = None  # a copy of the model's weights at that epoch

    def on_epoch_end(self, epoch, logs=None):
        """Called by fit after each epoch: keep this epoch if it is the best so far."""
        # TODO: your code here (the docstring above says what it should do)
        raise NotImplementedError("on_epoch_end is not implemented yet")

    def on_train_end(self, logs=None):
        """Called by fit once, after the last epoch: put the kept weights back."""
        # TODO: your code here (the docstring above says what it should do)
        raise NotImplementedError("on_train_end is not implemented yet")


class StopAtThreshold(keras.callbacks.Callback):
    """Stop training at the end of the first epoch whose metric passes a threshold.

    "Passes" is strict: in mode ``"min"`` the value must be below ``threshold`` (``<``), in mode
    ``"max"`` above it (``>``); a value equal to the threshold does not pass. Training stops
    when ``self.model.stop_training`` is set to ``True``: ``fit`` finishes the current epoch
    (its logs reach ``history``) and starts no other, so ``len(history.history["loss"])`` says
    how many epochs ran.

    >>> stop = StopAtThreshold(monitor="val_accuracy", threshold=0.95, mode="max")
    >>> history = model.fit(x, y, validation_data=(x_val, y_val), epochs=100, callbacks=[stop])
    >>> len(history.history["loss"])  # the epoch whose val_accuracy first went above 0.95, plus 1
    12
    """

    def __init__(self, monitor, threshold, mode="min"):
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"StopAtThreshold mode must be 'min' or 'max', not {mode!r}")
        self.monitor = monitor
        self.threshold = threshold
        self.mode = mode

    def on_epoch_end(self, epoch, logs=None):
        """Called by fit after each epoch: ask fit to stop if this epoch passes the threshold."""
        # TODO: your code here (the docstring above says what it should do)
        raise NotImplementedError("on_epoch_end is not implemented yet")
