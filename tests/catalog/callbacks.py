"""Mistakes learners make writing KeepBest and StopAtThreshold, and correct ones written differently.

Each entry's code is appended to the reference solution: a class subclasses the reference's
and replaces the hooks it names (``__init__``, which is given, stays the reference's unless the
entry says otherwise).
"""

from tests.catalog import Mistake, Variant

RESTORE = "keep_best_restores_the_best_epochs_weights_when_training_ends"
BEST = "keep_best_records_best_epoch_and_best_value"
ALONE = "keep_best_leaves_the_weights_alone_while_training_runs"
DEFAULT = "keep_best_defaults_to_the_lowest_val_loss"
MAX = "keep_best_in_mode_max_keeps_the_highest_value"
TIES = "keep_best_keeps_the_first_of_equal_values"
MISSING = "keep_best_fails_clearly_on_a_missing_metric"
KEEP_BEST_CHECKS = (RESTORE, BEST, ALONE, DEFAULT, MAX, TIES, MISSING)
STOP = "stop_at_threshold_stops_after_the_first_epoch_that_passes"
STOP_MAX = "stop_at_threshold_in_mode_max_stops_above_the_threshold"
STRICT = "stop_at_threshold_passes_strictly"

# A KeepBest like the reference's, whose lines the entries below replace.
KEEP_BEST = '''
class KeepBest(KeepBest):
    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(f"KeepBest monitors {self.monitor!r}, which is not in the logs")
        value = float(logs[self.monitor])
        if self.best_value is None:
            better = True
        elif self.mode == "min":
            better = value < self.best_value
        else:
            better = value > self.best_value
        if better:
            self.best_epoch = epoch
            self.best_value = value
            self.best_weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
'''

STOP_AT_THRESHOLD = '''
class StopAtThreshold(StopAtThreshold):
    def on_epoch_end(self, epoch, logs=None):
        value = float(logs[self.monitor])
        passed = value < self.threshold if self.mode == "min" else value > self.threshold
        if passed:
            self.model.stop_training = True
'''


