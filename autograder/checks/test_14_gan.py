"""Hidden checks for 14_gan: the two losses, and a GAN's train_step against a reference step.

The losses are compared with Keras' own ``BinaryCrossentropy(from_logits=True)`` and with their
gradients in closed form, on targeted logits every seed sees (a confident discriminator, a
coin flip, groups of different sizes) and on random ones.

``GAN`` is driven in the child (:mod:`autograder.probes.gan`): tiny seeded players, one eager
``train_step``, and a short graph-mode ``fit``. Here, the grader builds the same players (same
seed, so identical weights) and plays the same rounds with its own reference ``train_step``:
the same noise (``keras.random.SeedGenerator(seed)``, drawn twice per step), the same
optimizers, the Keras loss. A correct step ends with the same weights and the same history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from autograder.api import CheckFailed, check
from autograder.oracle import oracle
from autograder.probes.gan import build_players, make_optimizers
from autograder.sandbox import SubmissionError, SubmissionRaised
from grimoire.feedback import describe
from grimoire.quiet import import_keras

keras = import_keras()
import tensorflow as tf  # noqa: E402  (after the quiet import of Keras)

ops = keras.ops

# What the learner must write themselves (enforced by autograder/own_work.py).
OWN_WORK = {
    "discriminator_loss": {"no_framework": False},
    "generator_loss": {"no_framework": False},
    "GAN": {"own_methods": ["train_step"]},
}

VALUE_RTOL, VALUE_ATOL = 1e-4, 1e-5
WEIGHT_RTOL, WEIGHT_ATOL = 1e-4, 1e-5
FEATURES, LATENT_DIM, BATCH = 2, 3, 8
STEP_RATES = {"both": (0.05, 0.1), "frozen_discriminator": (0.0, 0.1),
              "frozen_generator": (0.05, 0.0)}

D_STEP = ("the discriminator's step: noise = keras.random.normal((batch, latent_dim), "
          "seed=self.seed_generator), generated = self.generator(noise); under a tf.GradientTape "
          "d_loss = discriminator_loss(D(real), D(generated)); its gradients for "
          "self.discriminator.trainable_variables applied by self.d_optimizer")
G_STEP = ("the generator's step: fresh noise from a second keras.random.normal(..., "
          "seed=self.seed_generator); under a new tape g_loss = generator_loss(D(G(noise))); its "
          "gradients for self.generator.trainable_variables applied by self.g_optimizer")
ROUND = ("one round is first the discriminator's step, then the generator's step, each changing "
         "only its own player's variables (self.trainable_variables holds both players). "
         f"{D_STEP[0].upper()}{D_STEP[1:]}. {G_STEP[0].upper()}{G_STEP[1:]}")
GRAPH = ("inside fit, train_step runs as a compiled graph, where a tensor has no value yet: "
         "build the step with keras.ops or tf (no NumPy, no float() of a tensor), and let the "
         "trackers' result() tensors go back to fit as they are")


def fmt(values) -> str:
    return np.array2string(np.asarray(values, dtype=float).ravel(), precision=4, separator=", ",
                           suppress_small=True, max_line_width=200)


# -- the losses ---------------------------------------------------------------------------------
BCE = keras.losses.BinaryCrossentropy(from_logits=True)


@oracle
def keras_bce(label: float, logits: np.ndarray) -> float:
    """Keras' own binary cross-entropy from logits, averaged over the group."""
    return float(BCE(np.full(logits.shape, label, "float32"), logits.astype("float32")))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def logits(rng, n: int, low: float = -5.0, high: float = 5.0) -> np.ndarray:
    return rng.uniform(low, high, size=(n, 1)).astype("float32")


def discriminator_cases(rng):
    """(label, real_logits, fake_logits): targeted first, then random."""
    return [
        ("a confident, correct discriminator (real logits 3 to 6, generated -6 to -3)",
         logits(rng, 4, 3.0, 6.0), logits(rng, 4, -6.0, -3.0)),
        ("logits 0 everywhere (a coin flip), 3 real and 5 generated",
         np.zeros((3, 1), "float32"), np.zeros((5, 1), "float32")),
        ("3 real and 7 generated examples", logits(rng, 3), logits(rng, 7)),
        ("random logits", logits(rng, int(rng.integers(2, 9))), logits(rng, int(rng.integers(2, 9)))),
    ]


