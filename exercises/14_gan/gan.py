# 14 · A GAN's train_step: two players, two losses, two optimizers: write your code at each TODO, then check it with `make feedback TOPIC=14_gan`
# (`make watch` checks it on every save; `make reset TOPIC=14_gan` starts over, keeping a copy).
"""A generative adversarial network (GAN): two models trained against each other.

The **discriminator** reads an example and outputs one logit: high for "real", low for
"generated". The **generator** turns random noise into examples. Training alternates two
steps, each with its own loss, its own optimizer and its own weights: the discriminator learns
to tell real from generated, then the generator learns to make the discriminator say "real".
You write both losses and the ``train_step`` that plays one round, so that ``fit`` trains a GAN.
"""

import keras
import tensorflow as tf
from keras import ops


def make_players(seed=0, features=1, latent_dim=2, units=16):
    """A small discriminator and generator, the same for the same seed.

    The discriminator maps ``(batch, features)`` to ``(batch, 1)`` logits (no sigmoid); the
    generator maps noise ``(batch, latent_dim)`` to ``(batch, features)`` examples.
    """
    keras.utils.set_random_seed(seed)
    discriminator = keras.Sequential([
        keras.Input((features,)),
        keras.layers.Dense(units, activation="tanh"),
        keras.layers.Dense(1),  # a logit: how "real" the example looks
    ], name="discriminator")
    generator = keras.Sequential([
        keras.Input((latent_dim,)),
        keras.layers.Dense(units, activation="tanh"),
        keras.layers.Dense(features),
    ], name="generator")
    return discriminator, generator


def discriminator_loss(real_logits, fake_logits):
    """The discriminator's loss: binary cross-entropy from logits, real = 1, generated = 0.

    ``real_logits`` are the discriminator's outputs on real examples, ``fake_logits`` on
    generated ones, each of shape ``(batch, 1)``: logits, not probabilities (the probability
    of "real" is ``sigmoid(logit)``). Label the real ones 1 and the generated ones 0, average
    the binary cross-entropy over each group separately, and return the sum of the two
    averages: a scalar tensor, built with ``keras.ops`` so that a tape can differentiate it.

    >>> float(discriminator_loss(ops.zeros((4, 1)), ops.zeros((2, 1))))  # 2 * log(2): a coin flip
    1.3862943649291992
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("discriminator_loss is not implemented yet")


def generator_loss(fake_logits):
    """The generator's loss, the *non-saturating* one: generated examples labelled 1 ("real").

    ``fake_logits`` are the discriminator's logits on generated examples, shape
    ``(batch, 1)``. The generator wants them judged real, so its loss is the binary
    cross-entropy of the label 1 from these logits, averaged: ``mean(-log(sigmoid(logit)))``.
    (Not ``mean(log(1 - sigmoid(logit)))``, the "saturating" loss, whose gradient vanishes
    exactly when the generator is bad and the discriminator sure of itself.) Return a scalar
    tensor built with ``keras.ops``.

    >>> float(generator_loss(ops.zeros((3, 1))))  # log(2)
    0.6931471824645996
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("generator_loss is not implemented yet")


class GAN(keras.Model):
    """A GAN that ``fit`` can train: one call of ``train_step`` plays one round of the game.

    >>> discriminator, generator = make_players(seed=0, features=1, latent_dim=2)
    >>> gan = GAN(discriminator, generator, latent_dim=2, seed=0)
    >>> gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    >>> history = gan.fit(real_examples, batch_size=32, epochs=5, verbose=0)
    >>> sorted(history.history)
    ['d_loss', 'g_loss']
    """

    def __init__(self, discriminator, generator, latent_dim, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        # The state of the noise: every draw with seed=self.seed_generator uses it and moves it on.
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Running means over the epoch, reset by fit at the start of every epoch.
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    @property
    def metrics(self):
        # What fit resets every epoch and records in history: the two trackers.
        return [self.d_loss_tracker, self.g_loss_tracker]

    def train_step(self, real_images):
        """One round on a batch of real examples; return ``{"d_loss": ..., "g_loss": ...}``.

        ``real_images`` has shape ``(batch, features)``; take ``batch`` from
        ``ops.shape(real_images)[0]`` (the last batch of an epoch may be smaller).

        1. **The discriminator's step.** Draw noise
           ``keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)``, let the
           generator turn it into generated examples, and, under a ``tf.GradientTape``, score
           the real and the generated examples with the discriminator and compute
           ``discriminator_loss``. Apply its gradients for the discriminator's trainable
           variables, and only those, with ``self.d_optimizer``.
        2. **The generator's step.** Draw *fresh* noise the same way; under a new tape,
           generate, score with the discriminator and compute ``generator_loss``. Apply its
           gradients for the generator's trainable variables, and only those, with
           ``self.g_optimizer``.
        3. **The record.** Update ``self.d_loss_tracker`` and ``self.g_loss_tracker`` with the
           two losses and return ``{metric.name: metric.result() for metric in self.metrics}``.
        """
        # TODO: your code here (the docstring above says what it should do)
        raise NotImplementedError("train_step is not implemented yet")
