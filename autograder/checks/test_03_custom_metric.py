"""Hidden checks for 03_custom_metric: BinaryF1 against NumPy counts and keras.metrics.F1Score.

The learner's metric runs in the sandboxed child (:mod:`autograder.probes.custom_metric`), fed
random batches of random sizes, eagerly and inside a compiled model's ``evaluate`` and ``fit``.
The expected scores are computed here: counts with NumPy, and Keras' own ``F1Score``.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.api import CheckFailed, check, expect_that
from autograder.oracle import oracle
from autograder.probes.custom_metric import classifier, compile_classifier
from autograder.sandbox import SubmissionRaised
from grimoire.feedback import describe
from grimoire.quiet import import_keras

keras = import_keras()

# What the learner writes themselves (enforced by the grader, check by check): BinaryF1 keeps its
# own counts in variables it creates; wrapping or subclassing a Keras metric that does the
# counting earns nothing.
OWN_WORK = {
    "BinaryF1": {"forbid": ["F1Score", "FBetaScore", "Precision", "Recall", "PrecisionAtRecall",
                            "RecallAtPrecision", "SensitivityAtSpecificity",
                            "SpecificityAtSensitivity", "AUC", "TruePositives", "FalsePositives",
                            "FalseNegatives", "TrueNegatives"]},
}

# Thresholds a float32 holds exactly, so the grader and the child agree on every comparison.
THRESHOLDS = (0.25, 0.375, 0.625, 0.75)
RTOL, ATOL = 1e-4, 1e-5


# -- data and oracles ---------------------------------------------------------------------------
def make_batches(rng, count, *, label_dtype="float32", sizes=(3, 25)):
    """Batches (labels, probabilities) whose share of positives varies from batch to batch."""
    labels, probabilities = [], []
    for size in rng.integers(*sizes, size=count):
        positive = rng.random(size) < rng.uniform(0.1, 0.9)
        # Positives lean towards 1, negatives towards 0, with plenty of mistakes either way.
        scores = np.where(positive, rng.random(size) ** 0.6, rng.random(size) ** 1.6)
        shape = (size, 1) if rng.random() < 0.5 else (size,)
        labels.append(positive.astype(label_dtype).reshape(shape))
        probabilities.append(scores.astype("float32").reshape(shape))
    return labels, probabilities


def make_weights(rng, labels):
    """One weight per example, some zero, some above one."""
    weights = []
    for y in labels:
        w = rng.uniform(0.0, 3.0, size=len(y))
        w[rng.random(len(y)) < 0.15] = 0.0
        weights.append(w.astype("float32"))
    return weights


def counts(labels, probabilities, threshold=0.5, weights=None):
    """Weighted (TP, FP, FN) over all the batches given."""
    y = np.concatenate([np.ravel(v) for v in labels]).astype(np.float64)
    p = (np.concatenate([np.ravel(v) for v in probabilities]) > threshold).astype(np.float64)
    w = (np.ones_like(y) if weights is None
         else np.concatenate([np.ravel(v) for v in weights]).astype(np.float64))
    return float(np.sum(w * y * p)), float(np.sum(w * (1 - y) * p)), float(np.sum(w * y * (1 - p)))


def f1(tp, fp, fn) -> float:
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator > 0 else 0.0


def running_f1(labels, probabilities, threshold=0.5, weights=None) -> list[float]:
    """The score a correct metric reports after each batch."""
    return [f1(*counts(labels[: k + 1], probabilities[: k + 1], threshold,
                       None if weights is None else weights[: k + 1])) for k in range(len(labels))]


@oracle
def keras_f1(labels, probabilities, threshold=0.5, weights=None) -> float:
    """Keras' own F1Score (micro-averaged over one column) on all the data at once."""
    metric = keras.metrics.F1Score(average="micro", threshold=threshold)
    y = np.concatenate([np.ravel(v) for v in labels]).astype("float32").reshape(-1, 1)
    p = np.concatenate([np.ravel(v) for v in probabilities]).astype("float32").reshape(-1, 1)
    w = None if weights is None else np.concatenate([np.ravel(v) for v in weights]).astype("float32")
    metric.update_state(y, p, sample_weight=w)
    return float(metric.result())


