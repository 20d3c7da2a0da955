"""Hidden checks for 15_callbacks: KeepBest against EarlyStopping, StopAtThreshold against its rule.

Every scenario trains the same tiny seeded model (:mod:`autograder.probes.callbacks`), in the
child with the learner's callback and once here without any. Training is eager on both sides,
so the two runs are identical epoch by epoch, and the grader knows the weights of every epoch.
Most scenarios script the monitored metric (a callback before the learner's writes it into
the logs), so the best epoch, ties and threshold crossings are chosen, not hoped for; one
monitors a real training metric.

The oracle of ``KeepBest`` is Keras' own ``EarlyStopping(restore_best_weights=True)`` with a
patience longer than training (it never stops early), replayed here on the epochs of the
grader's run: its hooks see the very weights and logs that ``fit`` gave the learner's callback.
The oracle of ``StopAtThreshold`` is its definition: the first epoch whose value passes the
threshold strictly, after which ``fit`` runs no other epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from autograder.api import CheckFailed, check
from autograder.oracle import oracle
from autograder.probes.callbacks import MISSING, build, train
from autograder.sandbox import SubmissionError, SubmissionRaised
from grimoire.feedback import describe, is_int
from grimoire.quiet import import_keras

keras = import_keras()

# What the learner must write themselves (enforced by autograder/own_work.py).
OWN_WORK = {
    "KeepBest": {"forbid": ["EarlyStopping", "ModelCheckpoint"]},
}

MAX_EPOCHS = 8
WEIGHT_RTOL, WEIGHT_ATOL = 1e-5, 1e-6
LEAVE = "leave the weights alone until training ends"
KEEP = ("after each epoch read logs[monitor]; when it is strictly better than every epoch before "
        "(lower in mode 'min', higher in mode 'max'), keep a copy of the weights "
        "(self.model.get_weights()), best_epoch (counted from 0) and best_value; "
        f"{LEAVE}, then set the kept weights back in on_train_end")
STOP = ("in on_epoch_end, when logs[monitor] passes the threshold (strictly below it in mode "
        "'min', strictly above it in mode 'max'), set self.model.stop_training = True: fit "
        "finishes that epoch and starts no other")


def fmt(values) -> str:
    return "[" + ", ".join(f"{float(v):.4g}" for v in values) + "]"


# -- the grader's run and the oracles -----------------------------------------------------------
@dataclass
class Run:
    """One seeded training without callbacks: what every epoch logged and the weights it ended with."""

    seed: int
    x: np.ndarray
    y: np.ndarray
    history: dict
    trace: list

    def logs(self, epoch: int, script: dict | None) -> dict:
        logs = {key: values[epoch] for key, values in self.history.items()}
        logs.update({key: float(values[epoch]) for key, values in (script or {}).items()})
        return logs


@pytest.fixture
def run(shared_scenario) -> Run:
    """The seeded training every KeepBest and StopAtThreshold check compares with."""
    return shared_scenario("callbacks_run", _make_run)


def _make_run(rng) -> Run:
    seed = int(rng.integers(1, 10_000))
    x = rng.normal(size=(24, 3)).astype("float32")
    y = (x @ rng.normal(size=(3, 1)) + 0.1 * rng.normal(size=(24, 1))).astype("float32")
    history, trace = plain_run(seed, x, y, MAX_EPOCHS)
    return Run(seed, x, y, history, trace)


@oracle
def plain_run(seed, x, y, epochs):
    """The seeded model trained without callbacks: its history and each epoch's weights."""
    _, history, trace = train(seed, x, y, epochs, [])
    return history, trace


def early_stopping(run: Run, epochs: int, monitor: str, mode: str, script=None):
    """Keras' EarlyStopping(restore_best_weights=True), never stopping, on the run's epochs.

    Returns the weights it leaves the model with, its best_epoch and its best value.
    """
    model = build(run.seed, run.x.shape[1])
    stopping = keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=epochs + 1,
                                           restore_best_weights=True)
    stopping.set_model(model)
    stopping.on_train_begin()
    for epoch in range(epochs):
        model.set_weights(run.trace[epoch])  # the weights fit hands its callbacks at this epoch
        stopping.on_epoch_end(epoch, run.logs(epoch, script))
    stopping.on_train_end()
    return model.get_weights(), int(stopping.best_epoch), float(stopping.best)


