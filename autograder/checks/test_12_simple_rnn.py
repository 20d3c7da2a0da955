"""Hidden checks for 12_simple_rnn: random weights, compared with Keras' SimpleRNN itself.

The expected states come from ``keras.layers.SimpleRNNCell`` / ``keras.layers.SimpleRNN``
holding the same kernel, recurrent kernel and bias (``set_weights``); the expected gradient
norms from a ``tf.GradientTape`` over the Keras cell unrolled step by step. Every seed runs the
same targeted cases (a recurrent kernel far from symmetric, small and large recurrent weights,
a single ``(time, features)`` sequence, both values of ``return_sequences``) and then random
ones. When an answer is wrong, the grader replays the usual mistakes in NumPy (the recurrence
forgotten, the recurrent kernel transposed, the ``1 - tanh^2`` factor skipped...) and names the
one that gives exactly what came back.
"""

from __future__ import annotations

import numpy as np

from autograder.api import CheckFailed, check, expect_that
from autograder.oracle import oracle
from autograder.sandbox import SubmissionError, SubmissionRaised
from grimoire.feedback import describe
from grimoire.quiet import import_keras

keras = import_keras()
import tensorflow as tf  # noqa: E402  (after the quiet Keras import)

# The arithmetic is the lesson: the learner's three functions may not hand it to TensorFlow/Keras.
OWN_WORK = {
    "rnn_step": {"no_framework": True},
    "rnn_forward": {"no_framework": True},
    "hidden_state_gradient_norms": {"no_framework": True},
}

ATOL = 1e-5
GRADIENT_RTOL = 1e-6
WEIGHT_NAMES = ("kernel", "recurrent_kernel", "bias")
STEP = "h_t = tanh(x_t @ kernel + h_prev @ recurrent_kernel + bias)"


# -- cases -------------------------------------------------------------------------------------
def lopsided(rng, units: int) -> np.ndarray:
    """A recurrent kernel far from symmetric: its transpose reads the state very differently."""
    upper = np.triu(rng.uniform(0.8, 1.6, size=(units, units)), k=1)
    return (upper - 0.3 * upper.T + 0.2 * np.eye(units)) * rng.choice([-1.0, 1.0], size=(units, 1))


def random_weights(rng, input_dim, units, dtype, recurrent_scale=1.0, kind="normal", input_scale=0.8,
                   bias_scale=0.5):
    kernel = rng.normal(0.0, input_scale, size=(input_dim, units))
    if kind == "lopsided":
        recurrent_kernel = lopsided(rng, units)
    else:
        recurrent_kernel = rng.normal(0.0, recurrent_scale / np.sqrt(units), size=(units, units))
    bias = rng.normal(0.0, bias_scale, size=units)
    return tuple(np.asarray(w, dtype=dtype) for w in (kernel, recurrent_kernel, bias))


def sizes(rng, low_units=2, low_batch=1):
    """(batch, time, input_dim, units), all different, so that no two axes can be mixed up."""
    while True:
        batch, time = int(rng.integers(low_batch, 6)), int(rng.integers(2, 9))
        input_dim, units = int(rng.integers(1, 6)), int(rng.integers(low_units, 7))
        if batch != time and input_dim != units and batch != units:
            return batch, time, input_dim, units


def keras_cell(weights, dtype):
    kernel, recurrent_kernel, bias = weights
    cell = keras.layers.SimpleRNNCell(recurrent_kernel.shape[0], dtype=str(np.dtype(dtype)))
    cell.build((None, kernel.shape[0]))
    cell.set_weights([kernel, recurrent_kernel, bias])
    return cell


@oracle
def keras_step(x_t, h_prev, *weights):
    _, states = keras_cell(weights, x_t.dtype)(x_t, [h_prev])
    state = states[0] if isinstance(states, (list, tuple)) else states
    return np.asarray(state)


@oracle
def keras_forward(x_seq, *weights, return_sequences=False):
    """keras.layers.SimpleRNN on x_seq; a single (time, features) sequence runs as a batch of one."""
    kernel, recurrent_kernel, bias = weights
    layer = keras.layers.SimpleRNN(recurrent_kernel.shape[0], return_sequences=return_sequences,
                                   dtype=str(x_seq.dtype))
    layer.build((None, None, kernel.shape[0]))
    layer.set_weights([kernel, recurrent_kernel, bias])
    if x_seq.ndim == 2:
        return np.asarray(layer(x_seq[None]))[0]
    return np.asarray(layer(x_seq))


