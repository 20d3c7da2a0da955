# The visible checks of 14 · A GAN's train_step: two players, two losses, two optimizers (`make feedback TOPIC=14_gan` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for the GAN. Run them with `pytest exercises/14_gan`.

The losses are compared with numbers worked out by hand. The GAN's tests mostly freeze a player
(learning rate 0), so that what train_step must report and move can be computed exactly.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan import GAN, discriminator_loss, generator_loss, make_players
from grimoire.teach import Mismatch, call_or_not_started, expect_value


def number(call, value):
    """The one number a loss returns, as a float (a scalar tensor, or an array of one element)."""
    array = np.asarray(keras.ops.convert_to_numpy(value))
    if array.size != 1:
        raise Mismatch(f"{call} returned shape {array.shape}; expected one number: average the "
                       "cross-entropy over the examples (ops.mean)")
    return float(array.ravel()[0])


def softplus(x):
    """log(1 + exp(x)): the binary cross-entropy of label 0 from logit x; of label 1 from -x."""
    return np.log1p(np.exp(np.asarray(x, dtype="float64")))


@pytest.mark.task("discriminator_loss")
def test_a_coin_flip_discriminator_pays_log_2_per_group():
    loss = call_or_not_started(discriminator_loss, tf.zeros((3, 1)), tf.zeros((5, 1)))
    call = "discriminator_loss(zeros((3, 1)), zeros((5, 1)))"
    expect_value(call, number(call, loss),
                 float(2 * np.log(2)), rtol=1e-5,
                 concept="a logit of 0 is a probability of 0.5: each group's average binary "
                         "cross-entropy is log(2), and the two averages add up to 2 log(2)")


@pytest.mark.task("discriminator_loss")
def test_a_confident_correct_discriminator_pays_little():
    real, fake = np.array([[4.0], [5.0]]), np.array([[-4.0], [-6.0]])
    loss = call_or_not_started(discriminator_loss, tf.constant(real, "float32"), tf.constant(fake, "float32"))
    expected = softplus(-real).mean() + softplus(fake).mean()
    call = "discriminator_loss([[4], [5]], [[-4], [-6]])"
    expect_value(call, number(call, loss),
                 float(expected), rtol=1e-5,
                 concept="high logits on real examples and low ones on generated examples are right "
                         "answers: real examples are labelled 1, generated ones 0, and the logits go "
                         "to the loss as logits (from_logits=True), never as probabilities")


@pytest.mark.task("discriminator_loss")
def test_each_group_is_averaged_on_its_own():
    real, fake = np.array([[0.0]]), np.array([[2.0], [2.0], [2.0]])
    loss = call_or_not_started(discriminator_loss, tf.constant(real, "float32"), tf.constant(fake, "float32"))
    expected = softplus(-real).mean() + softplus(fake).mean()
    call = "discriminator_loss([[0]], [[2], [2], [2]])"
    expect_value(call, number(call, loss),
                 float(expected), rtol=1e-5,
                 concept="average the real group (1 example) and the generated group (3 examples) "
                         "separately, then add: log(2) + log(1 + e^2); one average over all four "
                         "examples would weigh the groups by their sizes")


@pytest.mark.task("discriminator_loss")
def test_discriminator_loss_can_be_trained_through():
    real, fake = tf.constant([[1.0], [-1.0]]), tf.constant([[0.5], [3.0]])
    with tf.GradientTape() as tape:
        tape.watch([real, fake])
        loss = call_or_not_started(discriminator_loss, real, fake)
    d_real, d_fake = tape.gradient(loss, [real, fake])
    call = "tape.gradient(discriminator_loss(real, fake), [real, fake])"
    if d_real is None or d_fake is None:
        raise Mismatch(f"{call} gave None; expected gradients: build the loss with keras.ops on "
                       "the tensors (not NumPy, not Python floats), or train_step cannot learn")
    sigmoid = 1 / (1 + np.exp(-np.array([0.5, 3.0])))
    expect_value(f"{call}[1]", tuple(float(v) for v in d_fake.numpy().ravel()),
                 tuple(float(v) for v in sigmoid / 2), rtol=1e-4, atol=1e-5,
                 concept="the derivative of the averaged cross-entropy of label 0 is sigmoid(logit) "
                         "divided by the group's size")