def same_weights(got, expected) -> bool:
    return (isinstance(got, list) and len(got) == len(expected)
            and all(isinstance(g, np.ndarray) and g.shape == e.shape
                    and bool(np.allclose(g, e, rtol=WEIGHT_RTOL, atol=WEIGHT_ATOL))
                    for g, e in zip(got, expected)))


def which_epoch(weights, run: Run, epochs: int):
    """The epoch whose end-of-epoch weights these are, or None."""
    for epoch in range(epochs):
        if same_weights(weights, run.trace[epoch]):
            return epoch
    return None


@dataclass
class Shared:
    """One probe's answer (or its error) shared by several checks, each with its own concept."""

    call: str
    answer: object = None
    error: SubmissionError | None = None
    note: str = ""

    def get(self, concept: str):
        if isinstance(self.error, SubmissionRaised):
            raise CheckFailed(f"{self.error}: {self.note}{concept}")
        if self.error is not None:
            raise self.error  # not started, a timeout, a crash: the sandbox's words say it all
        return self.answer


def field(got, key):
    return got.get(key) if isinstance(got, dict) else None


def probe(submission, name: str, *args, call: str, note: str = "") -> Shared:
    shared = Shared(call, note=note)
    try:
        shared.answer = submission.probe(f"callbacks:{name}", *args, describe=call, timeout=60)
    except SubmissionError as error:
        shared.error = error
    return shared


# -- KeepBest -----------------------------------------------------------------------------------
NAMES_MIN = ("val_error", "val_score", "val_distance")
NAMES_MAX = ("val_auc", "val_f1", "val_precision")
READS_MONITOR = "KeepBest reads the metric named by monitor from each epoch's logs; "


def options_text(options: dict) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in options.items())


def keep_best_call(options, epochs, script) -> str:
    scripted = "".join(f", with {name} = {fmt(values)} in the logs of epochs 0 to {epochs - 1}"
                       for name, values in (script or {}).items())
    return f"model.fit(x, y, epochs={epochs}, callbacks=[KeepBest({options_text(options)})]){scripted}"


def keep_best(submission, run, options, epochs, script=None) -> Shared:
    call = keep_best_call(options, epochs, script)
    return probe(submission, "keep_best", run.seed, run.x, run.y, epochs, options, script,
                 call=call, note=READS_MONITOR)


def compare_kept_weights(case: Shared, run: Run, epochs: int, expected, expected_epoch: int,
                         concept: str) -> None:
    weights = field(case.get(concept), "weights")
    if same_weights(weights, expected):
        return
    ended = which_epoch(weights, run, epochs)
    if ended == epochs - 1:
        why = ("the model ends with the last epoch's weights: KeepBest never restored the kept "
               "weights in on_train_end, or it kept a reference to the weights "
               "(self.model.weights, which training keeps changing) instead of a copy "
               "(self.model.get_weights())")
    elif ended is not None:
        why = f"the model ends with the weights of epoch {ended}"
    else:
        why = "the model ends with weights that no epoch of this training had"
    raise CheckFailed(f"{case.call}: {why}; expected the weights of epoch {expected_epoch}, which "
                      f"EarlyStopping(restore_best_weights=True) restores: {concept}")


def compare_best_epoch(case: Shared, expected_epoch: int, expected_value: float, concept: str) -> None:
    got = case.get(concept)
    best_epoch, best_value = field(got, "best_epoch"), field(got, "best_value")
    if not (is_int(best_epoch) and int(best_epoch) == expected_epoch):
        hint = ""
        if is_int(best_epoch) and int(best_epoch) == expected_epoch + 1:
            hint = " (one more than expected: epochs are counted from 0, as in on_epoch_end(epoch, logs))"
        shown = "no attribute best_epoch" if best_epoch == MISSING else describe(best_epoch)
        raise CheckFailed(f"{case.call}: best_epoch was {shown}{hint}; expected {expected_epoch}, "
                          f"as EarlyStopping's best_epoch: {concept}")
    if not (isinstance(best_value, (int, float, np.floating)) and not isinstance(best_value, bool)
            and math.isclose(float(best_value), expected_value, rel_tol=1e-6, abs_tol=1e-7)):
        shown = "no attribute best_value" if best_value == MISSING else describe(best_value)
        raise CheckFailed(f"{case.call}: best_value was {shown}; expected {expected_value:.6g}, the "
                          f"monitored value at epoch {expected_epoch}: {concept}")


