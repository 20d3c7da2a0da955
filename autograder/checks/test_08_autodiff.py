"""Hidden checks for 08_autodiff: the chain rule by hand, central differences, and GradientTape.

The scalar functions handed to the learner come from a random family (sums of sin, cos, tanh,
exp, squares and cubes of affine maps of each element, plus a squared weighted sum that couples
the elements; see ``autograder/probes/autodiff.py``), so no answer can be written down in
advance. A function cannot cross the sandbox wire: each check sends its description, the probe
builds it in the child, and the grader builds the same one for its oracle. The oracles are the
grader's own: the closed form for ``J = 3 (a + b c)``, central differences for
``numerical_gradient`` and a ``tf.GradientTape`` (nested for the second derivative) for the
tape tasks. Every check runs targeted cases with every seed (a forward difference, an ignored
``h``, an integer ``x``, a sign error ...) next to random ones.
"""

from __future__ import annotations

import numbers

import numpy as np

from autograder.api import CheckFailed, check, expect_that
from autograder.probes.autodiff import OPS, build
from autograder.sandbox import SubmissionRaised
from grimoire.feedback import describe
from grimoire.quiet import import_keras

import_keras()
import tensorflow as tf  # noqa: E402  (after the quiet import)

PROBE = "autodiff"
OWN_WORK = {
    "backprop_by_hand": {"no_framework": True},
    "numerical_gradient": {"no_framework": True},
}

CHAIN_RULE = ("with u = b * c, v = a + u, J = 3 * v: dJ/dv = 3, dJ/da = dJ/dv * dv/da = 3, "
              "dJ/db = dJ/dv * dv/du * du/db = 3 * c, dJ/dc = 3 * b")
CENTRAL = ("nudge one element at a time: (f(x + h e_i) - f(x - h e_i)) / (2 h), on a float copy of x, "
           "with the h given")
TAPE = ("x = tf.constant(x); with tf.GradientTape() as tape: tape.watch(x); y = f(x); then "
        "tape.gradient(y, x).numpy()")
NESTED = ("the inner tape gives f'(x) = inner.gradient(y, x); compute it inside the outer tape's "
          "block, then outer.gradient(f'(x), x) is f''(x)")
PERSISTENT = ("record f(x) and g(x) under one tf.GradientTape(persistent=True) that watches x, "
              "then call tape.gradient once for f and once for g")


def fmt(values) -> str:
    return np.array2string(np.asarray(values, dtype=float), precision=6, separator=", ",
                           suppress_small=False, max_line_width=200)


# -- the function family and the grader's oracles -----------------------------------------
def random_spec(rng, shape) -> dict:
    terms = []
    for op in rng.choice(OPS, size=int(rng.integers(1, 4)), replace=False):
        sign = 1.0 if rng.random() < 0.5 else -1.0
        scale = float(rng.uniform(0.5, 1.0 if op == "exp" else 1.5)) * (1.0 if rng.random() < 0.5 else -1.0)
        terms.append([str(op), sign * float(rng.uniform(0.5, 2.0)), scale, float(rng.uniform(-1.0, 1.0))])
    coupling = float(rng.uniform(0.2, 1.0)) * (1.0 if rng.random() < 0.5 else -1.0)
    return {"terms": terms, "coupling": [coupling, np.asarray(rng.normal(size=shape))]}


def spec_text(spec) -> str:
    names = {"square": "({})**2", "cube": "({})**3", "sin": "sin({})", "cos": "cos({})",
             "tanh": "tanh({})", "exp": "exp({})"}
    parts = [f"{coef:+.3g} * " + names[op].format(f"{scale:.3g} * x_i {shift:+.3g}")
             for op, coef, scale, shift in spec["terms"]]
    coupling, _ = spec["coupling"]
    return f"f(x) = sum_i [{' '.join(parts)}] {coupling:+.3g} * (w . x)**2"


def tape_oracle(spec, x) -> np.ndarray:
    x = tf.constant(np.asarray(x, dtype=np.float64))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = build(spec)(x)
    return tape.gradient(y, x).numpy()


