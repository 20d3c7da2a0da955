# 03 · A stateful metric: write your code at each TODO, then check it with `make feedback TOPIC=03_custom_metric`
# (`make watch` checks it on every save; `make reset TOPIC=03_custom_metric` starts over, keeping a copy).
"""A stateful metric: the F1 score of a whole dataset, gathered one batch at a time.

Keras never sees a dataset at once: ``fit`` and ``evaluate`` feed a metric batch after batch.
Accuracy could be averaged over batches, F1 cannot: the F1 of a dataset is not the mean of the
F1 of its batches. So a Keras ``Metric`` keeps *state*, running counts held in variables, that
``update_state`` adds to after every batch and ``result`` turns into a score at any moment.
"""

import keras
from keras import ops


class BinaryF1(keras.metrics.Metric):
    """F1 score of binary predictions over every batch seen since the last reset.

    ``y_true`` holds labels 0 or 1 (floats or ints), ``y_pred`` probabilities; both have shape
    ``(batch,)`` or ``(batch, 1)``. A prediction strictly above ``threshold`` counts as
    positive. ``sample_weight`` is ``None`` or one weight per example, shape ``(batch,)``: an
    example of weight 2 counts twice.

    Keep three counts (true positives, false positives, false negatives) in variables, so that
    ``F1 = 2 TP / (2 TP + FP + FN)`` covers *all* the examples seen so far. With nothing to
    count (no positive label and no positive prediction), the score is 0.0, not NaN.

    Write ``update_state`` and ``result`` with ``keras.ops`` only: inside ``fit`` and
    ``evaluate`` they run in a compiled graph, where NumPy cannot see the values.

    >>> import numpy as np
    >>> f1 = BinaryF1()
    >>> f1.update_state(np.array([1, 0, 1, 1]), np.array([0.9, 0.8, 0.3, 0.6]))
    >>> float(f1.result())  # TP = 2, FP = 1, FN = 1
    0.6666666865348816
    """

    def __init__(self, threshold=0.5, name="binary_f1", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold
        # Create the state: one scalar variable per count, e.g.
        # self.add_variable(shape=(), initializer="zeros", name="true_positives").
        # TODO: your code here (the docstring above says what it should do)
        raise NotImplementedError("__init__ is not implemented yet")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add this batch's (weighted) counts to the running totals; return nothing."""
        # TODO: your code here (the docstring above says what it should do)
        raise NotImplementedError("update_state is not implemented yet")

    def result(self):
        """F1 of everything counted so far, as a scalar tensor; 0.0 when nothing was counted."""
        # TODO: your code here (the docstring above says what it should do)
        raise NotImplementedError("result is not implemented yet")

    def reset_state(self):
        """Forget every count (``fit`` and ``evaluate`` call this before each epoch)."""
        # TODO: your code here (the docstring above says what it should do)
        raise NotImplementedError("reset_state is not implemented yet")

    def get_config(self):
        """What ``BinaryF1.from_config`` needs to rebuild this metric: Keras' config + threshold."""
        # TODO: your code here (the docstring above says what it should do)
        raise NotImplementedError("get_config is not implemented yet")