def tape_gradient_norms(x_seq, *weights) -> np.ndarray:
    """|d sum(h_T) / d h_t| for every t, by a GradientTape over Keras' own cell, in float64."""
    weights64 = tuple(w.astype(np.float64) for w in weights)
    cell = keras_cell(weights64, np.float64)
    h = tf.zeros((1, weights64[1].shape[0]), dtype=tf.float64)
    states = []
    with tf.GradientTape() as tape:
        tape.watch(h)
        for x_t in x_seq.astype(np.float64):
            _, new = cell(tf.constant(x_t[None]), [h])
            h = new[0] if isinstance(new, (list, tuple)) else new
            states.append(h)
        total = tf.reduce_sum(states[-1])
    gradients = tape.gradient(total, states)
    return np.array([float(tf.norm(g)) for g in gradients])


# -- the usual mistakes, replayed in NumPy to name them in a message -----------------------------
def numpy_step(x_t, h_prev, kernel, recurrent_kernel, bias, *, reads_state=True, transposed=False,
               activation=np.tanh, bias_times=1):
    recurrent = recurrent_kernel.T if transposed else recurrent_kernel
    z = x_t @ kernel + bias_times * bias
    z = z + h_prev @ recurrent if reads_state else z
    return activation(z)


STEP_MISTAKES = [
    ({"transposed": True}, "you multiplied the state by the transposed recurrent kernel: Keras stores "
                           "recurrent_kernel as (units, units) with the previous state on the left, "
                           "h_prev @ recurrent_kernel (rows read, columns write)"),
    ({"reads_state": False}, "your step ignores h_prev, so the RNN forgets the recurrence and has no "
                             "memory: the state reads "
                             "x_t @ kernel + h_prev @ recurrent_kernel + bias"),
    ({"activation": lambda z: z}, "you left out the tanh: a SimpleRNN squashes the sum with tanh"),
    ({"activation": lambda z: 1.0 / (1.0 + np.exp(-z))},
     "you used a sigmoid: keras.layers.SimpleRNN's activation is tanh"),
    ({"activation": lambda z: np.maximum(z, 0.0)}, "you used relu: keras.layers.SimpleRNN's activation is tanh"),
    ({"bias_times": 2}, "you added the bias twice: it is added once"),
    ({"bias_times": 0}, "you left out the bias"),
]


def close(got, expected, atol=ATOL) -> bool:
    return (isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype.kind == "f"
            and bool(np.allclose(got, expected, rtol=0, atol=atol)))


def max_difference(got, expected) -> str:
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return f"{describe(got)}, not an array of the shape {expected.shape} of Keras' answer"
    if got.dtype.kind != "f":
        return f"an array of dtype {got.dtype}, not floats"
    return f"an array that differs from Keras' by up to {np.abs(got - expected).max():.3g}"


def step_call(args) -> str:
    shapes = ", ".join(f"{name} {a.shape}" for name, a in zip(("x_t", "h_prev") + WEIGHT_NAMES, args))
    return f"rnn_step({shapes}; {args[0].dtype})"


def call_step(submission, args):
    try:
        return submission.call("rnn_step", *args)
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}; expected h_t of shape {args[1].shape} (batch, units): x_t @ kernel "
                          "and h_prev @ recurrent_kernel are both (batch, units) in Keras' layout") from None


def explain_step(args, got):
    for options, message in STEP_MISTAKES:
        if close(got, numpy_step(*args, **options)):
            return message
    return STEP


def expect_step(submission, args, what):
    call = step_call(args)
    got = call_step(submission, args)
    expected = keras_step(*args)
    if not close(got, expected):
        raise CheckFailed(f"{call}{what} returned {max_difference(got, expected)} (tolerance {ATOL:g}); "
                          f"expected the state of keras.layers.SimpleRNNCell: {explain_step(args, got)}")


