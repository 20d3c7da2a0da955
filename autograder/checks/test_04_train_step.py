"""Hidden checks for 04_train_step: CustomFitModel against the built-in fit and evaluate.

The learner's model is fitted in the sandboxed child (:mod:`autograder.probes.train_step`); the
same model (same kind, same seed, so identical starting weights) is built here as a plain
``keras.Model`` and fitted by Keras itself, with ``shuffle=False``. A correct ``train_step``
ends with the same weights and the same ``history``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from autograder.api import CheckFailed, check
from autograder.oracle import oracle
from autograder.probes.train_step import build, compile_model, plain_history
from autograder.sandbox import SubmissionError, SubmissionRaised
from grimoire.feedback import describe
from grimoire.quiet import import_keras

keras = import_keras()

# What the learner writes themselves (enforced by the grader, check by check): train_step and
# test_step are the class's own; inheriting them, or calling the built-in ones through super()
# or the backend trainer, earns nothing.
OWN_WORK = {"CustomFitModel": {"own_methods": ["train_step", "test_step"]}}

FEATURES = {"regression": 4, "dropout_batchnorm": 5, "regularized": 6}
WEIGHT_RTOL, WEIGHT_ATOL = 1e-4, 1e-5
HISTORY_RTOL, HISTORY_ATOL = 1e-4, 1e-6

STEP = ("one step is: forward pass with training=True inside a tf.GradientTape, "
        "self.compute_loss(...), gradients of the loss for self.trainable_variables, "
        "self.optimizer.apply(...)")


# -- data and oracles ---------------------------------------------------------------------------
def make_data(rng, kind: str, n: int):
    x = rng.normal(size=(n, FEATURES[kind])).astype("float32")
    if kind == "regression":
        y = x @ rng.normal(size=(FEATURES[kind], 1)) + 0.1 * rng.normal(size=(n, 1))
        return x, y.astype("float32")
    if kind == "dropout_batchnorm":
        scores = x @ rng.normal(size=(FEATURES[kind], 3)) + 0.5 * rng.normal(size=(n, 3))
        return x, np.argmax(scores, axis=1).astype("int64")
    y = (x @ rng.normal(size=FEATURES[kind]) + 0.5 * rng.normal(size=n) > 0).astype("float32")
    return x, y.reshape(-1, 1)


def make_weights(rng, n: int):
    weights = rng.uniform(0.0, 2.0, size=n)
    weights[rng.random(n) < 0.2] = 0.0
    return weights.astype("float32")


def uneven_batch_size(rng, n: int) -> int:
    batch_size = int(rng.integers(8, 20))
    while n % batch_size == 0:
        batch_size += 1
    return batch_size


@oracle
def reference_fit(kind, seed, x, y, sample_weight=None, batch_size=16, epochs=2):
    """What the built-in fit does: the trained keras.Model, its history, its starting weights."""
    model = build(kind, keras.Model, seed, x.shape[1])
    start = model.get_weights()
    compile_model(kind, model, run_eagerly=True)  # eager is faster for a few steps, same numbers
    history = model.fit(x, y, sample_weight=sample_weight, batch_size=batch_size, epochs=epochs,
                        shuffle=False, verbose=0)
    return model, plain_history(history), start


def weight_labels(model) -> list[str]:
    """'the kernel of layer 2 (Dense)' for each array of model.get_weights(), in order."""
    names = {}
    for index, layer in enumerate(model.layers):
        for variable in layer.weights:
            names[id(variable)] = f"the {variable.name} of layer {index} ({type(layer).__name__})"
    return [names.get(id(v), v.path) for v in model.weights]


def run(submission, probe, *args, describe, concept, **kwargs):
    """Run a probe; if the learner's code raises, say so together with the concept at stake."""
    try:
        return submission.probe(f"train_step:{probe}", *args, describe=describe, timeout=60, **kwargs)
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}: {concept}") from None


