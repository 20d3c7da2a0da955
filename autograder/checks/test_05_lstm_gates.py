"""Hidden checks for 05_lstm_gates: random weights, compared with keras.layers.LSTM itself.

The expected answers come from a Keras LSTM holding the same kernel, recurrent kernel and bias
(``layer.set_weights``). When an answer is wrong, the grader also replays the usual mistakes in
NumPy (a wrong gate order, a tanh gate, a missing forget term...) and, when one of them gives
exactly what came back, names it in the message.
"""

from __future__ import annotations

import numpy as np

from autograder.api import CheckFailed, check, expect_that
from autograder.oracle import oracle
from autograder.sandbox import SubmissionError, SubmissionRaised
from grimoire.feedback import describe
from grimoire.quiet import import_keras

keras = import_keras()

# What the learner writes themselves (enforced by the grader, check by check): the gates in
# NumPy, so no TensorFlow or Keras in the module (no keras.layers.LSTM holding the weights).
OWN_WORK = {
    "lstm_step": {"no_framework": True},
    "lstm_forward": {"no_framework": True},
}

ATOL = 1e-5
WEIGHT_NAMES = ("kernel", "recurrent_kernel", "bias")


# -- random cases and the Keras oracle ------------------------------------------------------
def random_weights(rng, input_dim, units, dtype):
    kernel = rng.normal(0.0, 0.7, size=(input_dim, 4 * units))
    recurrent_kernel = rng.normal(0.0, 0.7, size=(units, 4 * units))
    bias = rng.normal(0.0, 1.0, size=4 * units)  # random, so that a wrong gate order shows
    return tuple(w.astype(dtype) for w in (kernel, recurrent_kernel, bias))


def step_case(rng, dtype):
    batch, input_dim, units = (int(n) for n in rng.integers(1, 7, size=3))
    x_t = rng.normal(size=(batch, input_dim)).astype(dtype)
    h_prev = rng.uniform(-1, 1, size=(batch, units)).astype(dtype)
    c_prev = rng.normal(0.0, 1.5, size=(batch, units)).astype(dtype)
    return (x_t, h_prev, c_prev) + random_weights(rng, input_dim, units, dtype)


def sequence_case(rng, dtype):
    batch = int(rng.integers(1, 6))
    time = int(rng.choice([t for t in range(2, 9) if t != batch]))  # batch != time: axes can't mix
    input_dim, units = (int(n) for n in rng.integers(1, 7, size=2))
    x_seq = rng.normal(size=(batch, time, input_dim)).astype(dtype)
    return (x_seq,) + random_weights(rng, input_dim, units, dtype)


def keras_lstm(weights, dtype, **options):
    kernel, recurrent_kernel, bias = weights
    layer = keras.layers.LSTM(recurrent_kernel.shape[0], dtype=str(np.dtype(dtype)), **options)
    layer.build((None, None, kernel.shape[0]))
    layer.set_weights([kernel, recurrent_kernel, bias])
    return layer


@oracle
def keras_step(x_t, h_prev, c_prev, *weights):
    """(h_t, c_t) of a one-timestep Keras LSTM started from (h_prev, c_prev)."""
    layer = keras_lstm(weights, x_t.dtype, return_state=True)
    _, h_t, c_t = layer(x_t[:, None, :], initial_state=[h_prev, c_prev])
    return np.asarray(h_t), np.asarray(c_t)


@oracle
def keras_forward(x_seq, *weights, return_sequences=False):
    layer = keras_lstm(weights, x_seq.dtype, return_sequences=return_sequences)
    return np.asarray(layer(x_seq))


# -- the usual mistakes, replayed in NumPy to name them in a message ------------------------
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias, *, order="ifco", gate=sigmoid,
               reads_input=True, reads_state=True, bias_times=1, keeps_old_cell=True,
               tanh_on_cell=True):
    z = bias_times * bias
    z = z + x_t @ kernel if reads_input else z
    z = z + h_prev @ recurrent_kernel if reads_state else z
    blocks = dict(zip(order, np.split(z, 4, axis=-1)))
    i, f, o, g = gate(blocks["i"]), gate(blocks["f"]), gate(blocks["o"]), np.tanh(blocks["c"])
    c_t = (f * c_prev if keeps_old_cell else 0) + i * g
    return o * (np.tanh(c_t) if tanh_on_cell else c_t), c_t