def generator_cases(rng):
    return [
        ("a discriminator sure that the generated examples are fake (logits -6 to -3)",
         logits(rng, 5, -6.0, -3.0)),
        ("logits 0 everywhere (a coin flip)", np.zeros((4, 1), "float32")),
        ("random logits", logits(rng, int(rng.integers(2, 9)))),
    ]


def loss_results(submission, function: str, cases, call: str):
    try:
        return submission.probe("gan:loss_cases", function, cases, describe=call)
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}: the loss takes tensors of logits and returns a scalar "
                          "tensor, built with keras.ops") from None


def compare_loss(call: str, result, expected_value: float, expected_gradients, concept: str,
                 hints: dict[str, float]) -> None:
    value = result.get("value") if isinstance(result, dict) else None
    if not (isinstance(value, np.ndarray) and value.size == 1):
        raise CheckFailed(f"{call} returned {describe(value)}; expected one number, "
                          f"{expected_value:.6g}: average over the examples. {concept}")
    got = float(value.ravel()[0])
    if not math.isclose(got, expected_value, rel_tol=VALUE_RTOL, abs_tol=VALUE_ATOL):
        hint = next((f" {text}" for text, wrong in hints.items()
                     if math.isclose(got, wrong, rel_tol=1e-3, abs_tol=1e-4)), "")
        raise CheckFailed(f"{call} returned {got:.6g}; expected {expected_value:.6g}, as Keras' "
                          f"BinaryCrossentropy(from_logits=True) computes it: {concept}.{hint}")
    for name, gradient, expected in zip(("the first input", "the second input"),
                                        result["gradients"], expected_gradients):
        if gradient is None:
            raise CheckFailed(f"{call}: no gradient reaches {name} (tape.gradient gave None); "
                              "expected the loss's derivative: build the loss with keras.ops "
                              "(or tf) on the tensors, not NumPy or Python floats, so that "
                              "train_step can differentiate it")
        if gradient.shape != expected.shape or not np.allclose(gradient, expected, rtol=1e-3, atol=1e-5):
            raise CheckFailed(f"{call}: the gradient for {name} is {fmt(gradient)}; expected "
                              f"{fmt(expected)}: {concept}")


@check(task="discriminator_loss", points=2)
def test_discriminator_loss_is_binary_cross_entropy_real_1_generated_0(submission, rng):
    cases = discriminator_cases(rng)
    call = "discriminator_loss(real_logits, fake_logits)"
    results = loss_results(submission, "discriminator_loss", [(r, f) for _, r, f in cases], call)
    concept = ("binary cross-entropy from logits with real examples labelled 1 and generated ones "
               "0, averaged over each group, the two averages added")
    for (label, real, fake), result in zip(cases, results):
        here = (f"{call} on {label}: real_logits {fmt(real)}, fake_logits {fmt(fake)},")
        real_part, fake_part = keras_bce(1.0, real), keras_bce(0.0, fake)
        expected = real_part + fake_part
        both = np.concatenate([real, fake])
        labels = np.concatenate([np.ones_like(real), np.zeros_like(fake)])
        hints = {
            "Yours swaps the labels: real examples are 1, generated ones 0.":
                keras_bce(0.0, real) + keras_bce(1.0, fake),
            "Yours averages over both groups at once: average each group, then add.":
                float(BCE(labels, both)),
            "Yours reads the logits as probabilities: use from_logits=True.":
                float(keras.losses.BinaryCrossentropy()(np.ones_like(real), real))
                + float(keras.losses.BinaryCrossentropy()(np.zeros_like(fake), fake)),
            "Yours applies a sigmoid before a loss that expects logits: pass the logits as they are.":
                keras_bce(1.0, sigmoid(real)) + keras_bce(0.0, sigmoid(fake)),
        }
        gradients = [(sigmoid(real) - 1.0) / real.size, sigmoid(fake) / fake.size]
        compare_loss(here, result, expected, gradients, concept, hints)


