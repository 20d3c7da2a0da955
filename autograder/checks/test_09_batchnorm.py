"""Hidden checks for 09_batchnorm: ``batchnorm_forward`` against ``keras.layers.BatchNormalization``.

The oracle is a Keras layer holding the same gamma, beta and moving statistics
(``set_weights``), called with ``training=True`` or ``False``; its output and its moving
statistics afterwards are the expected answer. Random batches, scales, momenta and epsilons
come with the rng; targeted cases run with every seed: a batch of two (where the unbiased
variance is twice the biased one), a constant feature (variance 0: only epsilon keeps the
division finite), a feature whose variance is smaller than epsilon (where epsilon's place
shows), default arguments, a momentum other than 0.99 and a float32 batch. When an answer is
wrong, the grader replays the usual mistakes in NumPy and names the one that matches.
"""

from __future__ import annotations

import numpy as np

from autograder.api import CheckFailed, check, expect_that
from autograder.oracle import oracle
from autograder.sandbox import SubmissionRaised
from grimoire.feedback import describe
from grimoire.quiet import import_keras

keras = import_keras()

OWN_WORK = {"batchnorm_forward": {"no_framework": True}}
TOLERANCE = {"float64": 1e-6, "float32": 1e-5}
NAMES = ("y", "new_moving_mean", "new_moving_variance")


# -- cases ------------------------------------------------------------------------------------
def parameters(rng, features, dtype):
    gamma = rng.uniform(0.5, 2.0, size=features) * rng.choice([-1.0, 1.0], size=features)
    beta = rng.normal(size=features)
    moving_mean = rng.normal(size=features)
    moving_variance = rng.uniform(0.3, 2.0, size=features)
    return tuple(a.astype(dtype) for a in (gamma, beta, moving_mean, moving_variance))


def random_case(rng, dtype="float64"):
    batch = int(rng.integers(3, 9))
    features = int(rng.choice([n for n in range(2, 6) if n != batch]))
    loc = rng.uniform(-3.0, 3.0, size=features)
    scale = rng.uniform(0.5, 3.0, size=features)
    x = (loc + scale * rng.normal(size=(batch, features))).astype(dtype)
    options = {}
    if rng.random() < 0.75:
        options["momentum"] = float(rng.choice([0.9, 0.5, 0.75, 0.95]))
    if rng.random() < 0.5:
        options["epsilon"] = float(rng.choice([1e-2, 1e-5, 1e-3]))
    return (x,) + parameters(rng, features, dtype), options


def targeted_cases(rng):
    """Cases every seed runs; the rng only draws the parameters around them."""
    # A batch of two, momentum 0.5: the unbiased variance is twice the biased one.
    pair = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, -1.5]])
    # A constant feature (variance 0), a feature with a variance below epsilon, an ordinary one;
    # default momentum and epsilon.
    mixed = np.stack([np.full(5, 2.5), [0.01, -0.02, 0.03, 0.0, -0.015], rng.normal(1.0, 2.0, 5)], axis=1)
    # float32, momentum 0.9, epsilon 1e-2.
    single = rng.normal(-1.0, 1.5, size=(6, 4)).astype("float32")
    return [
        ((pair,) + parameters(rng, 3, "float64"), {"momentum": 0.5}),
        ((mixed,) + parameters(rng, 3, "float64"), {}),
        ((single,) + parameters(rng, 4, "float32"), {"momentum": 0.9, "epsilon": 1e-2}),
    ]


def all_cases(rng, randoms=2):
    return targeted_cases(rng) + [random_case(rng) for _ in range(randoms)]


# -- the Keras oracle and the usual mistakes --------------------------------------------------
@oracle
def keras_batchnorm(args, training, momentum=0.99, epsilon=1e-3):
    x, gamma, beta, moving_mean, moving_variance = args
    layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, dtype=str(x.dtype))
    layer.build((None, x.shape[1]))
    layer.set_weights([gamma, beta, moving_mean, moving_variance])
    y = np.asarray(layer(x, training=training))
    return y, np.asarray(layer.moving_mean), np.asarray(layer.moving_variance)


def numpy_batchnorm(args, training, momentum=0.99, epsilon=1e-3, *, ddof=0, moving_ddof=0,
                    epsilon_inside=True, use_epsilon=True, momentum_flipped=False, updates_in_inference=False,
                    batch_statistics_in_inference=False, normalizes_with_updated_moving=False, swapped=False):
    x, gamma, beta, moving_mean, moving_variance = (a.astype(np.float64) for a in args)
    if swapped:
        gamma, beta = beta, gamma
    batch_mean, batch_var = x.mean(axis=0), x.var(axis=0, ddof=ddof)
    keep = (1 - momentum) if momentum_flipped else momentum
    new_mean = keep * moving_mean + (1 - keep) * batch_mean
    new_var = keep * moving_variance + (1 - keep) * x.var(axis=0, ddof=moving_ddof)
    if training or batch_statistics_in_inference:
        mean, var = (new_mean, new_var) if normalizes_with_updated_moving else (batch_mean, batch_var)
    else:
        mean, var = moving_mean, moving_variance
    eps = epsilon if use_epsilon else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.sqrt(var + eps) if epsilon_inside else np.sqrt(var) + eps
        y = gamma * (x - mean) / scale + beta
    if training or updates_in_inference:
        return y, new_mean, new_var
    return y, moving_mean, moving_variance


