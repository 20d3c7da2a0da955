"""Mistakes learners make writing a stateful F1 metric, and correct metrics written differently.

Each entry's code is appended to the reference solution; most subclass the reference
``BinaryF1`` and replace one method, so everything else stays correct.
"""

from dataclasses import replace

from tests.catalog import Mistake, Variant

ALL_CHECKS = (
    "keeps_counts_across_batches", "weighs_each_example_by_its_sample_weight",
    "counts_only_predictions_above_the_threshold", "reports_zero_not_nan_when_nothing_is_positive",
    "accepts_integer_and_double_labels", "works_inside_model_evaluate",
    "reports_each_epoch_of_fit_afresh", "reset_state_forgets_every_count",
    "survives_get_config_and_from_config",
)

MISTAKES = [
    Mistake("averages_the_f1_of_each_batch", '''
class BinaryF1(BinaryF1):
    def __init__(self, threshold=0.5, name="binary_f1", **kwargs):
        super().__init__(threshold=threshold, name=name, **kwargs)
        self.score_sum = self.add_variable(shape=(), initializer="zeros", name="score_sum")
        self.batches = self.add_variable(shape=(), initializer="zeros", name="batches")

    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = ops.reshape(ops.cast(y_true, self.dtype), (-1,))
        predicted = ops.reshape(ops.cast(ops.greater(y_pred, self.threshold), self.dtype), (-1,))
        weight = 1.0 if sample_weight is None else ops.reshape(ops.cast(sample_weight, self.dtype), (-1,))
        tp = ops.sum(weight * actual * predicted)
        fp = ops.sum(weight * (1.0 - actual) * predicted)
        fn = ops.sum(weight * actual * (1.0 - predicted))
        self.score_sum.assign_add(ops.divide_no_nan(2.0 * tp, 2.0 * tp + fp + fn))
        self.batches.assign_add(1.0)

    def result(self):
        return ops.divide_no_nan(self.score_sum, self.batches)
''', kills=("keeps_counts_across_batches", "reports_each_epoch_of_fit_afresh")),
    Mistake("assigns_the_counts_instead_of_adding", '''
class BinaryF1(BinaryF1):
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = ops.reshape(ops.cast(y_true, self.dtype), (-1,))
        predicted = ops.reshape(ops.cast(ops.greater(y_pred, self.threshold), self.dtype), (-1,))
        weight = 1.0 if sample_weight is None else ops.reshape(ops.cast(sample_weight, self.dtype), (-1,))
        self.true_positives.assign(ops.sum(weight * actual * predicted))
        self.false_positives.assign(ops.sum(weight * (1.0 - actual) * predicted))
        self.false_negatives.assign(ops.sum(weight * actual * (1.0 - predicted)))
''', kills=("keeps_counts_across_batches", "weighs_each_example_by_its_sample_weight")),
    Mistake("ignores_sample_weight", '''
class BinaryF1(BinaryF1):
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = ops.reshape(ops.cast(y_true, self.dtype), (-1,))
        predicted = ops.reshape(ops.cast(ops.greater(y_pred, self.threshold), self.dtype), (-1,))
        self.true_positives.assign_add(ops.sum(actual * predicted))
        self.false_positives.assign_add(ops.sum((1.0 - actual) * predicted))
        self.false_negatives.assign_add(ops.sum(actual * (1.0 - predicted)))
''', kills=("weighs_each_example_by_its_sample_weight", "works_inside_model_evaluate")),
    Mistake("weighs_only_the_true_positives", '''
class BinaryF1(BinaryF1):
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = ops.reshape(ops.cast(y_true, self.dtype), (-1,))
        predicted = ops.reshape(ops.cast(ops.greater(y_pred, self.threshold), self.dtype), (-1,))
        weight = 1.0 if sample_weight is None else ops.reshape(ops.cast(sample_weight, self.dtype), (-1,))
        self.true_positives.assign_add(ops.sum(weight * actual * predicted))
        self.false_positives.assign_add(ops.sum((1.0 - actual) * predicted))
        self.false_negatives.assign_add(ops.sum(actual * (1.0 - predicted)))
''', kills=("weighs_each_example_by_its_sample_weight", "works_inside_model_evaluate")),
    Mistake("divides_by_zero_without_positives", '''
class BinaryF1(BinaryF1):
    def result(self):
        precision = self.true_positives / (self.true_positives + self.false_positives)
        recall = self.true_positives / (self.true_positives + self.false_negatives)
        return 2 * precision * recall / (precision + recall)
''', kills=("reports_zero_not_nan_when_nothing_is_positive",)),
    Mistake("guards_precision_and_recall_but_not_f1", '''
class BinaryF1(BinaryF1):
    def result(self):
        precision = ops.divide_no_nan(self.true_positives, self.true_positives + self.false_positives)
        recall = ops.divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
        return 2 * precision * recall / (precision + recall)
''', kills=("reports_zero_not_nan_when_nothing_is_positive",)),
    Mistake("uses_numpy_inside_update_state", '''
import numpy as np


class BinaryF1(BinaryF1):
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = np.asarray(y_true, dtype="float32").reshape(-1)
        predicted = (np.asarray(y_pred).reshape(-1) > self.threshold).astype("float32")
        weight = np.ones_like(actual) if sample_weight is None else np.asarray(sample_weight).reshape(-1)
        self.true_positives.assign_add(np.sum(weight * actual * predicted))
        self.false_positives.assign_add(np.sum(weight * (1 - actual) * predicted))
        self.false_negatives.assign_add(np.sum(weight * actual * (1 - predicted)))
''', kills=("works_inside_model_evaluate", "reports_each_epoch_of_fit_afresh")),
    Mistake("keeps_the_counts_in_python_attributes", '''
class BinaryF1(BinaryF1):
    def __init__(self, threshold=0.5, name="binary_f1", **kwargs):
        super().__init__(threshold=threshold, name=name, **kwargs)
        self.tp = self.fp = self.fn = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = ops.reshape(ops.cast(y_true, self.dtype), (-1,))
        predicted = ops.reshape(ops.cast(ops.greater(y_pred, self.threshold), self.dtype), (-1,))
        weight = 1.0 if sample_weight is None else ops.reshape(ops.cast(sample_weight, self.dtype), (-1,))
        self.tp = self.tp + ops.sum(weight * actual * predicted)
        self.fp = self.fp + ops.sum(weight * (1.0 - actual) * predicted)
        self.fn = self.fn + ops.sum(weight * actual * (1.0 - predicted))

    def result(self):
        return ops.divide_no_nan(2.0 * self.tp, 2.0 * self.tp + self.fp + self.fn)

    def reset_state(self):
        self.tp = self.fp = self.fn = 0.0
''', kills=("works_inside_model_evaluate", "reports_each_epoch_of_fit_afresh")),
    Mistake("leaves_integer_labels_uncast", '''
class BinaryF1(BinaryF1):
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = ops.reshape(y_true, (-1,))
        predicted = ops.reshape(ops.cast(ops.greater(y_pred, self.threshold), "float32"), (-1,))
        weight = 1.0 if sample_weight is None else ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
        self.true_positives.assign_add(ops.sum(weight * actual * predicted))
        self.false_positives.assign_add(ops.sum(weight * (1.0 - actual) * predicted))
        self.false_negatives.assign_add(ops.sum(weight * actual * (1.0 - predicted)))
''', kills=("accepts_integer_and_double_labels",)),
    Mistake("multiplies_without_flattening", '''
class BinaryF1(BinaryF1):
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = ops.cast(y_true, self.dtype)
        predicted = ops.cast(ops.greater(y_pred, self.threshold), self.dtype)
        weight = 1.0 if sample_weight is None else ops.cast(sample_weight, self.dtype)
        self.true_positives.assign_add(ops.sum(weight * actual * predicted))
        self.false_positives.assign_add(ops.sum(weight * (1.0 - actual) * predicted))
        self.false_negatives.assign_add(ops.sum(weight * actual * (1.0 - predicted)))
''', kills=("works_inside_model_evaluate", "weighs_each_example_by_its_sample_weight")),
    Mistake("rounds_instead_of_using_the_threshold", '''
class BinaryF1(BinaryF1):
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = ops.reshape(ops.cast(y_true, self.dtype), (-1,))
        predicted = ops.reshape(ops.round(ops.cast(y_pred, self.dtype)), (-1,))
        weight = 1.0 if sample_weight is None else ops.reshape(ops.cast(sample_weight, self.dtype), (-1,))
        self.true_positives.assign_add(ops.sum(weight * actual * predicted))
        self.false_positives.assign_add(ops.sum(weight * (1.0 - actual) * predicted))
        self.false_negatives.assign_add(ops.sum(weight * actual * (1.0 - predicted)))
''', kills=("counts_only_predictions_above_the_threshold", "survives_get_config_and_from_config",
            "reports_each_epoch_of_fit_afresh")),
    Mistake("counts_a_prediction_equal_to_the_threshold", '''
class BinaryF1(BinaryF1):
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = ops.reshape(ops.cast(y_true, self.dtype), (-1,))
        predicted = ops.reshape(ops.cast(ops.greater_equal(y_pred, self.threshold), self.dtype), (-1,))
        weight = 1.0 if sample_weight is None else ops.reshape(ops.cast(sample_weight, self.dtype), (-1,))
        self.true_positives.assign_add(ops.sum(weight * actual * predicted))
        self.false_positives.assign_add(ops.sum(weight * (1.0 - actual) * predicted))
        self.false_negatives.assign_add(ops.sum(weight * actual * (1.0 - predicted)))
''', kills=("counts_only_predictions_above_the_threshold",), concept=">="),
    Mistake("resets_only_the_true_positives", '''
class BinaryF1(BinaryF1):
    def reset_state(self):
        self.true_positives.assign(0.0)
''', kills=("reset_state_forgets_every_count", "reports_each_epoch_of_fit_afresh")),
    Mistake("get_config_forgets_the_threshold", '''
class BinaryF1(BinaryF1):
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
''', kills=("survives_get_config_and_from_config",)),
    Mistake("get_config_forgets_keras_own_config", '''
class BinaryF1(BinaryF1):
    def get_config(self):
        return {"threshold": self.threshold}
''', kills=("survives_get_config_and_from_config",), visible=False),
    # Handing the counting to Keras: the grader gives BinaryF1 no point (OWN_WORK).
    Mistake("wraps_keras_f1score", '''
class BinaryF1(keras.metrics.Metric):
    def __init__(self, threshold=0.5, name="binary_f1", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold
        self.inner = keras.metrics.F1Score(average="micro", threshold=threshold)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.reshape(ops.cast(y_true, "float32"), (-1, 1))
        y_pred = ops.reshape(ops.cast(y_pred, "float32"), (-1, 1))
        self.inner.update_state(y_true, y_pred, sample_weight=sample_weight)

    def result(self):
        return self.inner.result()

    def reset_state(self):
        self.inner.reset_state()

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}
''', kills=ALL_CHECKS, delegates=True, concept="F1Score"),
]