def scripted_min_curve(rng, epochs: int) -> tuple[list[float], int]:
    """Epoch 1 worse than epoch 0, the unique minimum at epoch 2 or 3, worse values after it."""
    best = int(rng.integers(2, 4))
    start = float(rng.uniform(1.0, 2.0))
    low = start - float(rng.uniform(0.3, 0.6))
    curve = [start, start + float(rng.uniform(0.05, 0.3))]
    for epoch in range(2, epochs):
        curve.append(low if epoch == best else low + float(rng.uniform(0.05, 0.8)))
    return [round(v, 4) for v in curve], best


@pytest.fixture
def scripted_min(submission, run, shared_scenario):
    """KeepBest(monitor=<a scripted metric>, mode='min'): the best epoch is 2 or 3 of 6."""
    return shared_scenario("keep_best_scripted_min", lambda rng: _make_scripted_min(submission, run, rng))


def _make_scripted_min(submission, run, rng):
    epochs, name = 6, str(rng.choice(NAMES_MIN))
    curve, _ = scripted_min_curve(rng, epochs)
    script = {name: curve}
    options = {"monitor": name, "mode": "min"}
    case = keep_best(submission, run, options, epochs, script)
    return case, early_stopping(run, epochs, name, "min", script), epochs


@check(task="KeepBest", points=2)
def test_keep_best_restores_the_best_epochs_weights_when_training_ends(scripted_min, run):
    case, (weights, best_epoch, _), epochs = scripted_min
    compare_kept_weights(case, run, epochs, weights, best_epoch, KEEP)


@check(task="KeepBest", points=1)
def test_keep_best_records_best_epoch_and_best_value(scripted_min):
    case, (_, best_epoch, best_value), _ = scripted_min
    compare_best_epoch(case, best_epoch, best_value, KEEP)


@check(task="KeepBest", points=1)
def test_keep_best_leaves_the_weights_alone_while_training_runs(scripted_min, run):
    case, _, epochs = scripted_min
    concept = (f"KeepBest must {LEAVE}: setting them back after a worse epoch makes the next "
               "epochs train from old weights, so the run is no longer the one it watched")
    trace = field(case.get(concept), "trace")
    if not isinstance(trace, list) or len(trace) != epochs:
        raise CheckFailed(f"{case.call}: the weights were recorded at the end of "
                          f"{len(trace) if isinstance(trace, list) else 0} epochs; expected "
                          f"{epochs}: {concept}")
    for epoch in range(epochs):
        if not same_weights(trace[epoch], run.trace[epoch]):
            back = which_epoch(trace[epoch], run, epochs)
            seen = (f"the weights of epoch {back}" if back is not None
                    else "weights that training without KeepBest never had")
            raise CheckFailed(f"{case.call}: at the end of epoch {epoch}, after KeepBest ran, the "
                              f"model held {seen}; expected the weights training gave it at epoch "
                              f"{epoch}: {concept}")


@check(task="KeepBest", points=1)
def test_keep_best_defaults_to_the_lowest_val_loss(submission, run, rng):
    epochs = 5
    best = int(rng.integers(1, 4))
    curve = [round(float(v), 4) for v in rng.uniform(0.6, 1.5, size=epochs)]
    curve[best] = round(min(curve) - float(rng.uniform(0.1, 0.4)), 4)
    script = {"val_loss": curve}
    case = keep_best(submission, run, {}, epochs, script)
    weights, best_epoch, best_value = early_stopping(run, epochs, "val_loss", "min", script)
    concept = ("KeepBest() monitors 'val_loss' in mode 'min' unless told otherwise, like "
               f"EarlyStopping: {KEEP}")
    compare_best_epoch(case, best_epoch, best_value, concept)
    compare_kept_weights(case, run, epochs, weights, best_epoch, concept)