# -- rnn_step ------------------------------------------------------------------------------------
@check(task="rnn_step", points=1)
def test_rnn_step_from_a_zero_state_matches_keras(submission, rng):
    for index, dtype in enumerate(("float32", "float64", "float32")):
        batch, _, input_dim, units = sizes(rng)
        if index == 0:
            batch, input_dim, units = 3, 2, 4
        x_t = rng.normal(size=(batch, input_dim)).astype(dtype)
        h_prev = np.zeros((batch, units), dtype=dtype)
        expect_step(submission, (x_t, h_prev) + random_weights(rng, input_dim, units, dtype),
                    " (h_prev all zeros)")


@check(task="rnn_step", points=2)
def test_rnn_step_carries_the_previous_state_like_keras(submission, rng):
    cases = [("lopsided", 1.0, "float64"), ("normal", 0.3, "float32"), ("normal", 3.0, "float64")]
    cases += [("normal", float(rng.uniform(0.5, 2.0)), dtype) for dtype in ("float32", "float64")]
    for index, (kind, scale, dtype) in enumerate(cases):
        batch, _, input_dim, units = sizes(rng, low_units=3 if index < 3 else 2)
        x_t = rng.normal(size=(batch, input_dim)).astype(dtype)
        h_prev = rng.uniform(-1.0, 1.0, size=(batch, units)).astype(dtype)
        weights = random_weights(rng, input_dim, units, dtype, recurrent_scale=scale, kind=kind)
        what = {"lopsided": " (a recurrent kernel far from symmetric)"}.get(
            kind, f" (recurrent weights of scale {scale:.2g})")
        expect_step(submission, (x_t, h_prev) + weights, what)


# -- rnn_forward ---------------------------------------------------------------------------------
def numpy_forward(x_seq, kernel, recurrent_kernel, bias, *, carries_state=True, **step_options):
    h = np.zeros((x_seq.shape[0], recurrent_kernel.shape[0]), dtype=x_seq.dtype)
    states = []
    for t in range(x_seq.shape[1]):
        new = numpy_step(x_seq[:, t], h, kernel, recurrent_kernel, bias, **step_options)
        h = new if carries_state else np.zeros_like(h)
        states.append(new)
    return np.stack(states, axis=1)


FORWARD_MISTAKES = [
    ({"carries_state": False}, "every step started again from a zero state, so the RNN forgets the "
                               "recurrence: feed each step's h_t into the next step"),
    ({"reads_state": False}, "your steps ignore the previous state, so the RNN forgets the recurrence: "
                             "each step reads h_prev @ recurrent_kernel"),
    ({"transposed": True}, "you multiplied the state by the transposed recurrent kernel: in Keras' "
                           "layout it is h_prev @ recurrent_kernel"),
]
FORWARD = ("start from a zero state, apply h_t = tanh(x_t @ kernel + h_prev @ recurrent_kernel + bias) "
           "to x_seq[:, t] for t = 0, 1, ... and carry h_t to the next step")
STEP_FIRST = ("your rnn_step does not agree with Keras yet (see its checks): fix it first, rnn_forward "
              "is rnn_step applied at every time step")


def forward_call(args, return_sequences) -> str:
    shapes = ", ".join(f"{name} {a.shape}" for name, a in zip(("x_seq",) + WEIGHT_NAMES, args))
    return f"rnn_forward({shapes}; {args[0].dtype}, return_sequences={return_sequences})"


def step_problem(submission, x_seq, *weights) -> str | None:
    """What is wrong with the submission's own rnn_step on a step of x_seq (from a random state),
    in words; None when it agrees with Keras."""
    first = x_seq[:, 0] if x_seq.ndim == 3 else x_seq[:1]
    h_prev = np.random.default_rng(0).uniform(-1, 1, size=(first.shape[0], weights[1].shape[0]))
    args = (first, h_prev.astype(x_seq.dtype)) + tuple(weights)
    try:
        got = submission.call("rnn_step", *args)
    except SubmissionError as error:
        return f"it raises {str(error)[:200]}"
    return None if close(got, keras_step(*args)) else explain_step(args, got)


def step_first(problem: str) -> str:
    return f"{STEP_FIRST}; in rnn_step, {problem}"


