"""Hidden checks for 10_softmax_cross_entropy: random logits, compared with Keras itself.

The oracles are ``keras.ops.softmax`` / ``keras.ops.log_softmax``,
``keras.losses.sparse_categorical_crossentropy(..., from_logits=True)`` and
``keras.ops.binary_crossentropy(..., from_logits=True)`` (elementwise). Every seed also runs the
targeted cases that make the unstable formulas fail: logits of 1000 and -1000, rows at very
different scales, square inputs (a missing ``keepdims`` broadcasts silently there), an axis
other than -1, labels of shape ``(batch, 1)`` and large ``|logits|`` for the binary loss.
"""

from __future__ import annotations

import numpy as np

from autograder.api import CheckFailed, check
from autograder.oracle import oracle
from autograder.sandbox import SubmissionRaised
from grimoire.feedback import describe
from grimoire.quiet import import_keras

keras = import_keras()

# The learner writes the arithmetic: no TensorFlow or Keras in any task of this topic.
OWN_WORK = {
    "softmax": {"no_framework": True},
    "log_softmax": {"no_framework": True},
    "sparse_categorical_crossentropy": {"no_framework": True},
    "binary_crossentropy_with_logits": {"no_framework": True},
}

TOLERANCE = {"float32": (1e-5, 1e-6), "float64": (1e-7, 1e-9)}  # (rtol, atol)


# -- what came back, in words ---------------------------------------------------------------
def show(array) -> str:
    """Small arrays by value (`[[1000, -1000]]`), larger ones by shape and dtype."""
    array = np.asarray(array)
    if array.size <= 8:
        return np.array2string(array, separator=", ", max_line_width=10**6,
                               formatter={"all": lambda v: f"{v:.4g}"})
    return f"<{array.dtype} {array.shape}>"


def close(got, expected, scale=0.0) -> bool:
    """Equal to Keras' answer within the rounding of its dtype; ``scale`` is the largest |logit|:
    a correct answer computed as a difference of logits near 1000 may lose that many ulps."""
    dtype = "float64" if str(expected.dtype) == "float64" else "float32"
    rtol, atol = TOLERANCE[dtype]
    atol += 8 * float(np.finfo(dtype).eps) * scale
    return (isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype.kind in "biuf"
            and bool(np.allclose(got, expected, rtol=rtol, atol=atol)))


def came_back(got, expected) -> str:
    if not isinstance(got, np.ndarray):
        return f"{describe(got)}, not a NumPy array"
    if got.shape != expected.shape:
        return f"an array of shape {got.shape}, not the shape {expected.shape} of Keras' answer"
    if got.dtype.kind not in "biuf":
        return f"an array of dtype {got.dtype}"
    values = got.astype(np.float64)
    if not np.all(np.isfinite(values)):
        bad = values[~np.isfinite(values)]
        kinds = sorted({"nan" if np.isnan(v) else ("inf" if v > 0 else "-inf") for v in bad})
        where = show(got) if got.size <= 8 else f"an array of shape {got.shape}"
        return f"{where}, holding {' and '.join(kinds)} where Keras' answer is finite"
    worst = float(np.max(np.abs(values - expected), initial=0.0))
    if got.size <= 8:
        return f"{show(got)} (Keras: {show(expected)}, off by up to {worst:.3g})"
    return f"an array that differs from Keras' by up to {worst:.3g}"


def ask(submission, name, args, kwargs, call, expected, explain):
    """Call ``name`` in the submission; fail with a message that names the likely mistake."""
    try:
        got = submission.call(name, *args, **kwargs)
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}; expected an array of shape {expected.shape} like Keras': "
                          f"{explain(None)}") from None
    if not close(got, expected, scale=float(np.max(np.abs(args[-1])))):  # the logits come last
        raise CheckFailed(f"{call} returned {came_back(got, expected)}; expected Keras' "
                          f"{show(expected) if expected.size <= 8 else 'answer'}: {explain(got)}")
    return got


