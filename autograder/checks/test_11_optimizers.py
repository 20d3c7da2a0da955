"""Hidden checks for 11_optimizers: the learner's steps, chained, against Keras' own optimizers.

The oracle is ``keras.optimizers.SGD`` / ``RMSprop`` / ``Adam`` applied to a float64
``keras.Variable`` for several steps (its slots set first where a case starts from a given
state). The learner's function is called once per step, fed the state it returned the step
before, as a training loop would. Keras rounds some hyperparameters through float32 (the
learning rate is a float32 variable, Adam's betas are cast before their powers), so every case
hands both sides the float32-rounded value; answers then agree to about 1e-15, and the
tolerance (1e-4 of the largest step) only absorbs the order of operations.

Epsilon placement only shows with tiny gradients or a large epsilon: the random cases keep
``|grad|`` between 0.5 and 2, where it is invisible, and the epsilon checks run both extremes
every seed. Each caught mistake is replayed in NumPy to name it in the message.
"""

from __future__ import annotations

import numpy as np

from autograder.api import CheckFailed, check
from autograder.sandbox import SubmissionRaised
from grimoire.feedback import describe
from grimoire.quiet import import_keras

keras = import_keras()

# The learner writes the arithmetic: no TensorFlow or Keras in any task of this topic.
OWN_WORK = {
    "sgd_step": {"no_framework": True},
    "rmsprop_step": {"no_framework": True},
    "adam_step": {"no_framework": True},
}

RELATIVE = 1e-4  # of the largest single step (for parameters) or of the largest state value


def f32(value: float) -> float:
    """The float Keras actually uses for a hyperparameter it keeps in float32."""
    return float(np.float32(value))


# -- cases ----------------------------------------------------------------------------------
def random_shape(rng):
    return tuple(int(n) for n in rng.integers(2, 5, size=int(rng.integers(1, 3))))


def gradients(rng, shape, steps, scale=1.0):
    """|grad| between 0.5 and 2 (times scale), random signs: epsilon stays invisible at scale 1."""
    return [(rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape) * scale)
            for _ in range(steps)]


# -- the Keras oracle -----------------------------------------------------------------------
def keras_run(optimizer, param, grads, slots=(), iterations=0):
    """[(param, [slot, ...]) after each step] of a Keras optimizer on a float64 variable."""
    variable = keras.Variable(np.array(param, dtype=np.float64), dtype="float64")
    optimizer.build([variable])
    slot_variables = [v for v in optimizer.variables if v.path.endswith(("momentum", "velocity"))]
    for slot, value in zip(slot_variables, slots):
        slot.assign(value)
    optimizer.iterations.assign(iterations)
    history = []
    for grad in grads:
        optimizer.apply([grad], [variable])
        history.append((np.array(variable.numpy()), [np.array(s.numpy()) for s in slot_variables]))
    return history


# -- the learner's steps, chained --------------------------------------------------------------
def learner_run(submission, name, call, param, grads, state, kwargs, first_step=None):
    """[(param, state tuple) after each step], calling the submission once per step."""
    history = []
    for index, grad in enumerate(grads):
        step = () if first_step is None else (first_step + index,)
        try:
            got = submission.call(name, param, grad, *state, *step, **kwargs)
        except SubmissionRaised as raised:
            raise CheckFailed(f"{raised}; at step {index + 1} of {call}: expected a tuple of "
                              f"{1 + len(state)} arrays of shape {param.shape}") from None
        expect_tuple(got, 1 + len(state), param.shape, call)
        param, *state = got
        history.append((param, tuple(state)))
    return history


STATE_INDEX = {"velocity": 0, "average_square": 0, "m": 0, "v": 1}  # where each sits in the state tuple


def expect_tuple(got, length, shape, call):
    ok = (type(got) in (tuple, list) and len(got) == length
          and all(isinstance(part, np.ndarray) and part.shape == shape for part in got))
    if not ok:
        parts = (f"a {type(got).__name__} of {len(got)} ({', '.join(describe(p) for p in got)})"
                 if type(got) in (tuple, list) else describe(got))
        raise CheckFailed(f"{call} returned {parts}; expected a tuple of {length} NumPy arrays of shape "
                          f"{shape}: the new parameter first, then the new state, fed back at the next step")


def within(got, expected, scale) -> bool:
    return bool(np.all(np.abs(np.asarray(got, dtype=np.float64) - expected) <= RELATIVE * scale + 1e-300))