@dataclass
class Shared:
    """One probe's answer (or its error) shared by several checks, each with its own concept."""

    call: str
    answer: object = None
    error: SubmissionError | None = None
    expected: object = None

    def get(self, concept: str):
        if isinstance(self.error, SubmissionRaised):
            raise CheckFailed(f"{self.error}: {concept}")
        if self.error is not None:
            raise self.error  # not started, a timeout, a crash: the sandbox's words say it all
        return self.answer


def field(got, key):
    return got.get(key) if isinstance(got, dict) else None


def same_array(got, expected) -> bool:
    return (isinstance(got, np.ndarray) and got.shape == expected.shape
            and bool(np.allclose(got, expected, rtol=WEIGHT_RTOL, atol=WEIGHT_ATOL)))


def compare_weights(got, model, start, call: str, concept: str) -> None:
    """Fail at the first weight array that differs from the built-in fit's, saying why if we can."""
    expected = model.get_weights()
    if not (isinstance(got, list) and len(got) == len(expected)):
        raise CheckFailed(f"{call}: the model's weights came back as {describe(got)}; expected "
                          f"{len(expected)} arrays")
    labels = weight_labels(model)
    trainable = {id(v) for v in model.trainable_weights}
    is_trainable = [id(v) in trainable for v in model.weights]
    for label, value, target in zip(labels, got, expected):
        if same_array(value, target):
            continue
        gap = (f"up to {float(np.max(np.abs(value - target))):.3g} away from"
               if isinstance(value, np.ndarray) and value.shape == target.shape else "different from")
        why = ""
        if all(same_array(g, s) for g, s, t in zip(got, start, is_trainable) if t):
            why = (" The trainable weights never moved from their initial values: were the "
                   "gradients applied with self.optimizer?")
        elif any(not t and same_array(g, s) and not same_array(e, s)
                 for g, s, e, t in zip(got, start, expected, is_trainable)):
            why = (" BatchNormalization's moving statistics never moved: they only update when the "
                   "model is called with training=True.")
        raise CheckFailed(f"{call}: {label} ends {gap} where the built-in fit puts it; expected "
                          f"the same weights.{why} {concept[0].upper()}{concept[1:]}")


def close_list(got, expected) -> bool:
    return (isinstance(got, list) and len(got) == len(expected)
            and all(isinstance(g, float) and not math.isnan(g)
                    and math.isclose(g, e, rel_tol=HISTORY_RTOL, abs_tol=HISTORY_ATOL)
                    for g, e in zip(got, expected)))


def compare_history(got, expected: dict, call: str) -> None:
    """Every key of the built-in history, with the same value per epoch."""
    if not isinstance(got, dict):
        raise CheckFailed(f"{call}: history came back as {describe(got)}; expected a dict")
    for key, values in expected.items():
        if key not in got:
            raise CheckFailed(
                f"{call}: history has keys {sorted(got)}, no {key!r}; expected {sorted(expected)}: "
                "fit records what train_step returns, so return every metric of self.metrics by "
                "name ({metric.name: metric.result() for metric in self.metrics})")
        if close_list(got[key], values):
            continue
        why = ""
        if key == "loss" and isinstance(got[key], list) and got[key] and all(v == 0.0 for v in got[key]):
            why = (" The loss tracker was never updated: compute_loss does not do it, update the "
                   "metric named 'loss' with the loss yourself.")
        raise CheckFailed(
            f"{call}: history[{key!r}] was {describe(got[key])}; expected "
            f"{[round(v, 6) for v in values]}, as the built-in fit records.{why} train_step must "
            "update every metric in self.metrics (the 'loss' tracker with the loss, the others with "
            "y, y_pred and sample_weight) and return their result(), the running mean over the "
            "epoch, not this batch's value")