MISTAKES = [
    ({"moving_ddof": 1}, "your moving variance moves towards the unbiased batch variance (PyTorch's "
                         "choice); Keras 3 keeps the biased one, x.var(axis=0), there too"),
    ({"ddof": 1, "moving_ddof": 1}, "you used the unbiased variance (divided by batch - 1); Keras normalizes "
                                    "and keeps its moving variance with the biased one, x.var(axis=0)"),
    ({"ddof": 1}, "you normalized with the unbiased variance (divided by batch - 1); Keras uses the "
                  "biased one, x.var(axis=0)"),
    ({"epsilon_inside": False}, "epsilon sits outside the square root: Keras divides by "
                                "sqrt(variance + epsilon), not sqrt(variance) + epsilon"),
    ({"use_epsilon": False}, "you divided without epsilon: Keras divides by sqrt(variance + epsilon), "
                             "which stays finite when a feature is constant"),
    ({"swapped": True}, "gamma and beta are swapped: gamma scales x_hat, beta shifts it, "
                        "y = gamma * x_hat + beta"),
    ({"momentum_flipped": True}, "momentum weighs the OLD moving statistic: moving = momentum * moving "
                                 "+ (1 - momentum) * batch, so 0.99 changes it only a little per batch"),
    ({"updates_in_inference": True}, "you updated the moving statistics in inference: with training=False "
                                     "the layer learns nothing, it returns them unchanged"),
    ({"batch_statistics_in_inference": True}, "in inference you normalized with the batch's own statistics; "
                                              "with training=False Keras uses the moving mean and variance"),
    ({"batch_statistics_in_inference": True, "updates_in_inference": True},
     "with training=False you behaved as in training (batch statistics, moving ones updated): "
     "inference uses the moving statistics and updates nothing"),
    ({"normalizes_with_updated_moving": True}, "in training you normalized with the updated moving "
                                               "statistics; training uses the batch's own mean and variance"),
]


def close(got, expected, dtype) -> bool:
    tolerance = TOLERANCE[str(dtype)]
    return (isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype.kind == "f"
            and bool(np.allclose(got, expected, rtol=tolerance, atol=tolerance)))


def call_text(args, training, options) -> str:
    x = args[0]
    extra = "".join(f", {key}={value:g}" for key, value in options.items())
    return (f"batchnorm_forward(x {x.shape} {x.dtype}, gamma, beta, moving_mean, moving_variance, "
            f"training={training}{extra})")


def answer(submission, args, training, options):
    call = call_text(args, training, options)
    features = args[0].shape[1]
    try:
        got = submission.call("batchnorm_forward", *args, training, **options)
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}; expected (y, new_moving_mean, new_moving_variance): statistics are "
                          f"per feature, over the batch axis (axis=0), giving ({features},) arrays") from None
    expect_that(type(got) in (tuple, list) and len(got) == 3,
                f"{call} returned {describe(got)}; expected a tuple (y, new_moving_mean, new_moving_variance)")
    return call, got


def explain(args, training, options, part, got) -> str:
    if part == 0 and isinstance(got, np.ndarray) and got.dtype.kind == "f" and not np.isfinite(got).all():
        return ("y holds nan or inf: dividing without epsilon fails on a constant feature (variance 0); "
                "Keras divides by sqrt(variance + epsilon)")
    for mistake, message in MISTAKES:
        replay = numpy_batchnorm(args, training, **options, **mistake)[part]
        if close(got, replay, args[0].dtype):
            return message
    if part == 0 and training:
        return ("y = gamma * (x - mean) / sqrt(variance + epsilon) + beta, with the mean and the biased "
                "variance of this batch, per feature (axis=0)")
    if part == 0:
        return "y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta"
    if training:
        return "moving = momentum * moving + (1 - momentum) * batch statistic (biased variance)"
    return "inference returns the moving statistics unchanged"


def features_text(got, expected) -> str:
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return f"{describe(got)}, not the shape {expected.shape}"
    if got.dtype.kind != "f":
        return f"an array of dtype {got.dtype}"
    if not np.isfinite(got).all():
        return "an array holding nan or inf"
    return f"an array off Keras' by up to {np.abs(got - expected).max():.3g}"


def compare(submission, rng, training, parts):
    for args, options in all_cases(rng):
        call, got = answer(submission, args, training, options)
        expected = keras_batchnorm(args, training, **options)
        for part in parts:
            if close(got[part], expected[part], args[0].dtype):
                continue
            tolerance = TOLERANCE[str(args[0].dtype)]
            raise CheckFailed(
                f"{call} returned {NAMES[part]} as {features_text(got[part], expected[part])} (tolerance "
                f"{tolerance:g}); expected keras.layers.BatchNormalization's: "
                f"{explain(args, training, options, part, got[part])}")


# -- checks -----------------------------------------------------------------------------------
@check(task="batchnorm_forward", points=1)
def test_batchnorm_forward_returns_y_and_the_two_moving_statistics(submission, rng):
    for training in (True, False):
        args, options = random_case(rng)
        call, got = answer(submission, args, training, options)
        batch, features = args[0].shape
        shapes = ((batch, features), (features,), (features,))
        for name, part, shape in zip(NAMES, got, shapes):
            expect_that(isinstance(part, np.ndarray) and part.shape == shape,
                        f"{call} returned {name} as {describe(part)}; expected a NumPy array of shape {shape}: "
                        "y has the shape of x, the statistics one value per feature (reduce over axis 0)")


@check(task="batchnorm_forward", points=3)
def test_training_output_matches_keras(submission, rng):
    compare(submission, rng, True, parts=(0,))


@check(task="batchnorm_forward", points=2)
def test_training_updates_the_moving_statistics_like_keras(submission, rng):
    compare(submission, rng, True, parts=(1, 2))


@check(task="batchnorm_forward", points=2)
def test_inference_output_uses_the_moving_statistics(submission, rng):
    compare(submission, rng, False, parts=(0,))


@check(task="batchnorm_forward", points=1)
def test_inference_leaves_the_moving_statistics_unchanged(submission, rng):
    compare(submission, rng, False, parts=(1, 2))