def close(got, expected: float) -> bool:
    return (isinstance(got, float) and not math.isnan(got)
            and math.isclose(got, expected, rel_tol=RTOL, abs_tol=ATOL))


def sizes_of(batches) -> str:
    return "[" + ", ".join(str(len(b)) for b in batches) + "]"


def count_text(tp, fp, fn) -> str:
    return f"TP = {tp:.4g}, FP = {fp:.4g}, FN = {fn:.4g}, F1 = 2 TP / (2 TP + FP + FN)"


def explain(got, known_wrong: dict[str, float]) -> str:
    """' (that is X)' when the wrong answer matches a known misunderstanding."""
    for meaning, value in known_wrong.items():
        if close(got, value):
            return f" (that is {meaning})"
    if isinstance(got, float) and math.isnan(got):
        return " (NaN: a division by zero somewhere)"
    return ""


def compare_stream(got, expected, call: str, labels, probabilities, threshold, weights, wrong,
                   concept: str = ""):
    """Fail at the first batch whose result differs, with the counts behind the right answer."""
    if not (isinstance(got, list) and len(got) == len(expected)):
        raise CheckFailed(f"{call} returned {describe(got)}; expected {len(expected)} scores")
    for k, (value, target) in enumerate(zip(got, expected)):
        if not close(value, target):
            seen = labels[: k + 1]
            tp, fp, fn = counts(seen, probabilities[: k + 1], threshold,
                                None if weights is None else weights[: k + 1])
            hints = {meaning: values[k] for meaning, values in wrong.items()}
            raise CheckFailed(
                f"{call}: after batch {k + 1} of sizes {sizes_of(labels)}, result() returned "
                f"{value!r}{explain(value, hints)}; expected {target:.6g}: every example seen so "
                f"far counts ({sum(len(b) for b in seen)} examples: {count_text(tp, fp, fn)})"
                + (f"; {concept}" if concept else ""))


def per_batch_mean(labels, probabilities, threshold=0.5, weights=None) -> list[float]:
    scores = [f1(*counts([y], [p], threshold, None if weights is None else [weights[k]]))
              for k, (y, p) in enumerate(zip(labels, probabilities))]
    return [float(np.mean(scores[: k + 1])) for k in range(len(scores))]


def last_batch_only(labels, probabilities, threshold=0.5, weights=None) -> list[float]:
    return [f1(*counts([y], [p], threshold, None if weights is None else [weights[k]]))
            for k, (y, p) in enumerate(zip(labels, probabilities))]


def discriminating_batches(rng, count, **kwargs):
    """Batches on which averaging batch scores, or keeping only the last, gives a wrong answer."""
    while True:
        labels, probabilities = make_batches(rng, count, **kwargs)
        right = running_f1(labels, probabilities)
        last = last_batch_only(labels, probabilities)
        if (abs(per_batch_mean(labels, probabilities)[-1] - right[-1]) > 0.01
                and all(abs(a - b) > 0.01 for a, b in zip(last[1:], right[1:]))):
            return labels, probabilities


def run(submission, probe, *args, describe, concept, **kwargs):
    """Run a probe; if the learner's code raises, say so together with the concept at stake."""
    try:
        return submission.probe(f"custom_metric:{probe}", *args, describe=describe, **kwargs)
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}: {concept}") from None


# -- checks -------------------------------------------------------------------------------------
COUNTS = "update_state adds this batch's counts to variables (assign_add), result() divides them"