def explain_forward(submission, args, got, expected, return_sequences):
    x_seq = args[0]
    single = x_seq.ndim == 2
    units = expected.shape[-1]
    time = x_seq.shape[0] if single else x_seq.shape[1]
    if isinstance(got, np.ndarray):
        if single and got.shape == (1,) + expected.shape:
            return "a single (time, features) sequence gives its answer without a batch axis"
        if return_sequences and not single and got.shape == (time, x_seq.shape[0], units):
            return ("it holds (time, batch, units): stack the states along axis 1 (np.stack(states, "
                    "axis=1)) to get (batch, time, units)")
        if return_sequences and got.shape == expected.shape[:-2] + (units,):
            return "with return_sequences=True, return the state after every step, not only the last"
        if not return_sequences and got.ndim == expected.ndim + 1 and got.shape[-1] == units:
            return "with return_sequences=False, return only the last state"
    problem = step_problem(submission, *args)
    if problem is not None:
        return step_first(problem)
    batched = (x_seq[None],) + tuple(args[1:]) if single else args
    for options, message in FORWARD_MISTAKES:
        replay = numpy_forward(*batched, **options)
        replay = replay if return_sequences else replay[:, -1]
        if close(got, replay[0] if single else replay):
            return message
    return FORWARD


def expect_forward(submission, args, return_sequences, what=""):
    call = forward_call(args, return_sequences)
    kwargs = {"return_sequences": True} if return_sequences else {}
    expected = keras_forward(*args, return_sequences=return_sequences)
    try:
        got = submission.call("rnn_forward", *args, **kwargs)
    except SubmissionRaised as raised:
        if args[0].ndim == 2:
            reason = ("x_seq may be a single sequence (time, input_dim): treat it as a batch of one "
                      "(x_seq[None]) and drop that batch axis from the answer")
        elif (problem := step_problem(submission, *args)) is None:
            reason = ("x_seq is (batch, time, input_dim), so time step t is x_seq[:, t], a (batch, "
                      "input_dim) slice, and the state is (batch, units)")
        else:
            reason = step_first(problem)
        raise CheckFailed(f"{raised}; expected {what}, shape {expected.shape}: {reason}") from None
    if not close(got, expected):
        raise CheckFailed(
            f"{call} returned {max_difference(got, expected)} (tolerance {ATOL:g}); expected {what}, "
            f"shape {expected.shape}, as keras.layers.SimpleRNN gives it: "
            f"{explain_forward(submission, args, got, expected, return_sequences)}")


def sequence_case(rng, dtype, batch=None, low_batch=1, **weight_options):
    size_batch, time, input_dim, units = sizes(rng, low_batch=low_batch)
    shape = (time, input_dim) if batch == 0 else (batch or size_batch, time, input_dim)
    x_seq = rng.normal(size=shape).astype(dtype)
    return (x_seq,) + random_weights(rng, input_dim, units, dtype, **weight_options)


def batched_cases(rng):
    """Targeted first (far-from-symmetric, small and large recurrent weights; a batch of two or
    more, so that a loop over the batch shows), then random."""
    yield sequence_case(rng, "float64", low_batch=2, kind="lopsided")
    yield sequence_case(rng, "float32", low_batch=2, recurrent_scale=0.3)
    yield sequence_case(rng, "float64", low_batch=2, recurrent_scale=3.0)
    for dtype in ("float32", "float64"):
        yield sequence_case(rng, dtype, recurrent_scale=float(rng.uniform(0.5, 2.0)))


@check(task="rnn_forward", points=2)
def test_rnn_forward_last_state_matches_keras(submission, rng):
    for args in batched_cases(rng):
        expect_forward(submission, args, False, "the last state")


@check(task="rnn_forward", points=2)
def test_rnn_forward_returns_every_state_with_return_sequences(submission, rng):
    for args in batched_cases(rng):
        expect_forward(submission, args, True, "the state after every step")


@check(task="rnn_forward", points=1)
def test_rnn_forward_runs_a_single_sequence(submission, rng):
    for dtype, kind in (("float64", "lopsided"), ("float32", "normal")):
        args = sequence_case(rng, dtype, batch=0, kind=kind)
        expect_forward(submission, args, False, "the last state of the single sequence, no batch axis")
        expect_forward(submission, args, True, "the state after every step of the single sequence, "
                                               "no batch axis")