@check(task="generator_loss", points=2)
def test_generator_loss_is_the_non_saturating_one(submission, rng):
    cases = generator_cases(rng)
    call = "generator_loss(fake_logits)"
    results = loss_results(submission, "generator_loss", [(f,) for _, f in cases], call)
    concept = ("the non-saturating loss: binary cross-entropy from logits with the generated "
               "examples labelled 1 ('real'), averaged, i.e. mean(-log(sigmoid(logit)))")
    for (label, fake), result in zip(cases, results):
        here = f"{call} on {label}: fake_logits {fmt(fake)},"
        hints = {
            "Yours is the saturating loss mean(log(1 - sigmoid(logit))): its gradient vanishes "
            "when the discriminator is sure, just when the generator needs it.": -keras_bce(0.0, fake),
            "Yours labels the generated examples 0: that is the discriminator's goal, the "
            "generator wants them called real (1).": keras_bce(0.0, fake),
            "Yours applies a sigmoid before a loss that expects logits: pass the logits as they are.":
                keras_bce(1.0, sigmoid(fake)),
            "Yours reads the logits as probabilities: use from_logits=True.":
                float(keras.losses.BinaryCrossentropy()(np.ones_like(fake), fake)),
        }
        compare_loss(here, result, keras_bce(1.0, fake), [(sigmoid(fake) - 1.0) / fake.size],
                     concept, hints)


# -- the reference train_step -------------------------------------------------------------------
class ReferenceGAN(keras.Model):
    """The step the learner writes, with Keras' loss; ``reuse_noise`` plays a known mistake."""

    def __init__(self, discriminator, generator, latent_dim, seed=None, reuse_noise=False):
        super().__init__()
        self.discriminator, self.generator, self.latent_dim = discriminator, generator, latent_dim
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.reuse_noise = reuse_noise
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def train_step(self, real):
        batch = ops.shape(real)[0]
        noise = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        generated = self.generator(noise)
        with tf.GradientTape() as tape:
            real_logits, fake_logits = self.discriminator(real), self.discriminator(generated)
            d_loss = BCE(ops.ones_like(real_logits), real_logits) + BCE(ops.zeros_like(fake_logits),
                                                                        fake_logits)
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(d_loss, variables), variables)
        if not self.reuse_noise:
            noise = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(noise))
            g_loss = BCE(ops.ones_like(fake_logits), fake_logits)
        variables = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(g_loss, variables), variables)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {metric.name: metric.result() for metric in self.metrics}


def reference_gan(seed, features, rates, reuse_noise=False, adam=False):
    discriminator, generator = build_players(seed, features, LATENT_DIM)
    start = {"discriminator": discriminator.get_weights(), "generator": generator.get_weights()}
    gan = ReferenceGAN(discriminator, generator, LATENT_DIM, seed=seed, reuse_noise=reuse_noise)
    gan.compile(*make_optimizers(*rates, adam=adam))
    return gan, start


@oracle
def reference_step(seed, batch, rates, reuse_noise=False):
    gan, start = reference_gan(seed, batch.shape[1], rates, reuse_noise)
    gan.train_step(tf.constant(batch))
    return {"discriminator": gan.discriminator.get_weights(),
            "generator": gan.generator.get_weights()}, start