# -- checks -------------------------------------------------------------------------------------
@check(task="CustomFitModel", points=2)
def test_trains_like_the_built_in_fit(submission, rng):
    kind, n, seed = "regression", int(rng.integers(40, 70)), int(rng.integers(1, 10_000))
    x, y = make_data(rng, kind, n)
    batch_size = uneven_batch_size(rng, n)
    call = (f"CustomFitModel (Dense-Dense regression, Adam, mse) .fit(x, y, batch_size={batch_size}, "
            f"epochs=2) on {n} examples")
    got = run(submission, "fit", kind, seed, x, y, batch_size=batch_size, describe=call, concept=STEP)
    model, _, start = reference_fit(kind, seed, x, y, batch_size=batch_size)
    compare_weights(field(got, "weights"), model, start, call, STEP)


@check(task="CustomFitModel", points=2)
def test_runs_the_forward_pass_in_training_mode(submission, rng):
    kind, n, seed = "dropout_batchnorm", 48, int(rng.integers(1, 10_000))
    x, y = make_data(rng, kind, n)
    call = (f"CustomFitModel with BatchNormalization and Dropout .fit(x, y, batch_size=16, epochs=2) "
            f"on {n} examples")
    concept = ("in train_step call the model with training=True: Dropout drops units and "
               "BatchNormalization normalizes with (and learns) the batch statistics only then")
    got = run(submission, "fit", kind, seed, x, y, batch_size=16, describe=call, concept=concept)
    model, _, start = reference_fit(kind, seed, x, y, batch_size=16)
    compare_weights(field(got, "weights"), model, start, call, concept)


@pytest.fixture
def regularized_fit(submission, shared_scenario):
    """One fit of the L2-regularized classifier, even batches: weights and history both compare."""
    return shared_scenario("regularized_fit", lambda rng: _make_regularized_fit(submission, rng))


def _make_regularized_fit(submission, rng):
    kind, n, seed = "regularized", 64, int(rng.integers(1, 10_000))
    x, y = make_data(rng, kind, n)
    shared = Shared(f"CustomFitModel (L2-regularized kernel, RMSprop, binary_crossentropy, "
                    f"metrics=['accuracy', AUC()]) .fit(x, y, batch_size=16, epochs=2) on {n} examples")
    try:
        shared.answer = submission.probe("train_step:fit", kind, seed, x, y, batch_size=16, epochs=2,
                                         describe=shared.call, timeout=60)
    except SubmissionError as error:
        shared.error = error
    shared.expected = reference_fit(kind, seed, x, y, batch_size=16, epochs=2)
    return shared


@check(task="CustomFitModel", points=2)
def test_records_the_running_loss_and_metrics(regularized_fit):
    got = regularized_fit.get("train_step returns {metric.name: metric.result()} for every metric")
    _, history, _ = regularized_fit.expected
    compare_history(field(got, "history"), history, regularized_fit.call)


@check(task="CustomFitModel", points=2)
def test_weighs_the_loss_by_sample_weight(submission, rng):
    kind, n, seed = "regression", 64, int(rng.integers(1, 10_000))
    x, y = make_data(rng, kind, n)
    weights = make_weights(rng, n)
    call = f"CustomFitModel.fit(x, y, sample_weight=w, batch_size=16, epochs=2) on {n} examples"
    concept = ("with sample weights each batch is (x, y, sample_weight): unpack it with "
               "keras.utils.unpack_x_y_sample_weight(data) and pass sample_weight to "
               "self.compute_loss and to the metrics")
    got = run(submission, "fit", kind, seed, x, y, sample_weight=weights, batch_size=16,
              describe=call, concept=concept)
    model, history, start = reference_fit(kind, seed, x, y, sample_weight=weights, batch_size=16)
    compare_weights(field(got, "weights"), model, start, call, concept)
    compare_history(field(got, "history"), history, call)