def largest_step(start, params) -> float:
    previous, largest = start, 0.0
    for param in params:
        largest = max(largest, float(np.max(np.abs(param - previous))))
        previous = param
    return largest


def compare(mine, theirs, start, what, call, explain, compare_state=None, compare_param=True):
    """Step by step: the parameter and the states named in ``compare_state`` against Keras'."""
    step_scale = largest_step(start, [p for p, _ in theirs])
    state_scales = {name: max(float(np.max(np.abs(s[name]))) for _, s in theirs)
                    for name in (compare_state or ())}
    for index, ((my_param, my_state), (param, state)) in enumerate(zip(mine, theirs)):
        wrong = []
        if compare_param and not within(my_param, param, step_scale):
            wrong.append(("param", my_param, param))
        for name in compare_state or ():
            mine_value = my_state[STATE_INDEX[name]]
            if not within(mine_value, state[name], state_scales[name]):
                wrong.append((name, mine_value, state[name]))
        if wrong:
            name, got, expected = wrong[0]
            worst = float(np.max(np.abs(got - expected)))
            scale = step_scale if name == "param" else state_scales[name]
            yardstick = "its largest step" if name == "param" else "its largest value"
            raise CheckFailed(
                f"after step {index + 1} of {call}, your {name} differs from {what} by up to {worst:.3g} "
                f"(tolerance {RELATIVE * scale:.2g}, {RELATIVE:g} of {yardstick}); expected the same "
                f"{'parameter' if name == 'param' else name} at every step: "
                f"{explain(index, [w[0] for w in wrong])}")


def replay_matches(replayed, mine, index) -> bool:
    """Does a mistake replayed in NumPy give the learner's param and state after step ``index``?"""
    (param, state), (my_param, my_state) = replayed[index], mine[index]
    parts = [(param, my_param)] + list(zip(state, my_state))
    return all(np.allclose(a, b, rtol=1e-9, atol=1e-300) for a, b in parts)


def explainer(mistakes, mine, replay, concept):
    """Name the first usual mistake whose replay gives what came back, or state the concept."""
    def explain(index, wrong):
        for options, message in mistakes:
            if replay_matches(replay(**options), mine, index):
                return message
        return concept
    return explain


def fmt(value) -> str:
    return f"{value:.6g}"


# -- SGD --------------------------------------------------------------------------------------
def numpy_sgd(param, grads, velocity, learning_rate, momentum, nesterov, *, flipped=False,
              pytorch=False, ignore_nesterov=False, keep_velocity_at_zero=False):
    history = []
    for grad in grads:
        if keep_velocity_at_zero and momentum == 0:
            param, velocity = param - learning_rate * grad, velocity
        elif pytorch:
            velocity = momentum * velocity + grad
            look = momentum * velocity + grad if nesterov and not ignore_nesterov else velocity
            param = param - learning_rate * look
        elif flipped:
            velocity = momentum * velocity + learning_rate * grad
            look = momentum * velocity + learning_rate * grad if nesterov and not ignore_nesterov else velocity
            param = param - look
        else:
            velocity = momentum * velocity - learning_rate * grad
            look = momentum * velocity - learning_rate * grad if nesterov and not ignore_nesterov else velocity
            param = param + look
        history.append((param, (velocity,)))
    return history


SGD_MISTAKES = [
    ({"flipped": True}, "your velocity points uphill (momentum * velocity + learning_rate * grad, then "
                        "subtracted): Keras' velocity is momentum * velocity - learning_rate * grad and "
                        "the parameter becomes param + velocity"),
    ({"pytorch": True}, "that is PyTorch's velocity (momentum * velocity + grad, times the learning rate "
                        "when applied): Keras' velocity already holds the learning rate and points "
                        "downhill, momentum * velocity - learning_rate * grad"),
    ({"ignore_nesterov": True}, "with nesterov=True the parameter moves by momentum * new_velocity - "
                                "learning_rate * grad (it looks one step ahead), not by the velocity"),
    ({"keep_velocity_at_zero": True}, "with momentum=0 the velocity is still updated, by Keras' "
                                      "convention for every momentum: 0 * velocity - learning_rate * grad"),
]
SGD_CONCEPT = ("velocity = momentum * velocity - learning_rate * grad, then param + velocity (with "
               "nesterov=True: param + momentum * velocity - learning_rate * grad)")


def sgd_call(param, learning_rate, momentum, nesterov, start) -> str:
    return (f"sgd_step(param {param.shape}, grad, velocity, learning_rate={fmt(learning_rate)}, "
            f"momentum={fmt(momentum)}, nesterov={nesterov}) from {start}")