# -- hidden_state_gradient_norms -------------------------------------------------------------------
def numpy_norms(x_seq, kernel, recurrent_kernel, bias, *, derivative="next", transposed=True,
                reverse=False, of="state", carries_state=True):
    """The backward pass, with the usual mistakes as options."""
    states = numpy_forward(x_seq[None].astype(np.float64), kernel, recurrent_kernel, bias,
                           carries_state=carries_state)[0]
    recurrent = recurrent_kernel.T if transposed else recurrent_kernel
    gradient = np.ones(states.shape[-1])
    gradients = [gradient]
    for t in range(states.shape[0] - 2, -1, -1):
        factor = {"next": 1.0 - states[t + 1] ** 2, "same": 1.0 - states[t] ** 2, "none": 1.0,
                  "tanh": states[t + 1]}[derivative]
        gradient = (gradient * factor) @ recurrent
        gradients.append(gradient)
    gradients = gradients[::-1]
    if of == "preactivation":
        gradients = [g * (1.0 - h**2) for g, h in zip(gradients, states)]
    norms = np.array([np.linalg.norm(g) for g in gradients])
    return norms[::-1] if reverse else norms


GRADIENT_MISTAKES = [
    ({"derivative": "none"}, "your gradient skips the 1 - tanh^2 factor: going back through "
                             "h_{t+1} = tanh(z_{t+1}) multiplies it by tanh'(z_{t+1}) = 1 - h_{t+1}^2"),
    ({"derivative": "same"}, "you multiplied by 1 - h_t^2, the derivative of the step that made h_t: the "
                             "step back from h_{t+1} to h_t goes through tanh'(z_{t+1}) = 1 - h_{t+1}^2"),
    ({"derivative": "tanh"}, "you multiplied by h_{t+1} = tanh(z_{t+1}) instead of its derivative "
                             "1 - h_{t+1}^2"),
    ({"transposed": False}, "you multiplied the gradient by recurrent_kernel, not its transpose: the "
                            "forward step is h_t @ recurrent_kernel, so the gradient flows back through "
                            "@ recurrent_kernel.T"),
    ({"reverse": True}, "your norms run from the last step to the first: return them in time order, "
                        "the last entry (sqrt(units)) for h_{T-1}"),
    ({"of": "preactivation"}, "those are the norms of the gradient with respect to the pre-activations "
                              "z_t; the task asks for the gradient with respect to the states h_t"),
    ({"carries_state": False}, "your forward pass forgets the recurrence (every step starts from a zero "
                               "state), so the 1 - h^2 factors are wrong"),
]
GRADIENT = ("g_{T-1} = ones(units), then g_t = (g_{t+1} * (1 - h_{t+1}^2)) @ recurrent_kernel.T, with the "
            "states h_t of a forward pass from a zero state; return |g_t| for t = 0 ... T-1")


def gradient_case(rng, time, input_dim, units, recurrent_scale, input_scale, orthogonal=False):
    x_seq = rng.normal(0.0, input_scale, size=(time, input_dim))
    kernel = rng.normal(0.0, 0.8, size=(input_dim, units))
    if orthogonal:  # every singular value equal to the scale: a clean vanish or explode
        q, r = np.linalg.qr(rng.normal(size=(units, units)))
        recurrent_kernel = recurrent_scale * q * np.sign(np.diag(r))
        recurrent_kernel = recurrent_kernel @ np.diag(rng.choice([-1.0, 1.0], size=units))
    else:
        recurrent_kernel = rng.normal(0.0, recurrent_scale / np.sqrt(units), size=(units, units))
    bias = rng.normal(0.0, input_scale, size=units)
    return x_seq, kernel, recurrent_kernel, bias


def gradient_call(args, label) -> str:
    shapes = ", ".join(f"{name} {a.shape}" for name, a in zip(("x_seq",) + WEIGHT_NAMES, args))
    return f"hidden_state_gradient_norms({shapes}){label}"


def fmt(values) -> str:
    return np.array2string(np.asarray(values, dtype=float), precision=4, separator=", ", max_line_width=400)


def norms_of(submission, args, label):
    call = gradient_call(args, label)
    try:
        got = submission.call("hidden_state_gradient_norms", *args)
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}; expected an array of shape ({args[0].shape[0]},): one norm per "
                          f"time step of the single sequence x_seq (time, input_dim)") from None
    return call, got