@check(task="CustomFitModel", points=1)
def test_uses_the_compiled_loss_optimizer_and_regularization(regularized_fit):
    concept = ("self.compute_loss applies the loss given to compile, with sample weights and the "
               "layers' regularization losses; self.optimizer is the optimizer given to compile")
    got = regularized_fit.get(concept)
    model, _, start = regularized_fit.expected
    compare_weights(field(got, "weights"), model, start, regularized_fit.call, concept)


@oracle
def reference_evaluate(kind, seed, x, y, sample_weight, batch_size):
    model = build(kind, keras.Model, seed, x.shape[1])
    compile_model(kind, model, run_eagerly=True)
    scores = model.evaluate(x, y, sample_weight=sample_weight, batch_size=batch_size, verbose=0,
                            return_dict=True)
    return model, {key: float(value) for key, value in scores.items()}


EVALUATE = ("test_step runs the model with training=False (no dropout, BatchNormalization's "
            "moving statistics), computes the loss, updates every metric of self.metrics and "
            "returns their results, without a tape, gradients or an optimizer step")


def evaluate_case(submission, rng, weighted: bool) -> Shared:
    kind, n, seed = "dropout_batchnorm", 48, int(rng.integers(1, 10_000))
    x, y = make_data(rng, kind, n)
    weights = make_weights(rng, n) if weighted else None
    shared = Shared(f"CustomFitModel with BatchNormalization and Dropout .evaluate(x, y"
                    f"{', sample_weight=w' if weighted else ''}, batch_size=16) on {n} examples")
    try:
        shared.answer = submission.probe("train_step:evaluate", kind, seed, x, y, sample_weight=weights,
                                         batch_size=16, describe=shared.call, timeout=60)
    except SubmissionError as error:
        shared.error = error
    shared.expected = reference_evaluate(kind, seed, x, y, weights, 16)
    return shared


def compare_scores(case: Shared, concept: str) -> None:
    scores = field(case.get(concept), "scores")
    _, expected = case.expected
    for key, value in expected.items():
        mine = field(scores, key)
        if not (isinstance(mine, float) and math.isclose(mine, value, rel_tol=HISTORY_RTOL,
                                                         abs_tol=HISTORY_ATOL)):
            raise CheckFailed(f"{case.call} reported {key} = {describe(mine)}; expected {value:.6g}, "
                              f"as the built-in evaluate says: {concept}")


@pytest.fixture
def plain_evaluate(submission, shared_scenario):
    """One evaluate without sample weights: its scores and the weights it leaves behind."""
    return shared_scenario("plain_evaluate", lambda rng: _make_plain_evaluate(submission, rng))


def _make_plain_evaluate(submission, rng):
    return evaluate_case(submission, rng, weighted=False)


@check(task="CustomFitModel", points=2)
def test_test_step_evaluates_like_keras(plain_evaluate):
    compare_scores(plain_evaluate, EVALUATE)


@check(task="CustomFitModel", points=1)
def test_test_step_weighs_by_sample_weight(submission, rng):
    compare_scores(evaluate_case(submission, rng, weighted=True),
                   EVALUATE + " (with sample weights, data is (x, y, sample_weight): unpack it with "
                   "keras.utils.unpack_x_y_sample_weight)")


@check(task="CustomFitModel", points=1)
def test_test_step_leaves_the_model_unchanged(plain_evaluate):
    weights = field(plain_evaluate.get(EVALUATE), "weights")
    model, _ = plain_evaluate.expected  # a fresh model, evaluated by Keras: weights untouched
    expected = model.get_weights()
    if isinstance(weights, list) and len(weights) == len(expected) and all(
            same_array(g, e) for g, e in zip(weights, expected)):
        return
    returned = weights if isinstance(weights, list) else []
    changed = [label for label, g, e in zip(weight_labels(model), returned, expected)
               if not same_array(g, e)]
    raise CheckFailed(f"{plain_evaluate.call} changed {', '.join(changed) or describe(weights)}; "
                      f"expected every weight untouched: {EVALUATE}")