def second_oracle(spec, x: float) -> float:
    x = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = build(spec)(x)
        first = inner.gradient(y, x)
    return float(outer.gradient(first, x))


def differences(spec, x, h, central=True, restore=True) -> np.ndarray:
    """The grader's finite differences; ``restore=False`` replays a loop that leaves each nudged
    element at ``x - h``."""
    f = build(spec, numpy_only=True)
    x = np.array(x, dtype=np.float64)
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        above = f(x)
        x[index] = original - h if central else original
        below = f(x)
        if restore:
            x[index] = original
        gradient[index] = (above - below) / (2 * h if central else h)
    return gradient


def close(got, expected, rtol, atol) -> bool:
    return (isinstance(got, np.ndarray) and got.shape == np.shape(expected) and got.dtype.kind == "f"
            and bool(np.allclose(got, expected, rtol=rtol, atol=atol)))


def off_by(got, expected) -> str:
    if not isinstance(got, np.ndarray):
        return describe(got)
    if got.shape != np.shape(expected):
        return f"an array of shape {got.shape} (x has the shape {np.shape(expected)})"
    if got.dtype.kind != "f":
        return f"an array of dtype {got.dtype} (expected floats): {fmt(got)}"
    return f"{fmt(got)} (off by up to {np.abs(got - expected).max():.3g})"


# -- backprop_by_hand -------------------------------------------------------------------------
# Targeted triples every seed runs: b and c differ, are not 0 or 1, and have opposite signs,
# so a missing factor, a swapped factor or a flipped sign always shows.
BACKPROP_CASES = [(1.5, 2.0, -3.0), (-0.5, -1.25, 4.0)]
KEYS = ("J", "dJ_da", "dJ_db", "dJ_dc")


def backprop_cases(rng):
    cases = list(BACKPROP_CASES)
    for _ in range(3):
        a, b, c = (float(v) for v in np.round(rng.uniform(-5, 5, size=3), 3))
        if abs(b) > 0.1 and abs(c) > 0.1 and abs(abs(b) - abs(c)) > 0.1:
            cases.append((a, b, c))
    return cases


def backprop_answer(submission, a, b, c):
    got = submission.call("backprop_by_hand", a, b, c)
    call = f"backprop_by_hand({a}, {b}, {c})"
    expect_that(type(got) is dict and set(got) == set(KEYS),
                f"{call} returned {describe(got) if type(got) is not dict else 'a dict with keys ' + str(sorted(got))}; "
                f"expected a dict with exactly the keys {list(KEYS)}: J and its three partial derivatives")
    return call, got


def is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def backprop_reason(key, got, a, b, c) -> str:
    if key == "dJ_da":
        candidates = {1.0: "dJ/da is dJ/dv * dv/da = 3 * 1: did you drop the factor 3?",
                      -3.0: "a sign error: dJ/da = +3"}
    else:
        mine, other = (c, b) if key == "dJ_db" else (b, c)
        candidates = {mine: f"you dropped the outer factor: dJ/dv = 3 multiplies every path",
                      3 * other: f"you swapped the factors: d(b * c)/d{key[-1]} is the OTHER factor",
                      -3 * mine: "a sign error in one chain-rule factor: every local derivative here is positive"}
    for value, reason in candidates.items():
        if is_number(got) and np.isclose(float(got), value, rtol=1e-9, atol=1e-12):
            return reason
    return CHAIN_RULE


@check(task="backprop_by_hand", points=1)
def test_backprop_by_hand_returns_J_and_its_three_partials(submission, rng):
    for a, b, c in backprop_cases(rng):
        call, got = backprop_answer(submission, a, b, c)
        for key in KEYS:
            expect_that(is_number(got[key]), f"{call}[{key!r}] is {describe(got[key])}; expected a float "
                                             "(float(...) turns a NumPy or TensorFlow scalar into one)")
        expected = 3 * (a + b * c)
        expect_that(np.isclose(float(got["J"]), expected, rtol=1e-9, atol=1e-12),
                    f"{call}['J'] is {got['J']}; expected 3 * ({a} + {b} * {c}) = {expected:g}: the forward "
                    "pass computes u = b * c, v = a + u, J = 3 * v")