def check_sgd_case(submission, rng, momentum, nesterov, steps, initial_velocity=False):
    shape = random_shape(rng)
    param = rng.normal(size=shape)
    grads = gradients(rng, shape, steps)
    learning_rate = f32(rng.choice([0.01, 0.1, rng.uniform(0.005, 0.3)]))
    velocity = rng.normal(0.0, 0.2, size=shape) if initial_velocity else np.zeros(shape)
    start = "a random velocity" if initial_velocity else "a zero velocity"
    call = sgd_call(param, learning_rate, momentum, nesterov, start)
    kwargs = {"learning_rate": learning_rate, "momentum": momentum, "nesterov": nesterov}
    mine = learner_run(submission, "sgd_step", call, param, grads, (velocity,), kwargs)
    if momentum == 0:
        # Keras keeps no velocity without momentum: the convention gives -learning_rate * grad.
        theirs = keras_run(keras.optimizers.SGD(learning_rate, momentum=0.0, nesterov=nesterov), param, grads)
        theirs = [(p, {"velocity": -learning_rate * g}) for (p, _), g in zip(theirs, grads)]
        what = ("keras.optimizers.SGD's (it keeps no velocity at momentum=0: the expected velocity is "
                "the convention's -learning_rate * grad)")
    else:
        optimizer = keras.optimizers.SGD(learning_rate, momentum=momentum, nesterov=nesterov)
        theirs = [(p, {"velocity": s[0]}) for p, s in keras_run(optimizer, param, grads, slots=(velocity,))]
        what = "keras.optimizers.SGD's"

    def replay(**options):
        return numpy_sgd(param, grads, velocity, learning_rate, momentum, nesterov, **options)

    compare(mine, theirs, param, what, call, explainer(SGD_MISTAKES, mine, replay, SGD_CONCEPT),
            compare_state=("velocity",))


@check(task="sgd_step", points=2)
def test_sgd_step_without_momentum_matches_keras(submission, rng):
    check_sgd_case(submission, rng, momentum=0.0, nesterov=False, steps=3)
    check_sgd_case(submission, rng, momentum=0.0, nesterov=False, steps=2, initial_velocity=True)
    check_sgd_case(submission, rng, momentum=0.0, nesterov=True, steps=2)


@check(task="sgd_step", points=2)
def test_sgd_step_with_momentum_matches_keras(submission, rng):
    check_sgd_case(submission, rng, momentum=f32(0.9), nesterov=False, steps=4)
    check_sgd_case(submission, rng, momentum=f32(rng.uniform(0.3, 0.99)), nesterov=False, steps=3,
                   initial_velocity=True)


@check(task="sgd_step", points=2)
def test_sgd_step_with_nesterov_matches_keras(submission, rng):
    check_sgd_case(submission, rng, momentum=f32(0.9), nesterov=True, steps=4)
    check_sgd_case(submission, rng, momentum=f32(rng.uniform(0.3, 0.99)), nesterov=True, steps=3,
                   initial_velocity=True)


# -- RMSprop ------------------------------------------------------------------------------------
def numpy_rmsprop(param, grads, average, learning_rate, rho, epsilon, *, epsilon_outside=False,
                  no_sqrt=False, old_average=False, swapped_rho=False):
    history = []
    for grad in grads:
        new = ((1 - rho) * average + rho * grad**2) if swapped_rho else (rho * average + (1 - rho) * grad**2)
        used = average if old_average else new
        with np.errstate(all="ignore"):
            if epsilon_outside:
                denominator = np.sqrt(used) + epsilon
            elif no_sqrt:
                denominator = used + epsilon
            else:
                denominator = np.sqrt(used + epsilon)
            param = param - learning_rate * grad / denominator
        average = new
        history.append((param, (average,)))
    return history


RMSPROP_MISTAKES = [
    ({"epsilon_outside": True}, "Keras puts epsilon inside the square root, sqrt(average_square + "
                                "epsilon), not sqrt(average_square) + epsilon: with tiny gradients or a "
                                "large epsilon the two differ by orders of magnitude"),
    ({"no_sqrt": True}, "divide by the square root of the average: learning_rate * grad / "
                        "sqrt(average_square + epsilon)"),
    ({"old_average": True}, "divide by the new average, updated with this step's squared gradient "
                            "first"),
    ({"swapped_rho": True}, "the old average keeps weight rho and the new squared gradient gets 1 - rho: "
                            "rho * average_square + (1 - rho) * grad**2"),
]
RMSPROP_CONCEPT = ("average_square = rho * average_square + (1 - rho) * grad**2, then "
                   "param - learning_rate * grad / sqrt(average_square + epsilon)")