@check(task="KeepBest", points=1)
def test_keep_best_in_mode_max_keeps_the_highest_value(submission, run):
    epochs = 5
    options = {"monitor": "mae", "mode": "max"}
    case = keep_best(submission, run, options, epochs)
    weights, best_epoch, best_value = early_stopping(run, epochs, "mae", "max")
    curve = run.history["mae"][:epochs]
    concept = (f"the training mae of the epochs was {fmt(curve)}; in mode 'max' a better value is "
               f"strictly higher, so the best is epoch {best_epoch}: {KEEP}")
    compare_best_epoch(case, best_epoch, best_value, concept)
    compare_kept_weights(case, run, epochs, weights, best_epoch, concept)


@check(task="KeepBest", points=1)
def test_keep_best_keeps_the_first_of_equal_values(submission, run, rng):
    epochs, name = 6, str(rng.choice(NAMES_MIN))
    first = int(rng.integers(1, 3))
    second = int(rng.integers(first + 1, epochs - 1))
    low = round(float(rng.uniform(0.2, 0.5)), 4)
    curve = [round(low + float(v), 4) for v in rng.uniform(0.05, 0.8, size=epochs)]
    curve[first] = curve[second] = low
    script = {name: curve}
    options = {"monitor": name, "mode": "min"}
    case = keep_best(submission, run, options, epochs, script)
    weights, best_epoch, best_value = early_stopping(run, epochs, name, "min", script)
    concept = (f"{name} reaches its lowest value {low} at epochs {first} and {second}; only a "
               f"strictly better value replaces the kept epoch, so the first one stays: {KEEP}")
    compare_best_epoch(case, best_epoch, best_value, concept)
    compare_kept_weights(case, run, epochs, weights, best_epoch, concept)


@check(task="KeepBest", points=1)
def test_keep_best_fails_clearly_on_a_missing_metric(submission, run, rng):
    unlogged = str(rng.choice(("val_accuracy", "accuracy", "val_mae", "val_auc")))
    cases = [{}, {"monitor": unlogged, "mode": str(rng.choice(("min", "max")))}]
    call = "model.fit(x, y, epochs=2, callbacks=[KeepBest(...)]) without validation data"
    try:
        results = submission.probe("callbacks:missing_metric", run.seed, run.x, run.y, cases,
                                   describe=call, timeout=60)
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}: KeepBest(...) itself must not fail; only the first epoch's "
                          "end reveals that the metric is missing") from None
    for options, result in zip(cases, results if isinstance(results, list) else [None] * 2):
        monitor = options.get("monitor", "val_loss")
        call = (f"model.fit(x, y, epochs=2, callbacks=[KeepBest({options_text(options)})]), whose "
                f"logs hold only 'loss' and 'mae'")
        concept = (f"an error that names the missing metric {monitor!r}, so that a typo or a "
                   "forgotten validation_data is found at once, not after hours of training "
                   "that kept nothing (EarlyStopping only warns)")
        raised = field(result, "raised")
        if raised is None:
            raise CheckFailed(f"{call} finished without an error; expected {concept}")
        message = str(field(result, "message"))
        if monitor not in message:
            raise CheckFailed(f"{call} raised {raised}: {message[:200]}; expected {concept}")


# -- StopAtThreshold ----------------------------------------------------------------------------
def stop_call(options, epochs, script) -> str:
    scripted = "".join(f", with {name} = {fmt(values)} in the logs of epochs 0 to {epochs - 1}"
                       for name, values in (script or {}).items())
    return (f"model.fit(x, y, epochs={epochs}, callbacks=[StopAtThreshold({options_text(options)})])"
            f"{scripted}")