@oracle
def reference_fit(seed, x, rates, batch_size, epochs):
    gan, start = reference_gan(seed, x.shape[1], rates, adam=True)
    gan.run_eagerly = True  # faster for a few steps; the same numbers as the graph to ~1e-7
    history = gan.fit(x, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return ({"discriminator": gan.discriminator.get_weights(), "generator": gan.generator.get_weights(),
             "history": {k: [float(v) for v in values] for k, values in history.history.items()}},
            start)


# -- comparing players --------------------------------------------------------------------------
WEIGHT_NAMES = ["the hidden Dense kernel", "the hidden Dense bias", "the output Dense kernel",
                "the output Dense bias"]


def same_array(got, expected) -> bool:
    return (isinstance(got, np.ndarray) and got.shape == expected.shape
            and bool(np.allclose(got, expected, rtol=WEIGHT_RTOL, atol=WEIGHT_ATOL)))


def same_player(got, expected) -> bool:
    return (isinstance(got, list) and len(got) == len(expected)
            and all(same_array(g, e) for g, e in zip(got, expected)))


def first_difference(got, expected, where="where the reference step puts it") -> str:
    """'the output Dense kernel ends up to 0.031 away from ...' for the first array that differs."""
    if not (isinstance(got, list) and len(got) == len(expected)):
        return f"its weights came back as {describe(got)}; expected {len(expected)} arrays"
    for name, value, target in zip(WEIGHT_NAMES, got, expected):
        if not same_array(value, target):
            if isinstance(value, np.ndarray) and value.shape == target.shape:
                return (f"{name} ends up to {float(np.max(np.abs(value - target))):.3g} away from "
                        f"{where}")
            return f"{name} came back as {describe(value)}; expected shape {target.shape}"
    return "its weights differ"


@dataclass
class Shared:
    """One probe's answer (or its error) shared by several checks, each with its own concept."""

    call: str
    answer: object = None
    error: SubmissionError | None = None
    expected: object = None
    start: object = None
    extra: object = None
    note: str = ""  # said first when the learner's code raised

    def get(self, concept: str):
        if isinstance(self.error, SubmissionRaised):
            raise CheckFailed(f"{self.error}: {self.note}{concept}")
        if self.error is not None:
            raise self.error  # not started, a timeout, a crash: the sandbox's words say it all
        return self.answer


def entry(got, index, key):
    try:
        value = got[index][key] if index is not None else got[key]
    except (TypeError, KeyError, IndexError):
        return None
    return value


def step_call(seed, rates, n) -> str:
    d_rate, g_rate = rates
    return (f"GAN(discriminator, generator, latent_dim={LATENT_DIM}, seed={seed}) compiled with "
            f"d_optimizer=SGD({d_rate}), g_optimizer=SGD({g_rate}, momentum=0.5), then "
            f"train_step(real) once on {n} real examples of {FEATURES} features")


@pytest.fixture
def one_step(submission, shared_scenario):
    """One train_step from the same start, three times: both optimizers live, then each frozen."""
    return shared_scenario("gan_one_step", lambda rng: _make_one_step(submission, rng))


def _make_one_step(submission, rng):
    seed = int(rng.integers(1, 10_000))
    batch = rng.normal(loc=rng.uniform(1.0, 3.0), scale=0.5, size=(BATCH, FEATURES)).astype("float32")
    rates = list(STEP_RATES.values())
    shared = Shared(f"GAN(...).train_step(real) with seed {seed}")
    try:
        shared.answer = submission.probe("gan:train_steps", seed, [batch], LATENT_DIM, rates,
                                         describe=shared.call, timeout=60)
    except SubmissionError as error:
        shared.error = error
    shared.expected = {}
    for name, config in STEP_RATES.items():
        shared.expected[name], shared.start = reference_step(seed, batch, config)
    shared.extra = {"seed": seed, "batch": batch}
    return shared


@check(task="GAN", points=2)
def test_discriminator_step_teaches_real_from_generated(one_step):
    got = one_step.get(ROUND)
    seed = one_step.extra["seed"]
    call = step_call(seed, STEP_RATES["both"], BATCH)
    mine = entry(got, 0, "discriminator")
    expected = one_step.expected["both"]["discriminator"]
    if same_player(mine, expected):
        return
    why = ""
    if same_player(mine, one_step.start["discriminator"]):
        why = (" The discriminator never moved: apply the gradients of d_loss with "
               "self.d_optimizer.apply(gradients, self.discriminator.trainable_variables).")
    raise CheckFailed(f"{call}: the discriminator's {first_difference(mine, expected)}; expected "
                      f"the same weights.{why} {ROUND[0].upper()}{ROUND[1:]}")


@check(task="GAN", points=2)
def test_generator_step_learns_on_fresh_noise(one_step):
    got = one_step.get(ROUND)
    seed, batch = one_step.extra["seed"], one_step.extra["batch"]
    call = step_call(seed, STEP_RATES["both"], BATCH)
    mine = entry(got, 0, "generator")
    expected = one_step.expected["both"]["generator"]
    if same_player(mine, expected):
        return
    why = ""
    if same_player(mine, one_step.start["generator"]):
        why = (" The generator never moved: apply the gradients of g_loss with "
               "self.g_optimizer.apply(gradients, self.generator.trainable_variables).")
    else:
        reused, _ = reference_step(seed, batch, STEP_RATES["both"], reuse_noise=True)
        if same_player(mine, reused["generator"]):
            why = (" Your generator moved exactly as if its step reused the discriminator's "
                   "noise: draw fresh noise for the generator's step.")
    raise CheckFailed(f"{call}: the generator's {first_difference(mine, expected)}; expected the "
                      f"same weights.{why} {ROUND[0].upper()}{ROUND[1:]}")


@check(task="GAN", points=2)
def test_each_player_moves_only_with_its_own_optimizer(one_step):
    concept = ("each step has its own tape, its own variables and its own optimizer: d_loss "
               "moves only self.discriminator.trainable_variables, through self.d_optimizer; "
               "g_loss only self.generator.trainable_variables, through self.g_optimizer "
               "(self.trainable_variables holds both players)")
    got = one_step.get(concept)
    seed = one_step.extra["seed"]
    for index, (name, frozen, live) in enumerate([
            ("frozen_discriminator", "discriminator", "generator"),
            ("frozen_generator", "generator", "discriminator")]):
        call = step_call(seed, STEP_RATES[name], BATCH)
        mine = entry(got, index + 1, frozen)
        if not same_player(mine, one_step.start[frozen]):
            raise CheckFailed(
                f"{call}: the {frozen} moved ("
                f"{first_difference(mine, one_step.start[frozen], 'where it started')}), although "
                f"its own optimizer has learning rate 0; expected it unchanged: the {live}'s "
                f"step changed the {frozen}'s weights. {concept}")
        mine = entry(got, index + 1, live)
        expected = one_step.expected[name][live]
        if not same_player(mine, expected):
            raise CheckFailed(f"{call}: the {live}'s {first_difference(mine, expected)}; expected "
                              f"the same weights: {concept}")


@pytest.fixture
def short_fit(submission, shared_scenario):
    """GAN.fit for two epochs of four batches, in graph mode, against the reference eagerly."""
    return shared_scenario("gan_fit", lambda rng: _make_short_fit(submission, rng))


def _make_short_fit(submission, rng):
    seed = int(rng.integers(1, 10_000))
    n, batch_size, epochs = 32, 8, 2
    x = rng.normal(loc=rng.uniform(-2.0, 2.0, size=FEATURES), scale=0.5,
                   size=(n, FEATURES)).astype("float32")
    rates = (0.02, 0.05)
    shared = Shared(f"GAN(discriminator, generator, latent_dim={LATENT_DIM}, seed={seed}) compiled "
                    f"with d_optimizer=Adam({rates[0]}), g_optimizer=SGD({rates[1]}, momentum=0.5), "
                    f"then fit(x, batch_size={batch_size}, epochs={epochs}, shuffle=False) on {n} "
                    f"real examples", note=f"{GRAPH}. ")
    try:
        shared.answer = submission.probe("gan:fit", seed, x, LATENT_DIM, rates, batch_size, epochs,
                                         describe=shared.call, timeout=90)
    except SubmissionError as error:
        shared.error = error
    shared.expected, shared.start = reference_fit(seed, x, rates, batch_size, epochs)
    return shared


def close_list(got, expected) -> bool:
    return (isinstance(got, list) and len(got) == len(expected)
            and all(isinstance(g, float) and not math.isnan(g)
                    and math.isclose(g, e, rel_tol=WEIGHT_RTOL, abs_tol=WEIGHT_ATOL)
                    for g, e in zip(got, expected)))


@check(task="GAN", points=1)
def test_fit_records_the_epoch_means_of_d_loss_and_g_loss(short_fit):
    concept = ("fit records what train_step returns: update self.d_loss_tracker and "
               "self.g_loss_tracker with the two losses every step and return "
               "{metric.name: metric.result() for metric in self.metrics}, the running means "
               "over the epoch, not this batch's values")
    history = entry(short_fit.get(concept), None, "history")
    expected = short_fit.expected["history"]
    if not isinstance(history, dict):
        raise CheckFailed(f"{short_fit.call}: history came back as {describe(history)}; expected "
                          f"{sorted(expected)}: {concept}")
    for key, values in expected.items():
        if key not in history:
            raise CheckFailed(f"{short_fit.call}: history has keys {sorted(history)}, no {key!r}; "
                              f"expected {sorted(expected)}: {concept}")
        if not close_list(history[key], values):
            raise CheckFailed(f"{short_fit.call}: history[{key!r}] was {describe(history[key])}; "
                              f"expected {[round(v, 6) for v in values]}, as the reference step "
                              f"records: {concept}")


@check(task="GAN", points=2)
def test_fit_trains_both_players_like_the_reference_step(short_fit):
    concept = (f"every step of fit plays one round: {ROUND}. The seed generator made in __init__ "
               "moves on with every draw, so each step gets new noise")
    got = short_fit.get(concept)
    for player in ("discriminator", "generator"):
        mine, expected = entry(got, None, player), short_fit.expected[player]
        if not same_player(mine, expected):
            raise CheckFailed(f"{short_fit.call}: the {player}'s {first_difference(mine, expected)}"
                              f"; expected the same weights: {concept}")