STEP_MISTAKES = [
    ({"order": "ifoc"}, "your gates read the four blocks in the order i, f, o, c; Keras stores them "
                        "as input, forget, candidate, output (i, f, c, o)"),
    ({"order": "fico"}, "your gates read the four blocks in the order f, i, c, o; Keras stores them "
                        "as input, forget, candidate, output (i, f, c, o)"),
    ({"order": "icfo"}, "your gates read the four blocks in the order i, c, f, o; Keras stores them "
                        "as input, forget, candidate, output (i, f, c, o)"),
    ({"gate": np.tanh}, "you used tanh on the input, forget and output gates: a gate is a sigmoid, "
                        "a fraction in (0, 1) of what passes; only the candidate uses tanh"),
    ({"keeps_old_cell": False}, "your new cell state forgets c_prev entirely (c_t = i * g): the cell "
                                "is a conveyor belt, c_t = f * c_prev + i * g keeps what the forget "
                                "gate lets through"),
    ({"reads_state": False}, "your gates ignore h_prev: every gate reads x_t @ kernel + h_prev @ "
                             "recurrent_kernel + bias"),
    ({"reads_input": False}, "your gates ignore x_t: every gate reads x_t @ kernel + h_prev @ "
                             "recurrent_kernel + bias"),
    ({"bias_times": 2}, "you added the bias twice: each gate has one bias, added once"),
    ({"bias_times": 0}, "you left out the bias: z = x_t @ kernel + h_prev @ recurrent_kernel + bias"),
    ({"tanh_on_cell": False}, "you returned h_t = o * c_t: did you forget the tanh? h_t = o * tanh(c_t)"),
]

C_CONCEPT = ("c_t = f * c_prev + i * g, where z = x_t @ kernel + h_prev @ recurrent_kernel + bias "
             "splits into four blocks in the order i, f, c, o; i = sigmoid(z_i), f = sigmoid(z_f), "
             "g = tanh(z_c)")
H_CONCEPT = "h_t = o * tanh(c_t), where the output gate o = sigmoid(z_o) is the fourth block of z"


def close(got, expected) -> bool:
    return (isinstance(got, np.ndarray) and got.shape == expected.shape
            and bool(np.allclose(got, expected, rtol=0, atol=ATOL)))


def max_difference(got, expected) -> str:
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return f"{describe(got)}, not the shape {expected.shape} of Keras' answer"
    return f"an array that differs from Keras' by up to {np.abs(got - expected).max():.3g}"


def step_call(args) -> str:
    shapes = ", ".join(f"{name} {a.shape}" for name, a in zip(
        ("x_t", "h_prev", "c_prev") + WEIGHT_NAMES, args))
    return f"lstm_step({shapes}; {args[0].dtype})"


def forward_call(args, return_sequences) -> str:
    shapes = ", ".join(f"{name} {a.shape}" for name, a in zip(("x_seq",) + WEIGHT_NAMES, args))
    return f"lstm_forward({shapes}; {args[0].dtype}, return_sequences={return_sequences})"


SHAPES = ("x_t @ kernel and h_prev @ recurrent_kernel are both (batch, 4 * units); cut their sum into "
          "four blocks of units columns")


def came_back(got) -> str:
    """`a tuple of 2 (an array of shape (3, 4) ..., ...)` rather than a wall of numbers."""
    if type(got) in (tuple, list):
        return f"a {type(got).__name__} of {len(got)} ({', '.join(describe(part) for part in got)})"
    return describe(got)


def call_step(submission, args):
    try:
        return submission.call("lstm_step", *args)
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}; expected (h_t, c_t), each {args[1].shape}: {SHAPES}") from None


def pair(got, call):
    """The (h_t, c_t) that came back, or a failure that says what came back instead."""
    if type(got) in (tuple, list) and len(got) == 2:
        return got
    raise CheckFailed(f"{call} returned {came_back(got)}; expected a tuple (h_t, c_t) of two arrays: "
                      "lstm_step returns the new hidden state and the new cell state")