def has_non_finite(got) -> bool:
    return isinstance(got, np.ndarray) and got.dtype.kind == "f" and not np.all(np.isfinite(got))


def logits_text(logits) -> str:
    return show(logits) if logits.size <= 8 else f"logits {logits.shape} {logits.dtype}"


# -- softmax and log_softmax ----------------------------------------------------------------
def random_logits(rng, shape, dtype, scale=3.0):
    return (rng.normal(0.0, scale, size=shape)).astype(dtype)


def random_shape(rng):
    rank = int(rng.integers(1, 4))
    return tuple(int(n) for n in rng.integers(2, 6, size=rank))


@oracle
def keras_softmax(logits, axis=-1):
    return np.asarray(keras.ops.softmax(logits, axis=axis))


@oracle
def keras_log_softmax(logits, axis=-1):
    return np.asarray(keras.ops.log_softmax(logits, axis=axis))


def replay(function, *args):
    """A usual mistake, replayed in float64; None where it raises (a broadcast that fails)."""
    with np.errstate(all="ignore"):
        try:
            return function(*(a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in args))
        except ValueError:
            return None


def without_keepdims(logits, axis, log):
    shifted = logits - np.max(logits, axis=axis)
    if log:
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return np.exp(shifted) / np.sum(np.exp(shifted), axis=axis, keepdims=True)


def summed_over_the_whole_array(logits, axis, log):
    shifted = logits - np.max(logits, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted))) if log else np.exp(shifted) / np.sum(np.exp(shifted))


def max_not_added_back(logits, axis, log):
    m = np.max(logits, axis=axis, keepdims=True)
    return logits - np.log(np.sum(np.exp(logits - m), axis=axis, keepdims=True))


SOFTMAX_MISTAKES = [
    (without_keepdims, "the maximum you subtracted lost its axis: without keepdims=True an (n,) maximum "
                       "lines up with the wrong axis (silently when the array is square)"),
    (summed_over_the_whole_array, "you divided by the sum over the whole array: sum along the axis only, "
                                  "with keepdims=True"),
]
LOG_SOFTMAX_MISTAKES = SOFTMAX_MISTAKES + [
    (max_not_added_back, "log(sum(exp(z))) = m + log(sum(exp(z - m))): you subtracted the largest logit m "
                         "inside the sum but did not add it back"),
]


def explain_softmax(logits, axis, log):
    name = "log_softmax" if log else "softmax"
    oracle = keras_log_softmax if log else keras_softmax
    last = axis in (-1, logits.ndim - 1)
    axis_word = "the last axis" if last else f"axis={axis}"
    scale = float(np.max(np.abs(logits)))

    def explain(got):
        if got is None:
            return (f"subtract the maximum along {axis_word} with keepdims=True, so that it broadcasts "
                    "against the logits of any shape")
        if has_non_finite(got):
            if log:
                return ("np.log(softmax(z)) takes log(0) = -inf where a probability underflows, and "
                        "exp(1000) overflows to inf: compute z - m - log(sum(exp(z - m))) with m the "
                        "largest logit of each slice along the axis, which stays finite")
            return ("np.exp overflows to inf for a logit of 1000, and a slice of logits near -1000 "
                    "underflows to 0 / 0: subtract the largest logit of each slice along the axis "
                    "(per row, not the maximum of the whole array), so that the largest term is exp(0) = 1")
        if not isinstance(got, np.ndarray) or got.shape != logits.shape:
            return f"{name} keeps the shape of the logits: reduce with keepdims=True"
        if not last and close(got, oracle(logits, axis=-1), scale):
            return f"you normalized along the last axis: use the axis argument ({axis_word})"
        if not log and close(got, keras_log_softmax(logits, axis), scale):
            return "that is log_softmax: softmax returns the probabilities themselves"
        for mistake, message in LOG_SOFTMAX_MISTAKES if log else SOFTMAX_MISTAKES:
            replayed = replay(mistake, logits, axis, log)
            if replayed is not None and replayed.shape == got.shape and close(got, replayed.astype(got.dtype), scale):
                return message
        formula = "z_i - log(sum_j exp(z_j))" if log else "exp(z_i) / sum_j exp(z_j)"
        return (f"{'log ' if log else ''}softmax(z)_i = {formula} along {axis_word}, computed with the "
                "largest logit of each slice subtracted first")

    return explain


