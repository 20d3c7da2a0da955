# The visible checks of 03 · A stateful metric (`make feedback TOPIC=03_custom_metric` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for the stateful F1 metric. Run them with `pytest exercises/03_custom_metric`."""

import inspect

import keras
import numpy as np
import pytest

from grimoire.teach import Mismatch, call_or_not_started, expect_value
from custom_metric import BinaryF1


@pytest.mark.task("BinaryF1")
def test_binary_f1_keeps_its_own_counts_instead_of_asking_a_keras_metric():
    """The rule of this topic, checked in your code: the counting is yours."""
    call_or_not_started(call_or_not_started(BinaryF1).update_state, np.array([1, 0]), np.array([0.9, 0.2]))

    def names(code):  # the names and strings a function's code uses, nested functions included
        found = set(code.co_names)
        for constant in code.co_consts:
            if inspect.iscode(constant):
                found |= names(constant)
            elif isinstance(constant, str):
                found.add(constant)
        return found

    counting_metrics = {"F1Score", "FBetaScore", "Precision", "Recall", "PrecisionAtRecall",
                        "RecallAtPrecision", "SensitivityAtSpecificity", "SpecificityAtSensitivity",
                        "AUC", "TruePositives", "FalsePositives", "FalseNegatives", "TrueNegatives"}
    used = {klass.__name__ for klass in BinaryF1.__mro__ if klass.__module__.startswith("keras")}
    for klass in BinaryF1.__mro__:
        if not klass.__module__.startswith("keras"):
            for value in vars(klass).values():
                used |= names(value.__code__) if inspect.isfunction(value) else set()
    if used & counting_metrics:
        raise Mismatch(f"BinaryF1 uses keras.metrics.{', '.join(sorted(used & counting_metrics))}; "
                       "expected a metric that keeps its own counts in variables it creates: "
                       "the grader gives no point to a BinaryF1 that hands the counting to a Keras "
                       "metric (F1Score, FBetaScore, Precision, Recall, ...)")


@pytest.mark.task("BinaryF1")
def test_f1_comes_from_true_positives_false_positives_and_false_negatives():
    f1 = call_or_not_started(BinaryF1)
    call_or_not_started(f1.update_state, np.array([1, 0, 1, 1]), np.array([0.9, 0.8, 0.3, 0.6]))
    expect_value("BinaryF1().update_state([1, 0, 1, 1], [0.9, 0.8, 0.3, 0.6]); result()",
                 float(call_or_not_started(f1.result)), 2 * 2 / (2 * 2 + 1 + 1), rtol=1e-5,
                 concept="TP = 2 (0.9, 0.6), FP = 1 (0.8), FN = 1 (0.3): F1 = 2 TP / (2 TP + FP + FN)")


@pytest.mark.task("BinaryF1")
def test_a_metric_keeps_counts_across_batches_instead_of_averaging_batch_scores():
    f1 = call_or_not_started(BinaryF1)
    call_or_not_started(f1.update_state, np.array([1, 1, 1, 1]), np.array([0.9, 0.8, 0.7, 0.6]))
    call_or_not_started(f1.update_state, np.array([1, 0]), np.array([0.2, 0.7]))
    expect_value("result() after a perfect batch of 4 (F1 = 1) and a batch of 2 with no hit (F1 = 0)",
                 float(call_or_not_started(f1.result)), 0.8, rtol=1e-5,
                 concept="all 6 examples count together: TP = 4, FP = 1, FN = 1, so F1 = 8 / 10; "
                         "the mean of the two batch scores (0.5) is not the F1 of the data")


@pytest.mark.task("BinaryF1")
def test_sample_weight_counts_an_example_that_many_times():
    f1 = call_or_not_started(BinaryF1)
    call_or_not_started(f1.update_state, np.array([1, 0, 1]), np.array([0.9, 0.9, 0.1]),
                        sample_weight=np.array([2.0, 1.0, 0.5]))
    expect_value("BinaryF1().update_state([1, 0, 1], [0.9, 0.9, 0.1], sample_weight=[2, 1, 0.5]); result()",
                 float(call_or_not_started(f1.result)), 4 / 5.5, rtol=1e-5,
                 concept="TP = 2 (weight 2), FP = 1, FN = 0.5: F1 = 4 / (4 + 1 + 0.5)")


@pytest.mark.task("BinaryF1")
def test_only_predictions_above_the_threshold_count_as_positive():
    f1 = call_or_not_started(BinaryF1, threshold=0.75)
    call_or_not_started(f1.update_state, np.array([1, 1, 0]), np.array([0.9, 0.7, 0.75]))
    expect_value("BinaryF1(threshold=0.75).update_state([1, 1, 0], [0.9, 0.7, 0.75]); result()",
                 float(call_or_not_started(f1.result)), 2 / 3, rtol=1e-5,
                 concept="at 0.75 only 0.9 is a positive prediction: 0.75 is not above the threshold "
                         "(strictly greater, not >=), so TP = 1, FP = 0, FN = 1")