def check_rmsprop_case(submission, rng, grad_scale=1.0, epsilon=1e-7, steps=4, initial_average=False):
    epsilon = f32(epsilon)
    shape = random_shape(rng)
    param = rng.normal(size=shape)
    grads = gradients(rng, shape, steps, grad_scale)
    learning_rate = f32(rng.choice([0.001, 0.01, rng.uniform(0.001, 0.1)]))
    rho = f32(rng.choice([0.9, rng.uniform(0.8, 0.99)]))
    average = rng.uniform(0.1, 1.0, size=shape) * grad_scale**2 if initial_average else np.zeros(shape)
    start = "a random average_square" if initial_average else "a zero average_square"
    grads_text = "" if grad_scale == 1 else f" (gradients about {grad_scale:g})"
    call = (f"rmsprop_step(param {param.shape}, grad, average_square, learning_rate={fmt(learning_rate)}, "
            f"rho={fmt(rho)}, epsilon={fmt(epsilon)}) from {start}{grads_text}")
    kwargs = {"learning_rate": learning_rate, "rho": rho, "epsilon": epsilon}
    mine = learner_run(submission, "rmsprop_step", call, param, grads, (average,), kwargs)
    optimizer = keras.optimizers.RMSprop(learning_rate, rho=rho, epsilon=epsilon)
    theirs = [(p, {"average_square": s[0]}) for p, s in keras_run(optimizer, param, grads, slots=(average,))]

    def replay(**options):
        return numpy_rmsprop(param, grads, average, learning_rate, rho, epsilon, **options)

    compare(mine, theirs, param, "keras.optimizers.RMSprop's", call,
            explainer(RMSPROP_MISTAKES, mine, replay, RMSPROP_CONCEPT), compare_state=("average_square",))


@check(task="rmsprop_step", points=2)
def test_rmsprop_step_matches_keras(submission, rng):
    check_rmsprop_case(submission, rng, steps=4)
    check_rmsprop_case(submission, rng, steps=3, initial_average=True)


@check(task="rmsprop_step", points=2)
def test_rmsprop_epsilon_sits_inside_the_square_root(submission, rng):
    # Tiny gradients: average_square (about 1e-11) is far below epsilon = 1e-7.
    check_rmsprop_case(submission, rng, grad_scale=float(rng.choice([1e-5, 3e-6])), epsilon=1e-7, steps=3)
    # A large epsilon with ordinary gradients.
    check_rmsprop_case(submission, rng, epsilon=float(rng.uniform(0.1, 1.0)), steps=3)


# -- Adam -------------------------------------------------------------------------------------
def numpy_adam(param, grads, m, v, first_step, learning_rate, beta_1, beta_2, epsilon, *,
               no_correction=False, paper_epsilon=False, corrected_state=False, step_from_zero=False,
               swapped_betas=False, no_sqrt=False):
    history = []
    for index, grad in enumerate(grads):
        t = first_step + index + (1 if step_from_zero else 0)
        b1, b2 = (beta_2, beta_1) if swapped_betas else (beta_1, beta_2)
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad**2
        with np.errstate(all="ignore"):
            m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
            if no_correction:
                param = param - learning_rate * m / (np.sqrt(v) + epsilon)
            elif paper_epsilon:
                param = param - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)
            else:
                alpha = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
                param = param - alpha * m / ((v if no_sqrt else np.sqrt(v)) + epsilon)
        if corrected_state:
            m, v = m_hat, v_hat
        history.append((param, (m, v)))
    return history