@pytest.mark.task("generator_loss")
def test_generator_loss_is_log_2_at_a_coin_flip():
    loss = call_or_not_started(generator_loss, tf.zeros((4, 1)))
    call = "generator_loss(zeros((4, 1)))"
    expect_value(call, number(call, loss), float(np.log(2)), rtol=1e-5,
                 concept="the generated examples are labelled 1 (the generator wants them called "
                         "real): at logit 0 the binary cross-entropy is log(2)")


@pytest.mark.task("generator_loss")
def test_generator_loss_is_large_when_the_discriminator_is_sure():
    fake = np.array([[-4.0], [-2.0]])
    loss = call_or_not_started(generator_loss, tf.constant(fake, "float32"))
    call = "generator_loss([[-4], [-2]])"
    expect_value(call, number(call, loss), float(softplus(-fake).mean()), rtol=1e-5,
                 concept="the non-saturating loss mean(-log(sigmoid(logit))) is large when the "
                         "discriminator rejects the generated examples, so the generator gets a "
                         "strong gradient; mean(log(1 - sigmoid(logit))) would be near 0 and flat there")


@pytest.mark.task("generator_loss")
def test_generator_loss_can_be_trained_through():
    fake = tf.constant([[-3.0], [1.0]])
    with tf.GradientTape() as tape:
        tape.watch(fake)
        loss = call_or_not_started(generator_loss, fake)
    gradient = tape.gradient(loss, fake)
    call = "tape.gradient(generator_loss(fake), fake)"
    if gradient is None:
        raise Mismatch(f"{call} gave None; expected a gradient: build the loss with keras.ops")
    sigmoid = 1 / (1 + np.exp(-np.array([-3.0, 1.0])))
    expect_value(call, tuple(float(v) for v in gradient.numpy().ravel()),
                 tuple(float(v) for v in (sigmoid - 1) / 2), rtol=1e-4, atol=1e-5,
                 concept="the derivative of mean(-log(sigmoid(logit))) is (sigmoid(logit) - 1) / n: "
                         "far from 0 when the discriminator is sure the example is fake")


def frozen_gan(seed, d_rate, g_rate):
    discriminator, generator = make_players(seed=seed, features=1, latent_dim=2, units=4)
    gan = GAN(discriminator, generator, latent_dim=2, seed=seed)
    gan.compile(d_optimizer=keras.optimizers.SGD(d_rate), g_optimizer=keras.optimizers.SGD(g_rate))
    return gan


REAL = np.linspace(1.0, 3.0, 8, dtype="float32").reshape(8, 1)
BCE = keras.losses.BinaryCrossentropy(from_logits=True)


def expected_losses(gan, seed, batches):
    """(d_loss, g_loss) of each step of a GAN whose players never move, with the same noise."""
    noise = keras.random.SeedGenerator(seed)  # the same state as the GAN's: the same draws
    losses = []
    for batch in batches:
        n = len(batch)
        first = keras.random.normal((n, 2), seed=noise)  # the discriminator's step
        second = keras.random.normal((n, 2), seed=noise)  # the generator's step: fresh noise
        d_loss = (BCE(tf.ones((n, 1)), gan.discriminator(batch))
                  + BCE(tf.zeros((n, 1)), gan.discriminator(gan.generator(first))))
        g_loss = BCE(tf.ones((n, 1)), gan.discriminator(gan.generator(second)))
        losses.append((float(d_loss), float(g_loss)))
    return losses


@pytest.mark.task("GAN")
def test_train_step_reports_both_losses_on_two_fresh_draws_of_noise():
    gan = frozen_gan(seed=3, d_rate=0.0, g_rate=0.0)  # nothing moves: the losses are predictable
    logs = call_or_not_started(gan.train_step, tf.constant(REAL))
    if not isinstance(logs, dict) or sorted(logs) != ["d_loss", "g_loss"]:
        raise Mismatch(f"gan.train_step(real) returned {logs!r}; expected a dict with keys 'd_loss' "
                       "and 'g_loss': return {metric.name: metric.result() for metric in self.metrics}")
    (d_loss, g_loss), = expected_losses(gan, 3, [REAL])
    concept = ("draw noise = keras.random.normal((batch, latent_dim), seed=self.seed_generator) for "
               "the discriminator's step, score real (label 1) and generated (label 0) examples; then "
               "draw fresh noise the same way for the generator's step")
    expect_value("gan.train_step(real)['d_loss'], both learning rates 0", float(logs["d_loss"]),
                 d_loss, rtol=1e-5, concept=concept)
    expect_value("gan.train_step(real)['g_loss'], both learning rates 0", float(logs["g_loss"]),
                 g_loss, rtol=1e-5, concept=concept + " (a second draw: the same noise twice gives "
                                                     "the discriminator's fakes back)")