def explain_step(args, got, part, keras_answer):
    """Why a returned h_t (part 0) or c_t (part 1) is wrong, as precisely as the grader can tell."""
    if close(got, keras_answer[1 - part]):
        return ("it equals Keras' " + ("c_t" if part == 0 else "h_t") +
                ": return the pair in the order (h_t, c_t)")
    for options, message in STEP_MISTAKES:
        if part == 1 and not options.get("tanh_on_cell", True):
            continue  # a missing tanh on c leaves c_t right
        if close(got, numpy_step(*args, **options)[part]):
            return message
    return C_CONCEPT if part == 1 else H_CONCEPT


def check_step_part(submission, rng, part):
    name = ("h_t", "c_t")[part]
    for dtype in ("float32", "float64", "float32", "float64"):
        args = step_case(rng, dtype)
        call = step_call(args)
        h_t, c_t = pair(call_step(submission, args), call)
        got = (h_t, c_t)[part]
        expected = keras_step(*args)
        if close(got, expected[part]):
            continue
        reason = explain_step(args, got, part, expected)
        if part == 0 and not close(c_t, expected[1]) and reason == H_CONCEPT:
            reason += " (your c_t is wrong too: fix the cell state first)"
        raise CheckFailed(f"{call} returned {name} as {max_difference(got, expected[part])} "
                          f"(tolerance {ATOL:g}); expected Keras' LSTM {name}: {reason}")


# -- lstm_step --------------------------------------------------------------------------------
@check(task="lstm_step", points=1)
def test_lstm_step_returns_the_pair_h_c(submission, rng):
    for dtype in ("float32", "float64"):
        args = step_case(rng, dtype)
        call = step_call(args)
        got = call_step(submission, args)
        shape = args[1].shape
        expect_that(
            type(got) is tuple and len(got) == 2 and all(
                isinstance(part, np.ndarray) and part.shape == shape for part in got),
            f"{call} returned {came_back(got)}; expected a tuple (h_t, c_t) of two NumPy arrays of shape {shape} (batch, units): "
              "an LSTM carries two states, the hidden state h and the cell state c",
        )


@check(task="lstm_step", points=2)
def test_lstm_step_cell_state_matches_keras(submission, rng):
    check_step_part(submission, rng, part=1)


@check(task="lstm_step", points=2)
def test_lstm_step_hidden_state_matches_keras(submission, rng):
    check_step_part(submission, rng, part=0)


# -- lstm_forward -----------------------------------------------------------------------------
def numpy_forward(x_seq, kernel, recurrent_kernel, bias, *, carries_h=True, carries_c=True):
    zeros = np.zeros((x_seq.shape[0], recurrent_kernel.shape[0]), dtype=x_seq.dtype)
    h, c, outputs = zeros, zeros, []
    for t in range(x_seq.shape[1]):
        h_new, c_new = numpy_step(x_seq[:, t], h if carries_h else zeros, c if carries_c else zeros,
                                  kernel, recurrent_kernel, bias)
        h, c = h_new, c_new
        outputs.append(h)
    return np.stack(outputs, axis=1)


FORWARD_MISTAKES = [
    ({"carries_h": False, "carries_c": False}, "every step started again from zero states: feed each "
     "step's (h, c) into the next step"),
    ({"carries_h": False}, "every step started from a zero hidden state: feed each step's h into the next"),
    ({"carries_c": False}, "every step started from a zero cell state: carry c along with h, it is the "
     "LSTM's long-term memory"),
]
STEP_FIRST = ("your lstm_step does not agree with Keras yet (see its checks): fix it first, lstm_forward "
              "is lstm_step applied at every time step")


def step_first(problem: str) -> str:
    return f"{STEP_FIRST}; in lstm_step, {problem}"
# Words of NumPy's shape errors (matmul, broadcasting, indexing, unpacking): a slicing mistake.
SHAPE_WORDS = ("shape", "broadcast", "matmul", "dimension", "axis", "index", "unpack", "size")
FORWARD_CONCEPT = ("start from zero h and c, call lstm_step on x_seq[:, t] for t = 0, 1, ..., and carry "
                   "both states to the next step")