def check_softmax_case(submission, name, logits, axis=None):
    log = name == "log_softmax"
    kwargs = {} if axis is None else {"axis": axis}
    expected = (keras_log_softmax if log else keras_softmax)(logits, axis=-1 if axis is None else axis)
    call = f"{name}({logits_text(logits)}{'' if axis is None else f', axis={axis}'})"
    ask(submission, name, (logits,), kwargs, call, expected,
        explain_softmax(logits, -1 if axis is None else axis, log))


def random_softmax_cases(rng):
    """Random logits of rank 1 to 3, in both dtypes, plus a square batch every seed."""
    cases = [random_logits(rng, random_shape(rng), dtype) for dtype in ("float32", "float64", "float64")]
    n = int(rng.integers(2, 6))
    cases.append(random_logits(rng, (n, n), "float64"))  # a missing keepdims broadcasts silently here
    return cases


def extreme_softmax_cases(rng):
    """Logits of +-1000, and rows whose scales differ by thousands: fixed ones, then random ones."""
    fixed = [
        np.array([1000.0, 1000.0, -1000.0]),
        np.array([[-1000.0, -1000.0, -1000.0], [1000.0, 0.0, -1000.0]]),
        np.array([[1000.0, 999.0], [-1000.0, -999.0]], dtype="float32"),
    ]
    rows, classes = (int(n) for n in rng.integers(2, 6, size=2))
    centres = rng.choice([-1000.0, 1000.0], size=(rows, 1)) * rng.uniform(1.0, 3.0, size=(rows, 1))
    spread = rng.normal(0.0, 2.0, size=(rows, classes))
    return fixed + [(centres + spread).astype(str(rng.choice(["float32", "float64"])))]


def axis_cases(rng):
    """An axis other than the last: 0 on a 2-D array, 1 or -2 on a 3-D one (never square slices)."""
    a, b, c = (int(n) for n in rng.choice(np.arange(2, 7), size=3, replace=False))
    return [(random_logits(rng, (a, b), "float64"), 0),
            (random_logits(rng, (a, b, c), "float32"), int(rng.choice([1, -2]))),
            (random_logits(rng, (a, b, c), "float64"), 0)]


@check(task="softmax", points=2)
def test_softmax_matches_keras_on_random_logits(submission, rng):
    for logits in random_softmax_cases(rng):
        check_softmax_case(submission, "softmax", logits)


@check(task="softmax", points=2)
def test_softmax_stays_finite_for_logits_of_1000(submission, rng):
    for logits in extreme_softmax_cases(rng):
        check_softmax_case(submission, "softmax", logits)


@check(task="softmax", points=1)
def test_softmax_follows_the_axis_argument(submission, rng):
    for logits, axis in axis_cases(rng):
        check_softmax_case(submission, "softmax", logits, axis)


@check(task="log_softmax", points=2)
def test_log_softmax_matches_keras_on_random_logits(submission, rng):
    for logits in random_softmax_cases(rng):
        check_softmax_case(submission, "log_softmax", logits)


@check(task="log_softmax", points=2)
def test_log_softmax_stays_finite_for_logits_of_1000(submission, rng):
    for logits in extreme_softmax_cases(rng):
        check_softmax_case(submission, "log_softmax", logits)


@check(task="log_softmax", points=1)
def test_log_softmax_follows_the_axis_argument(submission, rng):
    for logits, axis in axis_cases(rng):
        check_softmax_case(submission, "log_softmax", logits, axis)