@pytest.mark.task("GAN")
def test_each_player_moves_only_with_its_own_optimizer():
    for d_rate, g_rate, frozen, moving in ((0.0, 0.1, "discriminator", "generator"),
                                           (0.1, 0.0, "generator", "discriminator")):
        gan = frozen_gan(seed=4, d_rate=d_rate, g_rate=g_rate)
        before = {name: [w.copy() for w in getattr(gan, name).get_weights()]
                  for name in ("discriminator", "generator")}
        call_or_not_started(gan.train_step, tf.constant(REAL))
        after = {name: getattr(gan, name).get_weights() for name in before}
        call = f"gan.train_step(real) with d_optimizer=SGD({d_rate}), g_optimizer=SGD({g_rate})"
        if not all(np.allclose(a, b) for a, b in zip(after[frozen], before[frozen])):
            raise Mismatch(f"{call} changed the {frozen}'s weights; expected them unchanged (its "
                           f"optimizer's learning rate is 0): the {moving}'s step must apply its "
                           f"gradients to self.{moving}.trainable_variables only, with its own "
                           "optimizer; self.trainable_variables holds both players")
        if all(np.allclose(a, b) for a, b in zip(after[moving], before[moving])):
            raise Mismatch(f"{call} left the {moving}'s weights unchanged; expected a step: "
                           f"apply the gradients of its loss with self.{moving[0]}_optimizer")


@pytest.mark.task("GAN")
def test_the_discriminators_step_lowers_its_loss():
    gan = frozen_gan(seed=5, d_rate=0.05, g_rate=0.0)  # only the discriminator learns
    noise = keras.random.normal((8, 2), seed=keras.random.SeedGenerator(5))  # its step's draw
    generated = gan.generator(noise)

    def d_loss():
        return float(BCE(tf.ones((8, 1)), gan.discriminator(REAL))
                     + BCE(tf.zeros((8, 1)), gan.discriminator(generated)))

    before = d_loss()
    call_or_not_started(gan.train_step, tf.constant(REAL))
    after = d_loss()
    if not after < before:
        raise Mismatch(f"one gan.train_step(real) took the discriminator's loss on this batch from "
                       f"{before:.4f} to {after:.4f}; expected it lower: the discriminator descends "
                       "the gradient of discriminator_loss(D(real), D(generated)), real labelled 1, "
                       "generated 0 (not the other way round)")


@pytest.mark.task("GAN")
def test_fit_records_the_epoch_means_of_both_losses():
    call_or_not_started(frozen_gan(seed=6, d_rate=0.0, g_rate=0.0).train_step, tf.constant(REAL))
    gan = frozen_gan(seed=6, d_rate=0.0, g_rate=0.0)
    try:
        history = call_or_not_started(gan.fit, REAL, batch_size=4, epochs=1, shuffle=False, verbose=0)
    except (TypeError, ValueError) as error:
        raise Mismatch(f"gan.fit(real, batch_size=4) raised {type(error).__name__}: {error}; inside "
                       "fit, train_step runs as a compiled graph, where a tensor has no value yet: "
                       "use keras.ops or tf there (no NumPy, no float() of a tensor)") from None
    per_step = expected_losses(gan, 6, [REAL[:4], REAL[4:]])  # two steps of 4 examples
    for index, key in enumerate(("d_loss", "g_loss")):
        expected = np.mean([step[index] for step in per_step])
        got = history.history.get(key, [None])[0]
        expect_value(f"gan.fit(real, batch_size=4, epochs=1).history[{key!r}]",
                     None if got is None else float(got), float(expected), rtol=1e-5,
                     concept="history holds the mean over the epoch's two steps: update the "
                             f"{key} tracker every step and return its result(), not this batch's loss")