@pytest.mark.task("BinaryF1")
def test_with_nothing_positive_the_score_is_zero_not_nan():
    f1 = call_or_not_started(BinaryF1)
    expect_value("BinaryF1().result() before any batch", float(call_or_not_started(f1.result)), 0.0,
                 concept="nothing counted yet: the score is 0.0 (a division by zero must not give NaN)")
    call_or_not_started(f1.update_state, np.array([0, 0, 0]), np.array([0.1, 0.2, 0.3]))
    expect_value("result() after labels [0, 0, 0] and predictions [0.1, 0.2, 0.3]",
                 float(call_or_not_started(f1.result)), 0.0,
                 concept="TP = FP = FN = 0: still 0.0, not NaN")


@pytest.mark.task("BinaryF1")
def test_integer_labels_score_like_float_labels():
    f1 = call_or_not_started(BinaryF1)
    try:
        call_or_not_started(f1.update_state, np.array([1, 0, 1, 1], dtype="int64"),
                            np.array([0.9, 0.8, 0.3, 0.6]))
    except (TypeError, ValueError) as error:
        raise Mismatch(f"update_state with int64 labels raised {type(error).__name__}: {error}; "
                       "cast y_true to a float (keras.ops.cast) before any arithmetic") from None
    expect_value("BinaryF1().update_state(np.array([1, 0, 1, 1], dtype='int64'), ...); result()",
                 float(call_or_not_started(f1.result)), 2 / 3, rtol=1e-5,
                 concept="fit hands integer labels over unchanged: cast y_true to a float before multiplying")


@pytest.mark.task("BinaryF1")
def test_reset_state_forgets_every_count():
    f1 = call_or_not_started(BinaryF1)
    call_or_not_started(f1.update_state, np.array([1, 0]), np.array([0.9, 0.9]))
    call_or_not_started(f1.reset_state)
    call_or_not_started(f1.update_state, np.array([1, 1]), np.array([0.9, 0.1]))
    expect_value("update_state([1, 0], [0.9, 0.9]); reset_state(); "
                 "update_state([1, 1], [0.9, 0.1]); result()",
                 float(call_or_not_started(f1.result)), 2 / 3, rtol=1e-5,
                 concept="after the reset only the second batch counts: TP = 1, FP = 0, FN = 1")


@pytest.mark.task("BinaryF1")
def test_the_config_remembers_the_threshold():
    original = call_or_not_started(BinaryF1, threshold=0.8, name="f1_at_80")
    clone = BinaryF1.from_config(call_or_not_started(original.get_config))
    expect_value("BinaryF1.from_config(BinaryF1(threshold=0.8, name='f1_at_80').get_config()).threshold",
                 clone.threshold, 0.8,
                 concept="get_config() returns super().get_config() plus every argument of __init__")


@pytest.mark.task("BinaryF1")
def test_the_metric_works_inside_a_compiled_model():
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Identity()(inputs))  # its predictions are its inputs
    model.compile(loss="binary_crossentropy", metrics=[call_or_not_started(BinaryF1)])
    predictions = np.array([[0.9], [0.8], [0.3], [0.6], [0.7], [0.2]])
    labels = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])  # shape (6,): labels rarely have a column
    try:
        scores = model.evaluate(predictions, labels, batch_size=4, verbose=0, return_dict=True)
    except NotImplementedError as error:
        if "symbolic" not in str(error):
            raise  # a method still raises NotImplementedError: not started
        raise Mismatch("model.evaluate(...) with metrics=[BinaryF1()] failed: NumPy cannot read the "
                       "graph tensors that update_state receives inside evaluate; use keras.ops") from None
    except Exception as error:
        raise Mismatch(f"model.evaluate(...) with metrics=[BinaryF1()] raised {type(error).__name__}: "
                       f"{error}; inside evaluate your methods run in a compiled graph: keep the counts "
                       "in variables (add_variable, assign_add) and compute with keras.ops") from None
    expect_value("model.evaluate(predictions, labels, batch_size=4) with metrics=[BinaryF1()]",
                 scores["binary_f1"], 4 / 7, rtol=1e-5,
                 concept="over both batches (4 + 2 examples) TP = 2, FP = 2, FN = 1, so F1 = 4 / 7; "
                         "update_state runs in a compiled graph, on labels of shape (batch,) and "
                         "predictions of shape (batch, 1)")