# -- sparse categorical cross-entropy -------------------------------------------------------
@oracle
def keras_sparse_ce(labels, logits):
    return np.asarray(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))


def is_scalar(got) -> bool:
    return isinstance(got, (float, np.generic)) or isinstance(got, np.ndarray) and got.shape in ((), (1,))


PICK = "the loss of example i is -log_softmax(logits)[i, labels[i]]: row i, column labels[i]"


def explain_sparse(labels, logits):
    batch = logits.shape[0]
    scale = float(np.max(np.abs(logits)))

    def explain(got):
        if got is None:
            return f"labels may come as (batch,) or (batch, 1): flatten them to (batch,) first; {PICK}"
        if isinstance(got, np.ndarray) and got.shape == (batch, batch) and labels.ndim == 2:
            return ("labels of shape (batch, 1) used as an index broadcast against np.arange(batch) "
                    f"into a ({batch}, {batch}) table: flatten the labels to (batch,) first "
                    "(labels.reshape(-1))")
        if is_scalar(got):
            return ("return one loss per example, shape (batch,), not their mean: the loss class "
                    "averages later")
        if has_non_finite(got):
            return ("-log(softmax(z)[label]) is -log(0) = inf once a probability underflows: take the "
                    "entry of log_softmax, z - m - log(sum(exp(z - m))), which stays finite")
        if isinstance(got, np.ndarray) and got.shape == (batch,) and close(got, -keras_sparse_ce(labels, logits), scale):
            return "the loss is minus the log-probability of the right class: it is never negative"
        return PICK

    return explain


def sparse_call(labels, logits) -> str:
    return (f"sparse_categorical_crossentropy(labels {labels.shape} {labels.dtype} = {show(labels)}, "
            f"{logits_text(logits)})")


def check_sparse_case(submission, labels, logits):
    expected = keras_sparse_ce(labels, logits)
    ask(submission, "sparse_categorical_crossentropy", (labels, logits), {}, sparse_call(labels, logits),
        expected, explain_sparse(labels, logits))


def sparse_case(rng, dtype, scale=3.0):
    batch = int(rng.integers(2, 7))
    classes = int(rng.choice([c for c in range(2, 8) if c != batch]))
    logits = random_logits(rng, (batch, classes), dtype, scale)
    labels = rng.integers(0, classes, size=batch).astype(str(rng.choice(["int32", "int64"])))
    return labels, logits


@check(task="sparse_categorical_crossentropy", points=2)
def test_sparse_categorical_crossentropy_matches_keras_per_example(submission, rng):
    for dtype in ("float64", "float32", "float64"):
        check_sparse_case(submission, *sparse_case(rng, dtype))
    batch = int(rng.integers(2, 6))  # batch == classes: a broadcast mistake cannot hide behind a shape error
    check_sparse_case(submission, rng.integers(0, batch, size=batch), random_logits(rng, (batch, batch), "float64"))


@check(task="sparse_categorical_crossentropy", points=1)
def test_sparse_categorical_crossentropy_takes_labels_of_shape_batch_1(submission, rng):
    for dtype in ("float64", "float32"):
        labels, logits = sparse_case(rng, dtype)
        check_sparse_case(submission, labels.reshape(-1, 1), logits)


@check(task="sparse_categorical_crossentropy", points=2)
def test_sparse_categorical_crossentropy_stays_finite_for_logits_of_1000(submission, rng):
    # The right class sits at -1000 while another is at +1000: the loss is 2000, not inf.
    check_sparse_case(submission, np.array([2, 0, 1]),
                      np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0], [-1000.0, 1000.0, 0.0]]))
    labels, logits = sparse_case(rng, "float64")
    logits = logits + rng.choice([-1000.0, 1000.0], size=logits.shape)
    check_sparse_case(submission, labels, logits)