@check(task="hidden_state_gradient_norms", points=1)
def test_gradient_norms_have_one_entry_per_step_and_end_at_sqrt_units(submission, rng):
    for index in range(2):
        time, input_dim, units = int(rng.integers(4, 9)), int(rng.integers(1, 5)), int(rng.integers(2, 7))
        args = gradient_case(rng, time, input_dim, units, float(rng.uniform(0.5, 1.5)), 0.5)
        call, got = norms_of(submission, args, "")
        expect_that(isinstance(got, np.ndarray) and got.shape == (time,) and got.dtype.kind == "f", (
            f"{call} returned {describe(got)}; expected a float array of shape ({time},): one norm per "
            "time step, |d sum(h_T) / d h_t| for t = 0 ... T-1 (np.linalg.norm of each (units,) gradient)"))
        if np.isclose(got[-1], np.sqrt(units), rtol=1e-6):
            continue
        hint = ""
        if np.isclose(got[0], np.sqrt(units), rtol=1e-6):
            hint = " Yours is the first entry: return the norms in time order, the last step last."
        elif np.isclose(got[-1], numpy_norms(*args, of="preactivation")[-1], rtol=1e-6):
            hint = (" Yours is the norm of 1 - h_T^2, the gradient with respect to the pre-activation "
                    "z_T: the task asks for the gradient with respect to the state h_t.")
        raise CheckFailed(
            f"{call} returned {fmt(got)}, whose last entry is {got[-1]:.6g}; expected sqrt(units) = "
            f"sqrt({units}) = {np.sqrt(units):.6g} there: the gradient of sum(h_T) with respect to h_T "
            f"itself is a vector of ones (entries in time order, the last step last).{hint}")


@check(task="hidden_state_gradient_norms", points=3)
def test_gradient_norms_match_a_gradient_tape(submission, rng):
    cases = [  # (label, time, input_dim, units, recurrent scale, input scale, orthogonal)
        (" (moderate weights: tanh' matters)", 8, 3, 4, 1.5, 1.0, False),
        (" (small recurrent weights: the gradient vanishes)", 12, 2, 5, 0.5, 0.01, True),
        (" (large recurrent weights, tanh unsaturated: the gradient explodes)", 12, 2, 5, 1.6, 1e-4, True),
        (" (large recurrent weights, saturated units)", 10, 3, 4, 3.0, 1.0, False),
    ]
    time, input_dim, units = int(rng.integers(5, 11)), int(rng.integers(1, 5)), int(rng.integers(2, 7))
    cases.append(("", time, input_dim, units, float(rng.uniform(0.5, 2.5)), float(rng.uniform(0.2, 1.0)), False))
    for label, time, input_dim, units, scale, input_scale, orthogonal in cases:
        args = gradient_case(rng, time, input_dim, units, scale, input_scale, orthogonal)
        call, got = norms_of(submission, args, label)
        expected = tape_gradient_norms(*args)
        if (isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype.kind == "f"
                and np.allclose(got, expected, rtol=GRADIENT_RTOL, atol=1e-12 * expected.max())):
            continue
        reason = GRADIENT
        if isinstance(got, np.ndarray) and got.shape == expected.shape:
            for options, message in GRADIENT_MISTAKES:
                if np.allclose(got, numpy_norms(*args, **options), rtol=1e-6, atol=1e-12):
                    reason = message
                    break
        elif isinstance(got, np.ndarray) and got.shape == (time, units):
            reason = ("you returned the gradient vectors g_t themselves: return their norms, "
                      "np.linalg.norm of each, one number per step")
        problem = step_problem(submission, args[0][None], *args[1:])
        if problem is not None:
            reason += f" (and your rnn_step does not agree with Keras yet: {problem})"
        same_shape = isinstance(got, np.ndarray) and got.shape == expected.shape
        raise CheckFailed(
            f"{call} returned {fmt(got) if same_shape else describe(got)}; expected "
            f"{fmt(expected)} (relative tolerance {GRADIENT_RTOL:g}), the norms a tf.GradientTape finds "
            f"through keras.layers.SimpleRNNCell: {reason}")