# The real cause of each mistake, in words every message of the checks it fails must hold.
CONCEPTS = {
    'averages_the_f1_of_each_batch': 'per-batch',
    'assigns_the_counts_instead_of_adding': 'seen so far',
    'ignores_sample_weight': 'unweighted',
    'weighs_only_the_true_positives': 'sample_weight',
    'divides_by_zero_without_positives': 'NaN',
    'guards_precision_and_recall_but_not_f1': 'NaN',
    'uses_numpy_inside_update_state': 'NumPy',
    'keeps_the_counts_in_python_attributes': 'variables',
    'leaves_integer_labels_uncast': 'cast',
    'multiplies_without_flattening': 'flatten',
    'rounds_instead_of_using_the_threshold': 'threshold',
    'resets_only_the_true_positives': 'reset_state',
    'get_config_forgets_the_threshold': 'get_config',
    'get_config_forgets_keras_own_config': 'get_config',
}
MISTAKES = [replace(m, concept=m.concept or CONCEPTS[m.name]) for m in MISTAKES]

VARIANTS = [
    Variant("tensorflow_ops_instead_of_keras_ops", '''
import tensorflow as tf


class BinaryF1(BinaryF1):
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = tf.reshape(tf.cast(y_true, tf.float32), [-1])
        predicted = tf.reshape(tf.cast(y_pred > self.threshold, tf.float32), [-1])
        weight = 1.0 if sample_weight is None else tf.reshape(tf.cast(sample_weight, tf.float32), [-1])
        self.true_positives.assign_add(tf.reduce_sum(weight * actual * predicted))
        self.false_positives.assign_add(tf.reduce_sum(weight * (1.0 - actual) * predicted))
        self.false_negatives.assign_add(tf.reduce_sum(weight * actual * (1.0 - predicted)))

    def result(self):
        return tf.math.divide_no_nan(2.0 * self.true_positives,
                                     2.0 * self.true_positives + self.false_positives + self.false_negatives)
'''),
    Variant("precision_and_recall_with_an_epsilon", '''
class BinaryF1(BinaryF1):
    def result(self):
        epsilon = keras.backend.epsilon()
        precision = self.true_positives / (self.true_positives + self.false_positives + epsilon)
        recall = self.true_positives / (self.true_positives + self.false_negatives + epsilon)
        return 2.0 * precision * recall / (precision + recall + epsilon)
'''),
    Variant("one_vector_of_counts_and_the_inherited_reset", '''
class BinaryF1(keras.metrics.Metric):
    def __init__(self, threshold=0.5, name="binary_f1", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold
        self.counts = self.add_variable(shape=(3,), initializer="zeros", name="tp_fp_fn")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true)
        actual = ops.cast(ops.reshape(y_true, (-1,)), "bool")
        predicted = ops.reshape(ops.convert_to_tensor(y_pred), (-1,)) > self.threshold
        cases = ops.stack([ops.logical_and(actual, predicted),
                           ops.logical_and(ops.logical_not(actual), predicted),
                           ops.logical_and(actual, ops.logical_not(predicted))], axis=1)
        cases = ops.cast(cases, self.dtype)
        if sample_weight is not None:
            cases = cases * ops.reshape(ops.cast(sample_weight, self.dtype), (-1, 1))
        self.counts.assign(self.counts + ops.sum(cases, axis=0))

    def result(self):
        tp, fp, fn = self.counts[0], self.counts[1], self.counts[2]
        denominator = 2 * tp + fp + fn
        return ops.where(denominator > 0, 2 * tp / ops.maximum(denominator, 1e-12), 0.0)

    def get_config(self):
        config = super().get_config()
        config.update({"threshold": self.threshold})
        return config
'''),
]