# -- binary cross-entropy from logits -------------------------------------------------------
@oracle
def keras_bce(labels, logits):
    return np.asarray(keras.ops.binary_crossentropy(labels, logits, from_logits=True))


BCE_FORM = ("the loss of one element is -y log(sigmoid(z)) - (1 - y) log(1 - sigmoid(z)) = "
            "max(z, 0) - z * y + log(1 + exp(-|z|)), for soft labels y in [0, 1] too")


def explain_bce(labels, logits):
    scale = float(np.max(np.abs(logits)))

    def explain(got):
        if got is None:
            return BCE_FORM
        if is_scalar(got) or isinstance(got, np.ndarray) and got.shape == logits.shape[:-1]:
            return ("you averaged over the last axis, as the BinaryCrossentropy loss class does: "
                    "return one loss per element, the shape of the logits, like "
                    "keras.ops.binary_crossentropy")
        if not isinstance(got, np.ndarray) or got.shape != logits.shape:
            return "return one loss per element: the same shape as the logits, no mean"
        if has_non_finite(got):
            return ("sigmoid(z) rounds to exactly 1 (or 0) for large |z|, so log(1 - p) or log(p) is "
                    "-inf, and exp(z) overflows for z = 1000: use the form in z alone, "
                    "max(z, 0) - z * y + log(1 + exp(-|z|)), which never overflows")
        expected = keras_bce(labels, logits)
        if float(np.max(np.abs(logits))) >= 30 and float(np.max(got)) < 17 < float(np.max(expected)):
            return ("your losses stop near 16: clipping the probabilities to [1e-7, 1 - 1e-7] caps "
                    "the loss at -log(1e-7); from logits the loss grows like |z| without bound")
        if close(got, keras_bce(logits, labels), scale):
            return "labels come first, logits second: binary_crossentropy_with_logits(labels, logits)"
        return BCE_FORM

    return explain


def check_bce_case(submission, labels, logits):
    expected = keras_bce(labels, logits)
    call = (f"binary_crossentropy_with_logits(labels {show(labels) if labels.size <= 8 else labels.shape}, "
            f"{logits_text(logits)})")
    ask(submission, "binary_crossentropy_with_logits", (labels, logits), {}, call, expected,
        explain_bce(labels, logits))


def bce_case(rng, shape, dtype, soft, scale=3.0):
    logits = random_logits(rng, shape, dtype, scale)
    labels = rng.uniform(0, 1, size=shape) if soft else rng.integers(0, 2, size=shape)
    return labels.astype(dtype), logits


@check(task="binary_crossentropy_with_logits", points=2)
def test_binary_crossentropy_with_logits_matches_keras_elementwise(submission, rng):
    rows, cols = (int(n) for n in rng.choice(np.arange(2, 7), size=2, replace=False))
    # float64 only: in float32 even a correct-looking sigmoid form loses digits near |z| = 10,
    # and that belongs to the stability check, which every seed runs.
    for shape, dtype, soft in (((rows, cols), "float64", False), ((cols, rows), "float64", True),
                               ((int(rng.integers(2, 9)),), "float64", True),
                               ((2, rows, cols), "float64", False)):
        check_bce_case(submission, *bce_case(rng, shape, dtype, soft))


@check(task="binary_crossentropy_with_logits", points=2)
def test_binary_crossentropy_with_logits_is_stable_for_large_logits(submission, rng):
    check_bce_case(submission, np.array([[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]]),
                   np.array([[40.0, 40.0, -40.0, -40.0], [1000.0, 1000.0, -1000.0, -1000.0]]))
    labels, logits = bce_case(rng, (int(rng.integers(2, 5)), int(rng.integers(3, 7))),
                              str(rng.choice(["float32", "float64"])), soft=bool(rng.integers(0, 2)))
    logits = logits * 100.0 + np.sign(logits) * 30.0  # every |z| above 30, some in the hundreds
    check_bce_case(submission, labels, logits.astype(labels.dtype))