@check(task="backprop_by_hand", points=3)
def test_backprop_by_hand_partials_follow_the_chain_rule(submission, rng):
    for a, b, c in backprop_cases(rng):
        call, got = backprop_answer(submission, a, b, c)
        for key, expected in (("dJ_da", 3.0), ("dJ_db", 3.0 * c), ("dJ_dc", 3.0 * b)):
            value = got[key]
            if is_number(value) and np.isclose(float(value), expected, rtol=1e-9, atol=1e-12):
                continue
            raise CheckFailed(f"{call}[{key!r}] is {value if is_number(value) else describe(value)}; "
                              f"expected {expected:g}: {backprop_reason(key, value, a, b, c)}")


# -- numerical_gradient -----------------------------------------------------------------------
# A cubic has a large second derivative (a forward difference is off by about h/2 * f'') and a
# third one (a gradient made with another h than the one given is off by about h**2/6 * f''').
CUBIC = {"terms": [["cube", 1.0, 1.0, 0.0], ["sin", 0.5, 1.0, 0.3]], "coupling": [0.5, np.array([1.0, -1.0, 2.0])]}
CUBIC_X = np.array([1.0, 2.0, -1.5])
# Targeted shapes: a (2, 3) and a (2, 2) case whose coupling term ties every element to every other.
MATRIX = {"terms": [["tanh", 1.5, 1.0, 0.2], ["square", 0.5, 1.0, -0.3]],
          "coupling": [0.8, np.array([[1.0, -0.5, 2.0], [0.7, 1.2, -1.0]])]}
MATRIX_X = np.array([[0.5, -1.0, 1.2], [0.3, 0.9, -0.4]])
MATRIX_2X2 = {"terms": [["sin", 1.0, 1.0, 0.5], ["cube", 0.5, 1.0, 0.0]],
              "coupling": [0.6, np.array([[1.0, -1.5], [0.8, 2.0]])]}
RTOL, ATOL = 1e-7, 1e-8  # central differences in float64: rounding stays far below


def numerical_call(spec, x, h) -> str:
    step = "" if h is None else f", h={h:g}"
    return f"numerical_gradient(f, x={fmt(x)}{step}) with {spec_text(spec)}"


def run_numerical(submission, spec, x, h=None):
    call = numerical_call(spec, x, h)
    kwargs = {} if h is None else {"h": h}
    result = submission.probe(f"{PROBE}:numerical", spec, x, describe=call, **kwargs)
    return call, result


def numerical_reason(spec, x, h, got) -> str:
    h = 1e-4 if h is None else h
    if close(got, differences(spec, x, h, central=False), 1e-7, 1e-8):
        return ("that is a forward difference (f(x + h) - f(x)) / h, off by about h/2 * f''; the "
                "central difference (f(x + h) - f(x - h)) / (2 h) cancels that error")
    if close(got, differences(spec, x, h, restore=False), 1e-7, 1e-8):
        return ("every nudged element stayed at x - h while the next ones were nudged: put it back "
                "(x[i] = original) before moving on")
    for other in (1e-4, 1e-5, 1e-6, 1e-3, 1e-2):
        if other != h and close(got, differences(spec, x, other), 1e-6, 1e-8):
            return f"that is the central difference with h = {other:g}: use the h given ({h:g})"
    return CENTRAL