@check(task="BinaryF1", points=3)
def test_keeps_counts_across_batches(submission, rng):
    labels, probabilities = discriminating_batches(rng, 6)
    got = run(submission, "stream", labels, probabilities, concept=COUNTS,
              describe="BinaryF1().update_state(y, p) over 6 batches")
    compare_stream(got, running_f1(labels, probabilities), "BinaryF1() fed 6 batches",
                   labels, probabilities, 0.5, None,
                   {"the mean of the per-batch F1 scores": per_batch_mean(labels, probabilities),
                    "the F1 of the last batch alone": last_batch_only(labels, probabilities)})


def outer_product_f1(labels, probabilities, threshold=0.5, weights=None) -> list[float]:
    """What a metric reports when it multiplies (batch,) by (batch, 1) without flattening."""
    totals, results = np.zeros(3), []
    for k, (y, p) in enumerate(zip(labels, probabilities)):
        actual = y.astype(np.float64)
        predicted = (p > threshold).astype(np.float64)
        weight = 1.0 if weights is None else weights[k].astype(np.float64)
        totals += [np.sum(weight * actual * predicted), np.sum(weight * (1 - actual) * predicted),
                   np.sum(weight * actual * (1 - predicted))]
        results.append(f1(*totals))
    return results


WEIGHTS = ("sample_weight has one weight per example, shape (batch,): multiply each example's "
           "contribution to TP, FP and FN by it, with labels, predictions and weights all "
           "flattened to (batch,) first")


@check(task="BinaryF1", points=2)
def test_weighs_each_example_by_its_sample_weight(submission, rng):
    labels, probabilities = make_batches(rng, 4)
    # Every seed: labels (batch,) with predictions (batch, 1), as fit hands them, then both
    # (batch, 1) against weights (batch,): multiplying without flattening broadcasts.
    labels[0], probabilities[0] = labels[0].reshape(-1), probabilities[0].reshape(-1, 1)
    labels[1], probabilities[1] = labels[1].reshape(-1, 1), probabilities[1].reshape(-1, 1)
    weights = make_weights(rng, labels)
    shapes = ", ".join(f"y {y.shape} p {p.shape}" for y, p in zip(labels, probabilities))
    got = run(submission, "stream", labels, probabilities, weights=weights,
              describe=f"BinaryF1().update_state(y, p, sample_weight=w) over 4 batches ({shapes})",
              concept=WEIGHTS)
    compare_stream(got, running_f1(labels, probabilities, weights=weights),
                   f"BinaryF1() fed 4 batches with sample_weight ({shapes})", labels, probabilities,
                   0.5, weights,
                   {"the unweighted F1: an example of weight w must count w times":
                    running_f1(labels, probabilities),
                    "an outer product of (batch,) and (batch, 1) shapes: flatten before multiplying":
                    outer_product_f1(labels, probabilities, weights=weights)},
                   concept=WEIGHTS)


def at_threshold_batches(rng, threshold):
    """Batches where some predictions equal the threshold exactly, and the threshold matters:
    the score differs at 0.5, and differs when a prediction equal to the threshold counts."""
    while True:
        labels, probabilities = make_batches(rng, 3)
        for y, p in zip(labels, probabilities):
            flat_y, flat_p = y.reshape(-1), p.reshape(-1)  # views: writing them writes the batch
            for label in (0, 1):
                where = np.flatnonzero(flat_y == label)
                if len(where):
                    flat_p[rng.choice(where)] = threshold
        right = running_f1(labels, probabilities, threshold)
        alternatives = (running_f1(labels, probabilities, 0.5),
                        running_f1(labels, probabilities, np.nextafter(np.float32(threshold), -1)))
        if all(any(abs(a - b) > 0.01 for a, b in zip(wrong, right)) for wrong in alternatives):
            return labels, probabilities