def edit(code: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        assert old in code, old
        code = code.replace(old, new)
    return code


MISTAKES = [
    # -- KeepBest ---------------------------------------------------------------------------
    Mistake("keeps_a_reference_to_the_weights", edit(KEEP_BEST, (
        "self.best_weights = self.model.get_weights()", "self.best_weights = self.model.weights")),
        kills=(RESTORE, DEFAULT, TIES), concept="instead of a copy"),
    Mistake("never_restores_the_weights", edit(KEEP_BEST, (
        '''    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
''', '''    def on_train_end(self, logs=None):
        pass  # the best weights are kept in self.best_weights
''')), kills=(RESTORE, DEFAULT, TIES), concept="on_train_end"),
    Mistake("restores_after_every_worse_epoch", edit(KEEP_BEST, (
        '''            self.best_weights = self.model.get_weights()
''', '''            self.best_weights = self.model.get_weights()
        else:
            self.model.set_weights(self.best_weights)  # go back to the best so far
''')), kills=(ALONE, RESTORE), concept="until training ends"),
    Mistake("ignores_mode", edit(KEEP_BEST, (
        '''        elif self.mode == "min":
            better = value < self.best_value
        else:
            better = value > self.best_value''', '''        else:
            better = value < self.best_value''')), kills=(MAX,), concept="strictly higher"),
    Mistake("keeps_the_last_of_equal_values", edit(KEEP_BEST, (
        "better = value < self.best_value", "better = value <= self.best_value"), (
        "better = value > self.best_value", "better = value >= self.best_value")),
        kills=(TIES,), concept="strictly better"),
    Mistake("counts_epochs_from_one", edit(KEEP_BEST, (
        "self.best_epoch = epoch", "self.best_epoch = epoch + 1")),
        kills=(BEST,), concept="counted from 0"),
    Mistake("ignores_a_missing_metric_like_early_stopping", edit(KEEP_BEST, (
        '''            raise KeyError(f"KeepBest monitors {self.monitor!r}, which is not in the logs")''',
        '''            return  # EarlyStopping only warns''')),
        kills=(MISSING,), concept="names the missing metric"),
    Mistake("compares_a_missing_value", '''
class KeepBest(KeepBest):
    def on_epoch_end(self, epoch, logs=None):
        value = logs.get(self.monitor)
        if self.best_value is None or (value < self.best_value if self.mode == "min"
                                       else value > self.best_value):
            self.best_epoch, self.best_value = epoch, value
            self.best_weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        self.model.set_weights(self.best_weights)
''', kills=(MISSING,), concept="names the missing metric"),
    Mistake("always_watches_val_loss", edit(KEEP_BEST, (
        "value = float(logs[self.monitor])", 'value = float(logs["val_loss"])'), (
        "        if self.monitor not in logs:\n", "        if 'val_loss' not in logs:\n")),
        kills=(RESTORE, BEST, ALONE, MAX, TIES), concept="named by monitor"),
    Mistake("wraps_early_stopping", '''
class KeepBest(keras.callbacks.Callback):
    def __init__(self, monitor="val_loss", mode="min"):
        super().__init__()
        self.monitor, self.mode = monitor, mode
        self.inner = keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=10**9,
                                                   restore_best_weights=True)

    def set_model(self, model):
        super().set_model(model)
        self.inner.set_model(model)

    def on_train_begin(self, logs=None):
        self.inner.on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor not in logs:
            raise KeyError(f"{self.monitor!r} is not logged")
        self.inner.on_epoch_end(epoch, logs)
        self.best_epoch, self.best_value = self.inner.best_epoch, self.inner.best

    def on_train_end(self, logs=None):
        self.inner.on_train_end(logs)
''', kills=KEEP_BEST_CHECKS, visible=False, delegates=True, concept="own work"),
    Mistake("subclasses_early_stopping", '''
class KeepBest(keras.callbacks.EarlyStopping):
    def __init__(self, monitor="val_loss", mode="min"):
        super().__init__(monitor=monitor, mode=mode, patience=10**9, restore_best_weights=True)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor not in logs:
            raise KeyError(f"{self.monitor!r} is not logged")
        super().on_epoch_end(epoch, logs)
        self.best_value = self.best
''', kills=KEEP_BEST_CHECKS, visible=False, delegates=True, concept="own work"),
    # -- StopAtThreshold --------------------------------------------------------------------
    Mistake("stops_one_epoch_late", '''
class StopAtThreshold(StopAtThreshold):
    passed = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.passed:  # the previous epoch passed
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        value = float(logs[self.monitor])
        self.passed = value < self.threshold if self.mode == "min" else value > self.threshold
''', kills=(STOP, STOP_MAX, STRICT), concept="one epoch late"),
    Mistake("passes_at_equality", edit(STOP_AT_THRESHOLD, (
        "value < self.threshold if", "value <= self.threshold if"), (
        "else value > self.threshold", "else value >= self.threshold")),
        kills=(STRICT,), concept="equals the threshold"),
    Mistake("stop_at_threshold_ignores_mode", edit(STOP_AT_THRESHOLD, (
        'passed = value < self.threshold if self.mode == "min" else value > self.threshold',
        "passed = value < self.threshold")), kills=(STOP_MAX,), concept="strictly greater"),
    Mistake("sets_stop_training_on_the_callback", edit(STOP_AT_THRESHOLD, (
        "self.model.stop_training = True", "self.stop_training = True")),
        kills=(STOP, STOP_MAX, STRICT), concept="self.model.stop_training"),
]

VARIANTS = [
    Variant("early_stopping_style_comparison_and_copies", '''
import numpy as np


class KeepBest(KeepBest):
    def on_train_begin(self, logs=None):
        self.better = np.less if self.mode == "min" else np.greater
        self.best_value = np.inf if self.mode == "min" else -np.inf
        self.best_epoch, self.best_weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            raise ValueError(f"{self.monitor} is not available; available metrics: {list(logs)}")
        if self.better(current, self.best_value):
            self.best_value, self.best_epoch = float(current), epoch
            self.best_weights = [np.copy(v.numpy()) for v in self.model.weights]

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            for variable, value in zip(self.model.weights, self.best_weights):
                variable.assign(value)


class StopAtThreshold(StopAtThreshold):
    def on_epoch_end(self, epoch, logs=None):
        sign = 1 if self.mode == "min" else -1
        if sign * (logs[self.monitor] - self.threshold) < 0:
            self.model.stop_training = True
'''),
]
