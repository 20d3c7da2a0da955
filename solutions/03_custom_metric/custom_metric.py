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
        ### BEGIN SOLUTION
        self.true_positives = self.add_variable(shape=(), initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape=(), initializer="zeros", name="false_positives")
        self.false_negatives = self.add_variable(shape=(), initializer="zeros", name="false_negatives")
        ### END SOLUTION

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add this batch's (weighted) counts to the running totals; return nothing."""
        ### BEGIN SOLUTION
        # Labels may arrive as int64 (fit leaves integer labels alone): cast before any arithmetic.
        actual = ops.reshape(ops.cast(y_true, self.dtype), (-1,))
        predicted = ops.reshape(ops.cast(ops.greater(y_pred, self.threshold), self.dtype), (-1,))
        if sample_weight is None:
            weight = ops.ones_like(actual)
        else:
            weight = ops.reshape(ops.cast(sample_weight, self.dtype), (-1,))
        self.true_positives.assign_add(ops.sum(weight * actual * predicted))
        self.false_positives.assign_add(ops.sum(weight * (1.0 - actual) * predicted))
        self.false_negatives.assign_add(ops.sum(weight * actual * (1.0 - predicted)))
        ### END SOLUTION

    def result(self):
        """F1 of everything counted so far, as a scalar tensor; 0.0 when nothing was counted."""
        ### BEGIN SOLUTION
        denominator = 2.0 * self.true_positives + self.false_positives + self.false_negatives
        return ops.divide_no_nan(2.0 * self.true_positives, denominator)
        ### END SOLUTION

    def reset_state(self):
        """Forget every count (``fit`` and ``evaluate`` call this before each epoch)."""
        ### BEGIN SOLUTION
        for variable in self.variables:
            variable.assign(ops.zeros(variable.shape, dtype=variable.dtype))
        ### END SOLUTION

    def get_config(self):
        """What ``BinaryF1.from_config`` needs to rebuild this metric: Keras' config + threshold."""
        ### BEGIN SOLUTION
        return {**super().get_config(), "threshold": self.threshold}
        ### END SOLUTION
