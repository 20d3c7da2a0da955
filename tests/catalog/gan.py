"""Mistakes learners make in a GAN's losses and train_step, and correct ones written differently.

Each entry's code is appended to the reference solution: a loss function replaces the
reference's (and the reference ``train_step`` then uses it), a ``GAN`` subclass replaces
``train_step`` only.
"""

from tests.catalog import Mistake, Variant

D_STEP = "discriminator_step_teaches_real_from_generated"
G_STEP = "generator_step_learns_on_fresh_noise"
ISOLATION = "each_player_moves_only_with_its_own_optimizer"
HISTORY = "fit_records_the_epoch_means_of_d_loss_and_g_loss"
FIT = "fit_trains_both_players_like_the_reference_step"
D_LOSS = "discriminator_loss_is_binary_cross_entropy_real_1_generated_0"
G_LOSS = "generator_loss_is_the_non_saturating_one"
BOTH_PLAYERS = "self.trainable_variables holds both players"

# A train_step like the reference's, with {D_STEP_BODY} and {G_STEP_BODY} to be replaced.
STEP = '''
class GAN(GAN):
    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        generated = self.generator(noise, training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(generated, training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(d_loss, variables), variables)
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(noise, training=True), training=True)
            g_loss = generator_loss(fake_logits)
        variables = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(g_loss, variables), variables)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {metric.name: metric.result() for metric in self.metrics}
'''


def step(*replacements: tuple[str, str]) -> str:
    """The reference step with some of its lines replaced (each must be found)."""
    code = STEP
    for old, new in replacements:
        assert old in code, old
        code = code.replace(old, new)
    return code


MISTAKES = [
    # -- discriminator_loss -----------------------------------------------------------------
    Mistake("discriminator_loss_swaps_the_labels", '''
def discriminator_loss(real_logits, fake_logits):
    real_loss = ops.binary_crossentropy(ops.zeros_like(real_logits), real_logits, from_logits=True)
    fake_loss = ops.binary_crossentropy(ops.ones_like(fake_logits), fake_logits, from_logits=True)
    return ops.mean(real_loss) + ops.mean(fake_loss)
''', kills=(D_LOSS,), concept="swaps the labels"),
    Mistake("discriminator_loss_averages_both_groups_at_once", '''
def discriminator_loss(real_logits, fake_logits):
    logits = ops.concatenate([real_logits, fake_logits], axis=0)
    labels = ops.concatenate([ops.ones_like(real_logits), ops.zeros_like(fake_logits)], axis=0)
    return keras.losses.BinaryCrossentropy(from_logits=True)(labels, logits)
''', kills=(D_LOSS,), concept="averages over both groups at once"),
    Mistake("discriminator_loss_reads_logits_as_probabilities", '''
def discriminator_loss(real_logits, fake_logits):
    cross_entropy = keras.losses.BinaryCrossentropy()
    return (cross_entropy(ops.ones_like(real_logits), real_logits)
            + cross_entropy(ops.zeros_like(fake_logits), fake_logits))
''', kills=(D_LOSS,), concept="reads the logits as probabilities"),
    Mistake("discriminator_loss_applies_a_sigmoid_before_from_logits", '''
def discriminator_loss(real_logits, fake_logits):
    real_probability = 1.0 / (1.0 + ops.exp(-real_logits))
    fake_probability = 1.0 / (1.0 + ops.exp(-fake_logits))
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    return (cross_entropy(ops.ones_like(real_logits), real_probability)
            + cross_entropy(ops.zeros_like(fake_logits), fake_probability))
''', kills=(D_LOSS,), concept="applies a sigmoid before"),
    Mistake("discriminator_loss_in_numpy", '''
import numpy as np


def discriminator_loss(real_logits, fake_logits):
    real, fake = np.asarray(real_logits, dtype="float64"), np.asarray(fake_logits, dtype="float64")
    return float(np.mean(np.log1p(np.exp(-real))) + np.mean(np.log1p(np.exp(fake))))
''', kills=(D_LOSS,), concept="not NumPy"),
    # -- generator_loss ---------------------------------------------------------------------
    Mistake("generator_loss_is_the_saturating_one", '''
def generator_loss(fake_logits):
    # minimize log(1 - D(G(z))): minus the discriminator's loss on the generated examples
    return -ops.mean(ops.binary_crossentropy(ops.zeros_like(fake_logits), fake_logits, from_logits=True))
''', kills=(G_LOSS,), concept="Yours is the saturating loss"),
    Mistake("generator_loss_labels_the_fakes_0", '''
def generator_loss(fake_logits):
    return ops.mean(ops.binary_crossentropy(ops.zeros_like(fake_logits), fake_logits, from_logits=True))
''', kills=(G_LOSS,), concept="labels the generated examples 0"),
    Mistake("generator_loss_applies_a_sigmoid_before_from_logits", '''
def generator_loss(fake_logits):
    probability = 1.0 / (1.0 + ops.exp(-fake_logits))
    return keras.losses.BinaryCrossentropy(from_logits=True)(ops.ones_like(fake_logits), probability)
''', kills=(G_LOSS,), concept="applies a sigmoid before"),
    # -- GAN.train_step ---------------------------------------------------------------------
    Mistake("generator_step_updates_the_discriminator_too", step(
        ("        variables = self.generator.trainable_variables\n",
         "        variables = self.trainable_variables\n"),
    ), kills=(D_STEP, ISOLATION, FIT), concept=BOTH_PLAYERS),
    Mistake("discriminator_step_differentiates_the_generator_too", step(
        ('''        generated = self.generator(noise, training=True)
        with tf.GradientTape() as tape:
''', '''        with tf.GradientTape() as tape:
            generated = self.generator(noise, training=True)
'''),
        ("        variables = self.discriminator.trainable_variables\n",
         "        variables = self.generator.trainable_variables + self.discriminator.trainable_variables\n"),
    ), kills=(G_STEP, ISOLATION, FIT), concept=BOTH_PLAYERS),
    Mistake("draws_the_noise_once", step(
        ("        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)\n"
         "        with tf.GradientTape() as tape:\n            fake_logits",
         "        with tf.GradientTape() as tape:\n            fake_logits"),
    ), kills=(G_STEP, FIT), concept="fresh noise"),
    Mistake("train_step_swaps_real_and_generated", step(
        ("d_loss = discriminator_loss(real_logits, fake_logits)",
         "d_loss = discriminator_loss(fake_logits, real_logits)"),
    ), kills=(D_STEP, FIT), concept="discriminator_loss(D(real), D(generated))"),
    Mistake("generator_step_comes_first", '''
class GAN(GAN):
    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            g_loss = generator_loss(self.discriminator(self.generator(noise)))
        variables = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(g_loss, variables), variables)
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            d_loss = discriminator_loss(self.discriminator(real_images),
                                        self.discriminator(self.generator(noise)))
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(d_loss, variables), variables)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {metric.name: metric.result() for metric in self.metrics}
''', kills=(D_STEP, G_STEP, FIT), concept="first the discriminator's step"),
    Mistake("noise_without_the_seed_generator", step(
        ("        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)\n"
         "        generated",
         "        noise = tf.random.normal((batch_size, self.latent_dim))\n        generated"),
        ("        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)\n"
         "        with",
         "        noise = tf.random.normal((batch_size, self.latent_dim))\n        with"),
    ), kills=(D_STEP, G_STEP, FIT), concept="seed=self.seed_generator"),
    Mistake("returns_this_batchs_losses", step(
        ('''        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {metric.name: metric.result() for metric in self.metrics}''',
         '''        return {"d_loss": d_loss, "g_loss": g_loss}'''),
    ), kills=(HISTORY,), concept="running means"),
    Mistake("returns_python_floats", step(
        ("        return {metric.name: metric.result() for metric in self.metrics}",
         "        return {metric.name: float(metric.result()) for metric in self.metrics}"),
    ), kills=(HISTORY, FIT), concept="compiled graph"),
    Mistake("delegates_to_the_built_in_train_step", '''
class GAN(GAN):
    def train_step(self, real_images):
        return keras.Model.train_step(self, real_images)  # the built-in step, as super() gives it
''', kills=(D_STEP, G_STEP, ISOLATION, HISTORY, FIT), delegates=True, concept="own work"),
]