@check(task="numerical_gradient", points=3)
def test_numerical_gradient_matches_central_differences(submission, rng):
    cases = [(CUBIC, CUBIC_X, None), (CUBIC, CUBIC_X, 1e-2)]
    for shape, h in (((4,), None), ((3,), 1e-3), ((5,), None)):
        cases.append((random_spec(rng, shape), rng.uniform(-1.5, 1.5, size=shape), h))
    for spec, x, h in cases:
        call, result = run_numerical(submission, spec, x, h)
        got = result["gradient"]
        expected = differences(spec, x, 1e-4 if h is None else h)
        if not close(got, expected, RTOL, ATOL):
            raise CheckFailed(f"{call} returned {off_by(got, expected)}; expected {fmt(expected)} "
                              f"(tolerance {RTOL:g} relative): {numerical_reason(spec, x, h, got)}")


@check(task="numerical_gradient", points=1)
def test_numerical_gradient_keeps_the_shape_of_x(submission, rng):
    cases = [(MATRIX, MATRIX_X)]
    for shape in ((2, 1, 2), tuple(int(n) for n in rng.integers(2, 4, size=2))):
        cases.append((random_spec(rng, shape), rng.uniform(-1.5, 1.5, size=shape)))
    for spec, x in cases:
        shape = x.shape
        call, result = run_numerical(submission, spec, x, None)
        got = result["gradient"]
        expected = differences(spec, x, 1e-4)
        if not close(got, expected, RTOL, ATOL):
            reason = ("one partial derivative per element, in an array of the shape of x: loop over "
                      "np.ndindex(x.shape) (or work on x.reshape(-1) and reshape back)")
            if isinstance(got, np.ndarray) and got.shape == expected.shape:
                reason = numerical_reason(spec, x, None, got)
            raise CheckFailed(f"{call} on x of shape {shape} returned {off_by(got, expected)}; expected "
                              f"{fmt(expected)}: {reason}")


@check(task="numerical_gradient", points=1)
def test_numerical_gradient_works_on_integer_x_and_leaves_x_as_it_was(submission, rng):
    for spec, x in ((MATRIX_2X2, np.array([[1, -2], [0, 3]])),
                    (random_spec(rng, (3,)), rng.integers(-2, 3, size=(3,)))):
        call, result = run_numerical(submission, spec, x, None)
        got = result["gradient"]
        expected = differences(spec, x, 1e-4)
        after = result["x_after"]
        expect_that(isinstance(after, np.ndarray) and after.dtype == x.dtype and np.array_equal(after, x),
                    f"{call} changed the caller's x to {fmt(after)}; expected it left as {fmt(x)}: "
                    "nudge the elements of a copy (np.array(x, dtype=float)), or put each one back")
        if not close(got, expected, RTOL, ATOL):
            reason = numerical_reason(spec, x, None, got)
            if isinstance(got, np.ndarray) and got.dtype.kind in "iu":
                reason = "an integer array cannot hold x + h: work on a float copy, np.array(x, dtype=float)"
            raise CheckFailed(f"{call} on an integer x ({x.dtype}) returned {off_by(got, expected)}; "
                              f"expected {fmt(expected)}: {reason}")


# -- tape_gradient ----------------------------------------------------------------------------
TAPE_RTOL, TAPE_ATOL = 1e-4, 1e-5  # a tape in float32 is as right as one in float64


def tape_cases(rng):
    cases = [(CUBIC, CUBIC_X)]
    for shape in ((4,), (2, 3)):
        cases.append((random_spec(rng, shape), rng.uniform(-1.5, 1.5, size=shape)))
    return cases


def run_tape(submission, spec, x):
    call = f"tape_gradient(f, x of shape {x.shape}) with {spec_text(spec)}"
    return call, submission.probe(f"{PROBE}:tape", spec, x, describe=call)


def tape_failure(call, raised: SubmissionRaised) -> CheckFailed:
    reason = TAPE
    if "NoneType" in str(raised):
        reason = ("the tape returned None: it follows trainable variables on its own, but a constant "
                  "only after tape.watch(x), before f runs; " + TAPE)
    return CheckFailed(f"{raised}; expected the gradient of f at x: {reason}")