ADAM_MISTAKES = [
    ({"no_correction": True}, "that is Adam without bias correction: m and v start at 0 and are too "
                              "small in the first steps; scale the step by sqrt(1 - beta_2**step) / "
                              "(1 - beta_1**step)"),
    ({"paper_epsilon": True}, "that is the paper's epsilon placement, m_hat / (sqrt(v_hat) + epsilon): "
                              "Keras folds the correction into the learning rate and adds epsilon to "
                              "sqrt(v) itself, alpha * m / (sqrt(v) + epsilon); with tiny gradients or a "
                              "large epsilon the two differ"),
    ({"corrected_state": True}, "you returned the bias-corrected m_hat and v_hat: return m and v "
                                "uncorrected, as Keras stores them; the correction only scales the step"),
    ({"corrected_state": True, "paper_epsilon": True},
     "you returned the bias-corrected m_hat and v_hat (return m and v uncorrected, as Keras stores them: "
     "the next step builds on them) and used the paper's epsilon placement, m_hat / (sqrt(v_hat) + "
     "epsilon), where Keras takes alpha * m / (sqrt(v) + epsilon)"),
    ({"step_from_zero": True}, "step counts from 1: the first call has step=1, and its correction uses "
                               "1 - beta_1**1, not 1 - beta_1**2"),
    ({"swapped_betas": True}, "beta_1 averages the gradient (m) and beta_2 its square (v), not the "
                              "other way round"),
    ({"no_sqrt": True}, "divide by sqrt(v) + epsilon: v averages squared gradients"),
]
ADAM_CONCEPT = ("m = beta_1 * m + (1 - beta_1) * grad, v = beta_2 * v + (1 - beta_2) * grad**2, "
                "alpha = learning_rate * sqrt(1 - beta_2**step) / (1 - beta_1**step), then "
                "param - alpha * m / (sqrt(v) + epsilon)")


def check_adam_case(submission, rng, *, grad_scale=1.0, epsilon=1e-7, steps=4, first_step=1,
                    compare_state=()):
    epsilon = f32(epsilon)
    shape = random_shape(rng)
    param = rng.normal(size=shape)
    grads = gradients(rng, shape, steps, grad_scale)
    learning_rate = f32(rng.choice([0.001, 0.01, rng.uniform(0.001, 0.1)]))
    beta_1 = f32(rng.choice([0.9, rng.uniform(0.8, 0.95)]))
    beta_2 = f32(rng.choice([0.999, rng.uniform(0.99, 0.9995)]))
    if first_step == 1:
        m, v, start = np.zeros(shape), np.zeros(shape), "zero m and v"
    else:
        m = rng.normal(0.0, 0.5, size=shape) * grad_scale
        v = rng.uniform(0.25, 4.0, size=shape) * grad_scale**2
        start = "a random m and v"
    grads_text = "" if grad_scale == 1 else f" (gradients about {grad_scale:g})"
    call = (f"adam_step(param {param.shape}, grad, m, v, step={first_step}, learning_rate={fmt(learning_rate)}, "
            f"beta_1={fmt(beta_1)}, beta_2={fmt(beta_2)}, epsilon={fmt(epsilon)}) and the steps after it, "
            f"from {start}{grads_text}")
    kwargs = {"learning_rate": learning_rate, "beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon}
    mine = learner_run(submission, "adam_step", call, param, grads, (m, v), kwargs, first_step=first_step)
    optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    theirs = [(p, {"m": s[0], "v": s[1]})
              for p, s in keras_run(optimizer, param, grads, slots=(m, v), iterations=first_step - 1)]

    def replay(**options):
        return numpy_adam(param, grads, m, v, first_step, learning_rate, beta_1, beta_2, epsilon, **options)

    # The moments check compares m and v only: a wrong step formula costs the other checks.
    compare(mine, theirs, param, "keras.optimizers.Adam's", call,
            explainer(ADAM_MISTAKES, mine, replay, ADAM_CONCEPT), compare_state=compare_state,
            compare_param=not compare_state)


@check(task="adam_step", points=2)
def test_adam_step_matches_keras(submission, rng):
    check_adam_case(submission, rng, steps=5)
    check_adam_case(submission, rng, steps=3)


@check(task="adam_step", points=1)
def test_adam_step_returns_keras_uncorrected_moments(submission, rng):
    check_adam_case(submission, rng, steps=3, compare_state=("m", "v"))


@check(task="adam_step", points=1)
def test_adam_step_resumes_at_a_later_step(submission, rng):
    check_adam_case(submission, rng, steps=2, first_step=int(rng.integers(3, 21)))


@check(task="adam_step", points=2)
def test_adam_epsilon_placement_matches_keras(submission, rng):
    # Tiny gradients: sqrt(v) (about 3e-9 at step 1) is far below epsilon = 1e-7.
    check_adam_case(submission, rng, grad_scale=float(rng.choice([1e-7, 3e-8])), epsilon=1e-7, steps=3)
    # A large epsilon with ordinary gradients.
    check_adam_case(submission, rng, epsilon=float(rng.uniform(0.1, 1.0)), steps=3)
