"""Hidden checks for 07_vae_sampling: the reparametrization trick and the KL term of a VAE.

``Sampling`` is random, so its checks are statistical: many draws, and tolerances of six
standard errors of the statistic at hand (a correct layer fails one by chance about once in
fifty million gradings), while every wrong spread, wrong centre or non-normal noise that a
learner writes misses them by many standard errors. Gradients, seeds and shapes are checked
exactly. The probes (``autograder/probes/vae_sampling.py``) run the learner's code in the
child and return arrays; ``kl_divergence`` may return a tensor or an array, read with
``np.asarray``. Every oracle is NumPy: the closed-form KL, its gradient, and a Monte Carlo
estimate of the same divergence quoted in the messages.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.api import CheckFailed, check, expect_that
from autograder.sandbox import SubmissionRaised

# Sampling and the KL term are written with keras.ops and keras.random: nothing to forbid.
OWN_WORK: dict = {}

PROBE = "vae_sampling"
DRAWS = 20_000  # rows of one batch for the statistical checks
SIGMAS = 6.0  # tolerance of the statistical checks, in standard errors
TRICK = ("z = z_mean + exp(0.5 * z_log_var) * epsilon with epsilon ~ N(0, I): the standard "
         "deviation is exp(0.5 * z_log_var), the square root of the variance exp(z_log_var)")


def fmt(values) -> str:
    return np.array2string(np.asarray(values, dtype=float), precision=3, separator=", ",
                           suppress_small=True, max_line_width=200)


def log_variances(rng, size: int) -> np.ndarray:
    """Log-variances far from the values where a wrong spread would agree with the right one.

    exp(0.5 v) differs from exp(v) unless v = 0, and from |v| (log-variance taken as a
    standard deviation) unless v is near -0.7: half come from [-2.5, -1.5], half from [0.8, 1.6].
    """
    low = rng.uniform(-2.5, -1.5, size=size)
    high = rng.uniform(0.8, 1.6, size=size)
    return np.where(rng.permutation(size) % 2 == 0, low, high)


def statistics_case(rng):
    latent_dim = 4
    mean_row = rng.uniform(-3.0, 3.0, size=latent_dim)
    log_var_row = log_variances(rng, latent_dim)
    z_mean = np.tile(mean_row, (DRAWS, 1)).astype("float32")
    z_log_var = np.tile(log_var_row, (DRAWS, 1)).astype("float32")
    return z_mean, z_log_var


def draw(submission, rng, z_mean, z_log_var) -> np.ndarray:
    seed = int(rng.integers(2**16))
    call = (f"Sampling(seed={seed})((z_mean, z_log_var)) on a batch of {DRAWS} rows, each row "
            f"z_mean = {fmt(z_mean[0])}, z_log_var = {fmt(z_log_var[0])}")
    z = submission.probe(f"{PROBE}:draw_samples", z_mean[0], z_log_var[0], DRAWS, seed, describe=call)
    expect_that(isinstance(z, np.ndarray) and z.shape == z_mean.shape,
                f"{call} returned {describe_shape(z)}; expected shape {z_mean.shape}: "
                "z has the shape of z_mean, one code per row")
    expect_that(bool(np.all(np.isfinite(z))), f"{call} returned values that are not finite (nan or inf)")
    return z


def describe_shape(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return repr(value)


@check(task="Sampling", points=1)
def test_sampling_centres_z_on_z_mean(submission, rng):
    z_mean, z_log_var = statistics_case(rng)
    z = draw(submission, rng, z_mean, z_log_var)
    std = np.exp(0.5 * z_log_var[0].astype(float))
    tolerance = SIGMAS * std / math.sqrt(DRAWS)
    got = z.mean(axis=0)
    wrong = np.abs(got - z_mean[0]) > tolerance
    expect_that(not wrong.any(), (
        f"Sampling over {DRAWS} draws gave z a mean of {fmt(got)} per dimension; expected "
        f"z_mean = {fmt(z_mean[0])} (within {fmt(tolerance)}): epsilon has mean 0, so "
        "z = z_mean + std * epsilon is centred on z_mean. Did you add z_mean, and draw epsilon "
        "from N(0, I), a normal distribution centred on 0?"))


@check(task="Sampling", points=2)
def test_sampling_spreads_z_by_exp_half_log_var(submission, rng):
    z_mean, z_log_var = statistics_case(rng)
    z = draw(submission, rng, z_mean, z_log_var)
    std = np.exp(0.5 * z_log_var[0].astype(float))
    # The sample standard deviation of n normal draws has a standard error of std / sqrt(2n).
    tolerance = SIGMAS * std / math.sqrt(2 * DRAWS)
    got = z.std(axis=0)
    hint = ""
    if np.all(got < 1e-6):
        hint = " z does not vary at all: is epsilon missing, or the same for every row?"
    elif np.allclose(got, np.exp(z_log_var[0]), rtol=0.05):
        hint = " Your spread is exp(z_log_var), the variance, not its square root."
    elif np.allclose(got, np.abs(z_log_var[0]), rtol=0.05):
        hint = " Your spread is z_log_var itself: it is a log-variance, not a standard deviation."
    expect_that(bool(np.all(np.abs(got - std) <= tolerance)), (
        f"Sampling with z_log_var = {fmt(z_log_var[0])} over {DRAWS} draws gave z a standard "
        f"deviation of {fmt(got)} per dimension; expected exp(0.5 * z_log_var) = {fmt(std)} "
        f"(within {fmt(tolerance)}): {TRICK}.{hint}"))


@check(task="Sampling", points=1)
def test_sampling_draws_normal_noise(submission, rng):
    z_mean, z_log_var = statistics_case(rng)
    z = draw(submission, rng, z_mean, z_log_var)
    spread = z.std(axis=0)
    expect_that(bool(np.all(spread > 1e-6)),
                f"Sampling gave z a standard deviation of {fmt(spread)}: z must vary from draw "
                "to draw, through epsilon ~ N(0, I)")
    # Standardize each dimension by its own sample mean and deviation: only the shape is tested.
    standard = np.sort(((z - z.mean(axis=0)) / spread).ravel())
    n = standard.size
    normal_cdf = 0.5 * (1.0 + np.vectorize(math.erf)(standard / math.sqrt(2.0)))
    ecdf_high = np.arange(1, n + 1) / n
    distance = float(max(np.max(ecdf_high - normal_cdf), np.max(normal_cdf - ecdf_high + 1 / n)))
    # Kolmogorov-Smirnov: P(distance > t) <= 2 exp(-2 n t^2); t is set for a 1e-9 chance.
    limit = math.sqrt(math.log(2 / 1e-9) / (2 * n))
    inside_one = float(np.mean(np.abs(standard) < 1.0))
    expect_that(distance <= limit, (
        f"Sampling's standardized draws (z - mean) / std do not follow a normal distribution: "
        f"{inside_one:.1%} of them lie within one standard deviation, where a normal "
        f"distribution has 68.3% (the largest gap between their cumulative distribution and "
        f"the normal one is {distance:.3f}, over {n} draws; a normal sample stays under "
        f"{limit:.3f}): epsilon ~ N(0, I), drawn with keras.random.normal (not uniform, not truncated)"))


def gradient_case(rng):
    batch, latent_dim = 16, 3
    z_mean = rng.uniform(-2.0, 2.0, size=(batch, latent_dim)).astype("float32")
    z_log_var = rng.uniform(-2.0, 1.5, size=(batch, latent_dim)).astype("float32")
    seed = int(rng.integers(2**16))
    return z_mean, z_log_var, seed


def gradients(submission, z_mean, z_log_var, seed) -> tuple[str, dict]:
    call = (f"the gradient of sum(Sampling(seed={seed})((z_mean, z_log_var))) under a "
            f"tf.GradientTape, for z_mean and z_log_var of shape {z_mean.shape}")
    result = submission.probe(f"{PROBE}:sampling_gradients", z_mean, z_log_var, seed, describe=call)
    z = result["z"]
    expect_that(z.shape == z_mean.shape,
                f"{call}: z has shape {z.shape}; expected {z_mean.shape}, the shape of z_mean")
    return call, result


@check(task="Sampling", points=1)
def test_gradients_reach_z_mean(submission, rng):
    z_mean, z_log_var, seed = gradient_case(rng)
    call, result = gradients(submission, z_mean, z_log_var, seed)
    got = result["d_mean"]
    if got is None:
        raise CheckFailed(
            f"{call}: no gradient reaches z_mean (tape.gradient returned None); expected 1 for "
            "every entry: compute z with keras.ops (or tf) operations on the tensors, not with "
            "NumPy or Python floats, so that the tape can follow z = z_mean + ...")
    expect_that(got.shape == z_mean.shape and bool(np.allclose(got, 1.0, atol=1e-5)), (
        f"{call}: dz/dz_mean is {fmt(got.ravel()[:6])}...; expected 1 everywhere: "
        "z = z_mean + std * epsilon moves one for one with z_mean"))


@check(task="Sampling", points=2)
def test_gradients_reach_z_log_var_through_the_trick(submission, rng):
    z_mean, z_log_var, seed = gradient_case(rng)
    call, result = gradients(submission, z_mean, z_log_var, seed)
    std = np.exp(0.5 * z_log_var.astype(float))
    epsilon = (result["z"] - z_mean) / std  # the noise this very draw used
    expected = 0.5 * std * epsilon
    got = result["d_log_var"]
    if got is None:
        raise CheckFailed(
            f"{call}: no gradient reaches z_log_var (tape.gradient returned None); expected "
            f"0.5 * exp(0.5 * z_log_var) * epsilon, e.g. {fmt(expected.ravel()[:4])}...: the "
            "reparametrization trick writes z as a differentiable function of z_log_var; "
            "build the spread with keras.ops on the tensor (not NumPy), and never stop its gradient")
    expect_that(got.shape == z_mean.shape and bool(np.allclose(got, expected, rtol=1e-3, atol=1e-4)), (
        f"{call}: dz/dz_log_var is {fmt(got.ravel()[:4])}...; expected 0.5 * exp(0.5 * "
        f"z_log_var) * epsilon = {fmt(expected.ravel()[:4])}..., with epsilon = (z - z_mean) / "
        f"std recovered from your z: {TRICK}, so its derivative is half the spread times the noise"))


@check(task="Sampling", points=1)
def test_sampling_is_reproducible_with_a_seed(submission, rng):
    z_mean, z_log_var, seed = gradient_case(rng)
    call = (f"two layers Sampling(seed={seed}) and one Sampling(seed={seed + 1}), each called on "
            f"the same (z_mean, z_log_var) of shape {z_mean.shape}")
    draws = submission.probe(f"{PROBE}:seeded_draws", z_mean, z_log_var, seed, describe=call)
    same = np.allclose(draws["first"], draws["twin"], atol=1e-6) and np.allclose(
        draws["first_again"], draws["twin_again"], atol=1e-6)
    expect_that(same, (
        f"{call}: the two layers with seed {seed} drew different z (first row {fmt(draws['first'][0])} "
        f"and {fmt(draws['twin'][0])}); expected the same draws, call after call: pass "
        "seed=self.seed_generator to keras.random.normal, so the noise comes from the layer's "
        "own seeded state, not from NumPy or the global random state"))
    expect_that(not np.allclose(draws["first"], draws["other_seed"], atol=1e-6), (
        f"{call}: seeds {seed} and {seed + 1} drew the same z; expected different noise: the "
        "seed must decide the noise"))


@check(task="Sampling", points=1)
def test_sampling_draws_fresh_noise_on_every_call(submission, rng):
    z_mean, z_log_var, seed = gradient_case(rng)
    call = (f"one Sampling(seed={seed}) called twice eagerly, and one called twice inside "
            f"tf.function, on the same (z_mean, z_log_var) of shape {z_mean.shape}")
    draws = submission.probe(f"{PROBE}:successive_draws", z_mean, z_log_var, seed, describe=call)
    for mode in ("eager", "graph"):
        first, second = draws[mode]
        which = "eager calls" if mode == "eager" else "calls inside tf.function (as in fit)"
        expect_that(not np.allclose(first, second, atol=1e-6), (
            f"{call}: the two {which} returned the same z (first row {fmt(first[0])}); "
            "expected new noise on every call, or every epoch would train on one fixed code per "
            "input: draw epsilon inside call, from keras.random.normal(..., "
            "seed=self.seed_generator), whose state moves on after each draw (an int seed "
            "repeats the same draw)"))


@check(task="Sampling", points=1)
def test_sampling_works_for_any_batch_size_in_a_functional_model(submission, rng):
    latent_dim = int(rng.integers(2, 6))
    sizes = [1, 7, 64]
    means = [rng.uniform(-2, 2, size=(n, latent_dim)).astype("float32") for n in sizes]
    tiny = [np.full((n, latent_dim), -20.0, dtype="float32") for n in sizes]  # std 4.5e-5
    seed = int(rng.integers(2**16))
    call = (f"Sampling(seed={seed}) inside keras.Model([Input(shape=({latent_dim},)), "
            f"Input(shape=({latent_dim},))], z), run by predict on batches of {sizes} rows")
    try:
        outputs = submission.probe(f"{PROBE}:functional_batches", means, tiny, seed, describe=call,
                                   timeout=30)
    except SubmissionRaised as raised:
        # Keras wraps the error of a symbolic call in a long message: keep the part that matters.
        detail = str(raised).split("Error encountered:")[-1].split("Arguments received")[0]
        raise CheckFailed(
            f"{call} failed: {detail.replace(chr(27) + '[0m', '').strip()}; expected z of shape "
            "(batch, latent_dim) for every batch size: the model is built on symbolic tensors "
            "of shape (None, latent_dim), so draw epsilon with keras.random.normal(ops.shape("
            "z_mean), ...), whose shape is known only at run time (not z_mean.shape[0], not NumPy)"
        ) from None
    for n, mean, z in zip(sizes, means, outputs):
        expect_that(z.shape == (n, latent_dim), (
            f"{call}: a batch of {n} rows gave z of shape {z.shape}; expected {(n, latent_dim)}: "
            "the batch size is unknown (None) when the model is built, so take the shape from "
            "the tensor at run time with ops.shape(z_mean)"))
        expect_that(bool(np.allclose(z, mean, atol=1e-3)), (
            f"{call}: with z_log_var = -20 (a spread of 4.5e-5) a batch of {n} rows gave z "
            f"{fmt(z[0])} for z_mean {fmt(mean[0])} in its first row; expected z close to z_mean: "
            f"{TRICK}"))


# -- kl_divergence ---------------------------------------------------------------------------

def closed_form(z_mean, z_log_var) -> np.ndarray:
    mean, log_var = z_mean.astype(float), z_log_var.astype(float)
    return -0.5 * np.sum(1.0 + log_var - mean**2 - np.exp(log_var), axis=-1)


def monte_carlo(rng, z_mean, z_log_var, draws: int = 20_000) -> np.ndarray:
    """E_q[log q(z) - log p(z)] estimated with draws from q = N(z_mean, exp(z_log_var))."""
    mean, log_var = z_mean.astype(float)[None], z_log_var.astype(float)[None]
    epsilon = rng.standard_normal((draws,) + z_mean.shape)
    z = mean + np.exp(0.5 * log_var) * epsilon
    log_ratio = -0.5 * log_var - 0.5 * epsilon**2 + 0.5 * z**2  # log q - log p, per dimension
    return log_ratio.sum(axis=-1).mean(axis=0)


def kl_call(z_mean, z_log_var) -> str:
    return f"kl_divergence(z_mean, z_log_var) with tensors of shape {z_mean.shape}"


def kl(submission, z_mean, z_log_var) -> np.ndarray:
    call = kl_call(z_mean, z_log_var)
    return submission.probe(f"{PROBE}:kl_values", z_mean, z_log_var, describe=call)


@check(task="kl_divergence", points=1)
def test_kl_divergence_is_zero_at_the_prior(submission, rng):
    batch, latent_dim = (int(n) for n in rng.integers(1, 8, size=2))
    zeros = np.zeros((batch, latent_dim), dtype="float32")
    got = kl(submission, zeros, zeros)
    if got.shape != (batch,):
        hint = "one divergence per example: sum over the latent axis only"
    else:
        hint = "-0.5 * (1 + 0 - 0**2 - exp(0)) = 0 needs the exp(z_log_var) term"
    expect_that(got.shape == (batch,) and bool(np.allclose(got, 0.0, atol=1e-6)), (
        f"{kl_call(zeros, zeros)}, both all zeros, returned {fmt(got)} (shape {got.shape}); "
        f"expected {batch} zeros, shape ({batch},): N(0, exp(0)) is the prior N(0, I) itself, and a "
        f"distribution is at divergence 0 from itself; {hint}"))


@check(task="kl_divergence", points=1)
def test_kl_divergence_returns_one_value_per_example(submission, rng):
    for batch, latent_dim in [(1, 1), (1, 4), (5, 1), (9, 3)]:
        z_mean = rng.normal(size=(batch, latent_dim)).astype("float32")
        z_log_var = rng.uniform(-1, 1, size=(batch, latent_dim)).astype("float32")
        got = kl(submission, z_mean, z_log_var)
        expect_that(got.shape == (batch,), (
            f"{kl_call(z_mean, z_log_var)} returned shape {got.shape}; expected ({batch},): one "
            "divergence per example, summed over the latent axis only (axis=-1, no keepdims); "
            "the training step averages over the batch itself"))


@check(task="kl_divergence", points=2)
def test_kl_divergence_matches_the_closed_form_per_example(submission, rng):
    batch, latent_dim = 6, int(rng.integers(3, 9))
    z_mean = rng.normal(scale=1.5, size=(batch, latent_dim)).astype("float32")
    z_log_var = rng.uniform(-2.0, 1.5, size=(batch, latent_dim)).astype("float32")
    expected = closed_form(z_mean, z_log_var)
    got = kl(submission, z_mean, z_log_var)
    if got.shape == expected.shape and np.allclose(got, expected, rtol=1e-4, atol=1e-4):
        return
    sampled = monte_carlo(rng, z_mean, z_log_var)
    hint = ""
    if got.shape == expected.shape:
        if np.allclose(got, expected / latent_dim, rtol=1e-3, atol=1e-4):
            hint = f" Yours is {latent_dim} times too small: sum over the latent dimensions, do not average."
        elif np.allclose(got, -expected, rtol=1e-3, atol=1e-4):
            hint = " Yours has the opposite sign: a divergence is never negative."
    raise CheckFailed(
        f"{kl_call(z_mean, z_log_var)} returned {fmt(got)} (shape {got.shape}); expected "
        f"{fmt(expected)} (shape {expected.shape}): per example, -0.5 * sum over the {latent_dim} "
        "latent dimensions of (1 + z_log_var - z_mean**2 - exp(z_log_var)). Sampling 20000 z "
        f"from N(z_mean, exp(z_log_var)) and averaging log q(z) - log p(z) gives {fmt(sampled)}, "
        f"the same divergence measured by brute force.{hint}")


@check(task="kl_divergence", points=1)
def test_kl_divergence_has_the_gradient_of_the_closed_form(submission, rng):
    z_mean = rng.normal(size=(4, 3)).astype("float32")
    z_log_var = rng.uniform(-2.0, 1.5, size=(4, 3)).astype("float32")
    call = f"the gradient of sum({kl_call(z_mean, z_log_var)}) under a tf.GradientTape"
    result = submission.probe(f"{PROBE}:kl_gradients", z_mean, z_log_var, describe=call)
    expected = {"d_mean": z_mean.astype(float), "d_log_var": 0.5 * (np.exp(z_log_var.astype(float)) - 1.0)}
    formula = {"d_mean": "z_mean", "d_log_var": "0.5 * (exp(z_log_var) - 1)"}
    for key, name in (("d_mean", "z_mean"), ("d_log_var", "z_log_var")):
        got = result[key]
        if got is None:
            raise CheckFailed(
                f"{call}: no gradient reaches {name} (tape.gradient returned None); expected "
                f"{formula[key]}: the KL term is part of the loss a VAE trains on, so compute it "
                "with keras.ops (ops.sum, ops.square, ops.exp), not NumPy")
        right = got.shape == z_mean.shape and np.allclose(got, expected[key], rtol=1e-4, atol=1e-5)
        hint = ""
        if got.shape == z_mean.shape and np.allclose(got, -expected[key], rtol=1e-3, atol=1e-5):
            hint = " Yours has the opposite sign: a divergence is never negative."
        elif got.shape == z_mean.shape and np.allclose(got * z_mean.shape[-1], expected[key],
                                                       rtol=1e-3, atol=1e-5):
            hint = f" Yours is {z_mean.shape[-1]} times too small: sum over the latent dimensions."
        elif got.shape == z_mean.shape and np.allclose(got * z_mean.shape[0], expected[key],
                                                       rtol=1e-3, atol=1e-5):
            hint = f" Yours is {z_mean.shape[0]} times too small: do not average over the batch."
        expect_that(bool(right), (
            f"{call}: d/d{name} is {fmt(got[0])} in the first row; expected {formula[key]} = "
            f"{fmt(expected[key][0])}: the derivative of -0.5 * (1 + v - m**2 - exp(v)), summed "
            f"over the latent dimensions, one divergence per example.{hint}"))