VARIANTS = [
    Variant("keras_io_combined_batch_and_loss_objects", '''
class GAN(GAN):
    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        generated_images = self.generator(random_latent_vectors)
        combined_images = ops.concatenate([real_images, generated_images], axis=0)
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined_images)
            d_loss = discriminator_loss(predictions[:batch_size], predictions[batch_size:])
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = generator_loss(predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def discriminator_loss(real_logits, fake_logits):
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    return (cross_entropy(ops.ones_like(real_logits), real_logits)
            + cross_entropy(ops.zeros_like(fake_logits), fake_logits))


def generator_loss(fake_logits):
    return keras.losses.BinaryCrossentropy(from_logits=True)(ops.ones_like(fake_logits), fake_logits)
'''),
    Variant("softplus_losses_and_generation_inside_the_tape", '''
def discriminator_loss(real_logits, fake_logits):
    # -log(sigmoid(l)) = softplus(-l) and -log(1 - sigmoid(l)) = softplus(l)
    return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))


def generator_loss(fake_logits):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.ones_like(fake_logits), logits=fake_logits))


class GAN(GAN):
    def train_step(self, data):
        n = tf.shape(data)[0]
        z = keras.random.normal((n, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as d_tape:
            fake = self.generator(z)
            d_loss = discriminator_loss(self.discriminator(data), self.discriminator(fake))
        d_vars = self.discriminator.trainable_weights
        self.d_optimizer.apply(d_tape.gradient(d_loss, d_vars), d_vars)
        z = keras.random.normal((n, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as g_tape:
            g_loss = generator_loss(self.discriminator(self.generator(z)))
        g_vars = self.generator.trainable_weights
        self.g_optimizer.apply(g_tape.gradient(g_loss, g_vars), g_vars)
        for tracker, loss in ((self.d_loss_tracker, d_loss), (self.g_loss_tracker, g_loss)):
            tracker.update_state(loss)
        return {tracker.name: tracker.result() for tracker in self.metrics}
'''),
]