@check(task="tape_gradient", points=1)
def test_tape_gradient_returns_a_numpy_array_of_the_shape_of_x(submission, rng):
    for spec, x in tape_cases(rng)[1:]:
        call = f"tape_gradient(f, x of shape {x.shape})"
        try:
            got = run_tape(submission, spec, x)[1]["gradient"]
        except SubmissionRaised as raised:
            raise tape_failure(call, raised) from None
        expect_that(isinstance(got, np.ndarray) and got.shape == x.shape,
                    f"{call} returned {describe(got)}; expected a NumPy array of shape {x.shape}: "
                    "tape.gradient gives a tensor, .numpy() turns it into an array")


@check(task="tape_gradient", points=2)
def test_tape_gradient_matches_a_gradient_tape(submission, rng):
    for spec, x in tape_cases(rng):
        try:
            call, result = run_tape(submission, spec, x)
        except SubmissionRaised as raised:
            raise tape_failure(f"tape_gradient(f, x of shape {x.shape})", raised) from None
        got = result["gradient"]
        if hasattr(got, "array") and got.array is not None:
            got = got.array  # a tensor: its values are checked here, its type by the check above
        expected = tape_oracle(spec, x)
        expect_that(close(got, expected, TAPE_RTOL, TAPE_ATOL),
                    f"{call} at x = {fmt(x)} returned {off_by(got, expected)}; expected the tape's "
                    f"{fmt(expected)}: {TAPE}")


def tape_usage(call, counts, size, what, name="f") -> None:
    if counts["tensor_calls"] == 0:
        raise CheckFailed(
            f"{call} evaluated {name} {counts['calls']} times, never on a tensor; expected {name} to run once on a "
            f"watched tensor under a tf.GradientTape: {what} comes from the recorded operations, "
            "exactly, not from nudging x (numerical differences are not a tape)")
    if counts["calls"] > 2:
        raise CheckFailed(
            f"{call} evaluated {name} {counts['calls']} times for an x of {size} element(s); expected one "
            f"evaluation under the tape: {what} comes from the recorded operations, not from "
            "nudging x (numerical differences are not a tape)")


@check(task="tape_gradient", points=1)
def test_tape_gradient_differentiates_one_recorded_run_of_f(submission, rng):
    spec, x = random_spec(rng, (3,)), rng.uniform(-1.5, 1.5, size=(3,))
    try:
        call, result = run_tape(submission, spec, x)
    except SubmissionRaised as raised:
        raise tape_failure(f"tape_gradient(f, x of shape {x.shape})", raised) from None
    tape_usage(call, result, x.size, "the gradient")


# -- second_derivative ------------------------------------------------------------------------
SCALAR_CUBIC = {"terms": [["cube", 1.0, 1.0, 0.0], ["sin", 2.0, 1.5, 0.0]], "coupling": [0.0, np.array(0.0)]}


def second_cases(rng):
    cases = [(SCALAR_CUBIC, 1.25)]
    for _ in range(2):
        cases.append((random_spec(rng, ()), float(np.round(rng.uniform(-1.5, 1.5), 3))))
    return cases


def run_second(submission, spec, x):
    call = f"second_derivative(f, {x}) with {spec_text(spec)}"
    try:
        return call, submission.probe(f"{PROBE}:second", spec, x, describe=call)
    except SubmissionRaised as raised:
        reason = NESTED
        if "NoneType" in str(raised):
            reason = ("a tape returned None: both tapes must watch x, and the inner gradient must be "
                      "computed while the outer tape records; " + NESTED)
        raise CheckFailed(f"{raised}; expected f''({x}): {reason}") from None


@check(task="second_derivative", points=2)
def test_second_derivative_matches_nested_tapes(submission, rng):
    for spec, x in second_cases(rng):
        call, result = run_second(submission, spec, x)
        got = result["value"]
        expected = second_oracle(spec, x)
        if is_number(got) and np.isclose(float(got), expected, rtol=TAPE_RTOL, atol=TAPE_ATOL):
            continue
        if not is_number(got):
            raise CheckFailed(f"{call} returned {describe(got)}; expected the float {expected:.6g}: "
                              "float(tensor) turns the outer tape's answer into a Python float")
        reason = NESTED
        if np.isclose(float(got), float(tape_oracle(spec, x)), rtol=1e-6, atol=1e-9):
            reason = "that is f'(x), the first derivative: " + NESTED
        raise CheckFailed(f"{call} returned {float(got):.6g}; expected {expected:.6g}: {reason}")