@check(task="BinaryF1", points=1)
def test_counts_only_predictions_above_the_threshold(submission, rng):
    concept = "a prediction is positive when it is strictly above self.threshold (>, not >=)"
    for threshold in rng.choice(THRESHOLDS, size=2, replace=False):
        threshold = float(threshold)
        labels, probabilities = at_threshold_batches(rng, threshold)
        got = run(submission, "stream", labels, probabilities, threshold=threshold,
                  describe=f"BinaryF1(threshold={threshold}).update_state(y, p) over 3 batches, "
                           f"some predictions exactly {threshold}", concept=concept)
        just_below = float(np.nextafter(np.float32(threshold), -1))
        compare_stream(got, running_f1(labels, probabilities, threshold),
                       f"BinaryF1(threshold={threshold}) fed 3 batches", labels, probabilities,
                       threshold, None,
                       {"the score at threshold 0.5: self.threshold was ignored":
                        running_f1(labels, probabilities, 0.5),
                        f"the score with the predictions equal to {threshold} counted as positive: "
                        "use >, not >=": running_f1(labels, probabilities, just_below)},
                       concept=concept)


@check(task="BinaryF1", points=1)
def test_reports_zero_not_nan_when_nothing_is_positive(submission, rng):
    zero = "without a true positive F1 is 0, and a score must never be NaN (guard the division)"
    got = run(submission, "fresh_result", describe="BinaryF1().result()", concept=zero)
    expect_that(close(got, 0.0), f"BinaryF1().result() before any update returned {describe(got)}; "
                                 "expected 0.0: with nothing counted the score is 0, not NaN")
    size = int(rng.integers(4, 12))
    cases = {
        "labels all 0, predictions all below 0.5 (TP = FP = FN = 0)":
            (np.zeros(size, "float32"), rng.uniform(0.0, 0.45, size).astype("float32")),
        "labels all 0, some predictions above 0.5 (TP = 0, FP > 0)":
            (np.zeros(size, "float32"), np.linspace(0.2, 0.9, size).astype("float32")),
        "labels all 1, predictions all below 0.5 (TP = 0, FN > 0)":
            (np.ones(size, "float32"), rng.uniform(0.0, 0.45, size).astype("float32")),
    }
    for case, (y, p) in cases.items():
        got = run(submission, "stream", [y], [p], describe=f"BinaryF1() on {case}", concept=zero)
        value = got[0] if isinstance(got, list) and len(got) == 1 else got
        expect_that(close(value, 0.0),
                    f"BinaryF1() on {case}: result() returned {describe(value)}; expected 0.0: {zero}")


@check(task="BinaryF1", points=1)
def test_accepts_integer_and_double_labels(submission, rng):
    cast = "labels come as int64, int32 or float64 too: cast y_true to self.dtype before any arithmetic"
    for dtype in ("int64", "int32", "float64"):
        labels, probabilities = make_batches(rng, 3, label_dtype=dtype)
        got = run(submission, "stream", labels, probabilities, concept=cast,
                  describe=f"BinaryF1().update_state(y, p) with {dtype} labels")
        compare_stream(got, running_f1(labels, probabilities), f"BinaryF1() fed {dtype} labels",
                       labels, probabilities, 0.5, None, {}, concept=cast)


def evaluate_case(rng, weighted: bool):
    n = int(rng.integers(40, 90))
    batch_size = int(rng.integers(5, 16))
    while n % batch_size == 0:
        batch_size += 1
    (labels,), (probabilities,) = make_batches(rng, 1, sizes=(n, n + 1))
    weights = make_weights(rng, [labels])[0] if weighted else None
    return labels.reshape(-1), probabilities.reshape(-1, 1), weights, batch_size


GRAPH = ("inside evaluate and fit, update_state runs in a compiled graph on uneven batches, "
         "with labels of shape (batch,) and predictions of shape (batch, 1): use keras.ops only "
         "(no NumPy, no .numpy()), keep the counts in variables, and flatten both before multiplying")