def check_stop(submission, run: Run, options: dict, epochs: int, script, stop_epoch: int,
               concept: str, hints: dict[int, str] | None = None) -> None:
    """Training must end right after ``stop_epoch``, with that epoch's weights.

    ``hints`` says, for a number of epochs run that a known mistake gives, what went wrong.
    """
    call = stop_call(options, epochs, script)
    case = probe(submission, "stop_at_threshold", run.seed, run.x, run.y, epochs, options, script,
                 call=call)
    got = case.get(concept)
    history = field(got, "history")
    losses = field(history, "loss")
    ran = len(losses) if isinstance(losses, list) else None
    expected = stop_epoch + 1
    if ran != expected:
        hints = {expected + 1: ("it stopped one epoch late: set self.model.stop_training in "
                                "on_epoch_end of the epoch that passes, not in the next one"),
                 epochs: ("training never stopped: set self.model.stop_training = True, the "
                          "model's flag that fit reads (not an attribute of the callback)"),
                 **(hints or {})}
        why = f"; {hints[ran]}" if ran in hints else ""
        raise CheckFailed(f"{call}: history holds {ran} epochs{why}; expected {expected}, training "
                          f"stopped after epoch {stop_epoch}: {concept}")
    if not same_weights(field(got, "weights"), run.trace[stop_epoch]):
        raise CheckFailed(f"{call}: history holds {ran} epochs, but the model does not end with the "
                          f"weights of epoch {stop_epoch}; expected training to stop at the end of "
                          f"that epoch, no sooner: {concept}")


@check(task="StopAtThreshold", points=2)
def test_stop_at_threshold_stops_after_the_first_epoch_that_passes(submission, run, rng):
    losses = run.history["loss"]
    # epochs whose loss is below every earlier one (all of them, while the loss falls)
    candidates = [k for k in range(1, MAX_EPOCHS - 2) if losses[k] < min(losses[:k])]
    stop_epoch = int(rng.choice(candidates))
    threshold = round((losses[stop_epoch] + min(losses[:stop_epoch])) / 2, 6)
    options = {"monitor": "loss", "threshold": threshold}
    concept = (f"the training loss of the epochs was {fmt(losses)}; epoch {stop_epoch} is the first "
               f"below {threshold}, so training stops after it (mode 'min' is the default): {STOP}")
    check_stop(submission, run, options, MAX_EPOCHS, None, stop_epoch, concept)


@check(task="StopAtThreshold", points=1)
def test_stop_at_threshold_in_mode_max_stops_above_the_threshold(submission, run, rng):
    epochs, name = 7, str(rng.choice(NAMES_MAX))
    curve = [round(float(v), 4) for v in np.sort(rng.uniform(0.3, 0.95, size=epochs))]
    stop_epoch = int(rng.integers(1, 5))
    while curve[stop_epoch] == curve[stop_epoch - 1]:  # a tie leaves no room for the threshold
        curve[stop_epoch] = round(curve[stop_epoch] + 0.001, 4)
    threshold = round((curve[stop_epoch - 1] + curve[stop_epoch]) / 2, 6)
    options = {"monitor": name, "threshold": threshold, "mode": "max"}
    concept = (f"in mode 'max' a value passes when it is strictly greater than the threshold: epoch "
               f"{stop_epoch} is the first above {threshold}. {STOP}")
    hints = {1: (f"it stopped after epoch 0, whose {name} {curve[0]} is below the threshold: "
                 "mode 'max' turns the comparison around")}
    check_stop(submission, run, options, epochs, {name: curve}, stop_epoch, concept, hints)


@check(task="StopAtThreshold", points=1)
def test_stop_at_threshold_passes_strictly(submission, run, rng):
    epochs, name = 7, str(rng.choice(NAMES_MIN))
    curve = [round(float(v), 4) for v in np.sort(rng.uniform(0.1, 0.9, size=epochs))[::-1]]
    equal = int(rng.integers(1, 4))
    curve = [v + 0.001 * (epochs - i) for i, v in enumerate(curve)]  # strictly decreasing
    curve = [round(v, 4) for v in curve]
    threshold = curve[equal]
    options = {"monitor": name, "threshold": threshold, "mode": "min"}
    concept = (f"at epoch {equal} {name} equals the threshold {threshold}, which is not below it; "
               f"the first value strictly below is at epoch {equal + 1}. {STOP}")
    hints = {equal + 1: (f"it stopped after epoch {equal}, whose value equals the threshold: a "
                         "value passes only strictly below it (<, not <=)")}
    check_stop(submission, run, options, epochs, {name: curve}, equal + 1, concept, hints)