@check(task="second_derivative", points=1)
def test_second_derivative_differentiates_one_recorded_run_of_f(submission, rng):
    spec, x = random_spec(rng, ()), float(np.round(rng.uniform(-1.5, 1.5), 3))
    call, result = run_second(submission, spec, x)
    tape_usage(call, result, 1, "the second derivative")


# -- persistent_gradients ---------------------------------------------------------------------
def run_persistent(submission, spec_f, spec_g, x):
    call = (f"persistent_gradients(f, g, x of shape {x.shape}) with {spec_text(spec_f)} and g "
            f"{spec_text(spec_g)[5:]}")
    try:
        return call, submission.probe(f"{PROBE}:persistent", spec_f, spec_g, x, describe=call)
    except SubmissionRaised as raised:
        reason = PERSISTENT
        if "non-persistent" in str(raised) or "only be used to compute one set" in str(raised):
            reason = "an ordinary tape answers one gradient call only: make it with persistent=True"
        elif "NoneType" in str(raised):
            reason = ("a gradient came back None: watch x, and evaluate both f and g inside the tape's "
                      "with block")
        raise CheckFailed(f"{raised}; expected (df/dx, dg/dx): {reason}") from None


@check(task="persistent_gradients", points=2)
def test_persistent_gradients_match_a_gradient_tape(submission, rng):
    cases = [(CUBIC, {"terms": [["tanh", -2.0, 1.0, 0.5]], "coupling": [-0.7, np.array([0.5, 1.0, -1.0])]},
              CUBIC_X)]
    for shape in ((4,), (2, 2)):
        cases.append((random_spec(rng, shape), random_spec(rng, shape), rng.uniform(-1.5, 1.5, size=shape)))
    for spec_f, spec_g, x in cases:
        call, result = run_persistent(submission, spec_f, spec_g, x)
        got = result["gradients"]
        expect_that(type(got) is tuple and len(got) == 2,
                    f"{call} returned {describe(got)}; expected a tuple (df/dx, dg/dx) of two NumPy arrays")
        expected = (tape_oracle(spec_f, x), tape_oracle(spec_g, x))
        for name, mine, theirs in zip(("df/dx", "dg/dx"), got, expected):
            if not isinstance(mine, np.ndarray):
                raise CheckFailed(f"{call} returned {name} as {describe(mine)}; expected a NumPy array "
                                  "of the shape of x: .numpy() turns a tensor into one")
            if close(mine, theirs, TAPE_RTOL, TAPE_ATOL):
                continue
            reason = PERSISTENT
            if close(mine, expected[0] + expected[1], TAPE_RTOL, TAPE_ATOL):
                reason = ("that is the gradient of f + g: tape.gradient([y_f, y_g], x) sums over its "
                          "targets; ask once per function")
            elif close(mine, expected[1 - ("df/dx", "dg/dx").index(name)], TAPE_RTOL, TAPE_ATOL):
                reason = "that is the other function's gradient: return (df/dx, dg/dx) in this order"
            raise CheckFailed(f"{call} returned {name} = {off_by(mine, theirs)}; expected {fmt(theirs)}: "
                              f"{reason}")


@check(task="persistent_gradients", points=1)
def test_persistent_gradients_differentiate_one_recorded_run_of_each(submission, rng):
    x = rng.uniform(-1.5, 1.5, size=(3,))
    call, result = run_persistent(submission, random_spec(rng, (3,)), random_spec(rng, (3,)), x)
    for name in ("f", "g"):
        tape_usage(call, result[name], x.size, "each gradient", name=name)