@check(task="BinaryF1", points=2)
def test_works_inside_model_evaluate(submission, rng):
    for weighted in (False, True):
        labels, probabilities, weights, batch_size = evaluate_case(rng, weighted)
        n = len(labels)
        metric_list = "weighted_metrics" if weighted else "metrics"
        call = (f"model.evaluate(x, y{', sample_weight=w' if weighted else ''}, batch_size={batch_size}) "
                f"of a compiled model with {metric_list}=[BinaryF1()], on {n} examples")
        got = run(submission, "evaluate", probabilities, labels, batch_size, sample_weight=weights,
                  describe=call, concept=GRAPH, timeout=30)
        weight_list = None if weights is None else [weights]
        expected = keras_f1([labels], [probabilities], weights=weight_list)
        hints = {"the unweighted F1": keras_f1([labels], [probabilities])} if weighted else {}
        tp, fp, fn = counts([labels], [probabilities], weights=weight_list)
        expect_that(close(got, expected), (
            f"{call} reported binary_f1 = {describe(got)}{explain(got, hints)}; expected "
            f"{expected:.6g}, as keras.metrics.F1Score says ({count_text(tp, fp, fn)}): {GRAPH}"))


def epoch_batches(x, y, seed, threshold, batch_size, epochs):
    """The (labels, probabilities) batches a metric sees in each epoch of the same training.

    The same seeded classifier, fitted eagerly here with a metric that only records.
    """
    seen = []

    class Recorder(keras.metrics.Metric):
        def update_state(self, y_true, y_pred, sample_weight=None):
            seen.append((np.asarray(y_true), np.asarray(y_pred)))

        def result(self):
            return 0.0

    model = classifier(seed, x.shape[1])
    compile_classifier(model, Recorder(name="recorder"), run_eagerly=True)
    model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    per_epoch = math.ceil(len(x) / batch_size)
    return [seen[e * per_epoch : (e + 1) * per_epoch] for e in range(epochs)]


def fit_alternatives(batches, threshold) -> dict[str, list[float]]:
    """Per-epoch histories of the usual wrong metrics, named by what they got wrong."""
    def unzip(epoch):
        return [b[0] for b in epoch], [b[1] for b in epoch]

    every = [batch for epoch in batches for batch in epoch]
    return {
        "the F1 at threshold 0.5: self.threshold was ignored":
            [running_f1(*unzip(epoch), 0.5)[-1] for epoch in batches],
        "the mean of the per-batch F1 scores: keep counts in variables, not scores":
            [per_batch_mean(*unzip(epoch), threshold)[-1] for epoch in batches],
        "the F1 of every epoch so far: reset_state() must zero every count":
            [running_f1(*unzip(every[: (e + 1) * len(batches[0])]), threshold)[-1]
             for e in range(len(batches))],
    }


@oracle
def fit_case(rng, n, features, batch_size, epochs):
    """Data, seed and threshold on which each usual wrong metric records another history."""
    while True:
        x = rng.normal(size=(n, features)).astype("float32")
        y = (x @ rng.normal(size=features) + rng.normal(size=n) > 0).astype("float32").reshape(-1, 1)
        seed = int(rng.integers(1, 10_000))
        threshold = float(rng.choice(THRESHOLDS))
        batches = epoch_batches(x, y, seed, threshold, batch_size, epochs)
        right = [running_f1([b[0] for b in e], [b[1] for b in e], threshold)[-1] for e in batches]
        alternatives = fit_alternatives(batches, threshold)
        if all(any(abs(a - b) > 0.01 for a, b in zip(wrong, right)) for wrong in alternatives.values()):
            return x, y, seed, threshold, alternatives


@oracle
def keras_fit_history(x, y, seed, threshold, batch_size, epochs) -> list[float]:
    """What keras.metrics.F1Score records per epoch when the seeded classifier is fitted."""
    model = classifier(seed, x.shape[1])
    compile_classifier(model, keras.metrics.F1Score(average="micro", threshold=threshold, name="f1"))
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return [float(value) for value in history.history["f1"]]