def step_problem(submission, x_seq, *weights) -> str | None:
    """What is wrong with the submission's own lstm_step on the first step of x_seq (from a
    random state), in words; None when it agrees with Keras."""
    rng = np.random.default_rng(0)
    units = weights[1].shape[0]
    h_prev, c_prev = (rng.uniform(-1, 1, size=(x_seq.shape[0], units)).astype(x_seq.dtype) for _ in range(2))
    args = (x_seq[:, 0], h_prev, c_prev) + tuple(weights)
    try:
        got = submission.call("lstm_step", *args)
    except SubmissionError as error:
        return f"it raises {str(error)[:200]}; {SHAPES}"
    expected = keras_step(*args)
    if type(got) not in (tuple, list) or len(got) != 2:
        return "it must return a tuple (h_t, c_t) of two arrays"
    for part in (1, 0):
        if not close(got[part], expected[part]):
            return explain_step(args, got[part], part, expected)
    return None


def step_agrees_with_keras(submission, x_seq, *weights) -> bool:
    return step_problem(submission, x_seq, *weights) is None


def explain_forward(submission, args, got, expected, return_sequences):
    batch, time = args[0].shape[:2]
    if return_sequences and isinstance(got, np.ndarray) and got.shape == (time, batch, expected.shape[-1]):
        return ("it holds (time, batch, units): loop over the time steps, x_seq[:, t] (not over "
                "the batch), and stack the hidden states along axis 1 (np.stack(outputs, axis=1)) "
                "to get (batch, time, units)")
    if return_sequences and isinstance(got, np.ndarray) and got.shape == expected.shape[::2]:
        return "with return_sequences=True, return the hidden state of every step, not only the last"
    if not return_sequences and isinstance(got, np.ndarray) and got.shape == (batch, time, expected.shape[-1]):
        return "with return_sequences=False, return only the last hidden state"
    problem = step_problem(submission, *args)
    if problem is not None:
        return step_first(problem)
    for options, message in FORWARD_MISTAKES:
        replay = numpy_forward(*args, **options)
        if close(got, replay if return_sequences else replay[:, -1]):
            return message
    return FORWARD_CONCEPT


def check_forward(submission, rng, return_sequences):
    what = "the hidden state of every step" if return_sequences else "the last hidden state"
    for dtype in ("float32", "float64", "float32"):
        args = sequence_case(rng, dtype)
        call = forward_call(args, return_sequences)
        kwargs = {"return_sequences": True} if return_sequences else {}
        expected = keras_forward(*args, return_sequences=return_sequences)
        try:
            got = submission.call("lstm_forward", *args, **kwargs)
        except SubmissionRaised as raised:
            problem = step_problem(submission, *args)
            if problem is not None:
                reason = step_first(problem)
            elif any(word in str(raised).lower() for word in SHAPE_WORDS):
                reason = ("your lstm_step agrees with Keras, and this error is about shapes: x_seq is "
                          "(batch, time, input_dim), so time step t is x_seq[:, t], a (batch, "
                          "input_dim) slice, and both states are (batch, units)")
            else:
                reason = (f"your lstm_step agrees with Keras, so the error is in lstm_forward "
                          f"itself: {FORWARD_CONCEPT}")
            raise CheckFailed(f"{raised}; expected {what}, shape {expected.shape}: {reason}") from None
        if not close(got, expected):
            raise CheckFailed(
                f"{call} returned {max_difference(got, expected)} (tolerance {ATOL:g}); expected "
                f"{what}, shape {expected.shape}, as keras.layers.LSTM gives it: "
                f"{explain_forward(submission, args, got, expected, return_sequences)}")


@check(task="lstm_forward", points=2)
def test_lstm_forward_last_state_matches_keras(submission, rng):
    check_forward(submission, rng, return_sequences=False)


@check(task="lstm_forward", points=2)
def test_lstm_forward_returns_every_step_with_return_sequences(submission, rng):
    check_forward(submission, rng, return_sequences=True)