@check(task="BinaryF1", points=1)
def test_reports_each_epoch_of_fit_afresh(submission, rng):
    n, features, batch_size, epochs = 64, 3, 16, 3
    x, y, seed, threshold, alternatives = fit_case(rng, n, features, batch_size, epochs)
    expected = keras_fit_history(x, y, seed, threshold, batch_size, epochs)
    call = f"model.fit(x, y, epochs={epochs}) with metrics=[BinaryF1(threshold={threshold})]"
    got = run(submission, "fit_history", x, y, seed, threshold, batch_size, epochs, describe=call,
              concept=GRAPH, timeout=30)
    ok = isinstance(got, list) and len(got) == epochs and all(close(g, e) for g, e in zip(got, expected))
    if ok:
        return
    meaning = next((f" (that is {name})" for name, values in alternatives.items()
                    if isinstance(got, list) and len(got) == epochs
                    and all(close(g, v) for g, v in zip(got, values))), "")
    raise CheckFailed(
        f"{call}: history['binary_f1'] was {describe(got)}{meaning}; expected "
        f"{[round(v, 6) for v in expected]}, what keras.metrics.F1Score records in the same "
        f"training: each epoch's value is the F1 of that epoch's {n} examples, counted at "
        f"threshold {threshold} over all its batches (fit calls reset_state() before each epoch); "
        + GRAPH)


@check(task="BinaryF1", points=1)
def test_reset_state_forgets_every_count(submission, rng):
    first = make_batches(rng, 2)
    second = make_batches(rng, 2)
    call = "BinaryF1(): two batches, reset_state(), two more batches"
    got = run(submission, "reset_then_stream", first, second, describe=call,
              concept="reset_state() sets every count back to zero")
    expected = [0.0] + running_f1(*second)
    if isinstance(got, list) and len(got) == 3 and all(close(g, e) for g, e in zip(got, expected)):
        return
    carried = [f1(*counts(first[0] + second[0][:k], first[1] + second[1][:k])) for k in range(3)]
    still_counting = (isinstance(got, list) and len(got) == 3
                      and all(close(g, c) for g, c in zip(got, carried)))
    raise CheckFailed(
        f"{call}: result() after the reset and after each new batch was {describe(got)}"
        + (" (still counting the batches before the reset)" if still_counting else "")
        + f"; expected {[round(v, 6) for v in expected]}: reset_state() zeroes TP, FP and FN, so "
        "only the new batches count")


@check(task="BinaryF1", points=1)
def test_survives_get_config_and_from_config(submission, rng):
    threshold = float(rng.choice(THRESHOLDS))
    name = f"f1_at_{int(threshold * 1000)}"
    labels, probabilities = make_batches(rng, 1, sizes=(30, 40))
    while abs(f1(*counts(labels, probabilities, threshold)) - f1(*counts(labels, probabilities))) < 0.01:
        labels, probabilities = make_batches(rng, 1, sizes=(30, 40))
    call = f"BinaryF1.from_config(BinaryF1(threshold={threshold}, name={name!r}).get_config())"
    concept = ("get_config() returns super().get_config() (name, dtype) plus the threshold, so "
               "that from_config rebuilds the same metric")
    got = run(submission, "round_trip", threshold, name, labels[0], probabilities[0], describe=call,
              concept=concept)
    expected = f1(*counts(labels, probabilities, threshold))
    clone_name = got.get("name") if isinstance(got, dict) else got
    result = got.get("result") if isinstance(got, dict) else None
    lost = " (the score at threshold 0.5: the threshold was lost)" if close(
        result, f1(*counts(labels, probabilities))) else ""
    expect_that(isinstance(clone_name, str) and clone_name == name and close(result, expected), (
        f"{call}: the clone is named {describe(clone_name)} and scores {describe(result)}{lost} on "
        f"{len(labels[0])} examples; expected {name!r} and {expected:.6g}: {concept}"))
