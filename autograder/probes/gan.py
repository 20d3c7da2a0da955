"""Probes for 14_gan: the learner's losses on logits, and their ``GAN`` playing a few rounds.

The players are tiny Dense models built by :func:`build_players` from a seed, identically here
(in the child) and in the grader, where a reference ``train_step`` plays the same rounds with
the same noise (``keras.random.SeedGenerator(seed)``, two draws per step). The probes return
the weights and what ``train_step`` / ``fit`` reported, as plain data; verdicts are the grader's.
"""

from __future__ import annotations

import contextlib

UNITS = 5


def build_players(seed: int, features: int, latent_dim: int):
    """(discriminator, generator): Dense-tanh-Dense each, identical for the same seed.

    No Dropout or BatchNormalization, so the ``training`` flag changes nothing, and no ReLU, so
    that no unit is dead and every weight gets a gradient.
    """
    import keras

    keras.utils.set_random_seed(seed)
    discriminator = keras.Sequential([
        keras.Input((features,)),
        keras.layers.Dense(UNITS, activation="tanh"),
        keras.layers.Dense(1),
    ], name="discriminator")
    generator = keras.Sequential([
        keras.Input((latent_dim,)),
        keras.layers.Dense(UNITS, activation="tanh"),
        keras.layers.Dense(features),
    ], name="generator")
    return discriminator, generator


def make_optimizers(d_rate: float, g_rate: float, adam: bool = False):
    """(d_optimizer, g_optimizer), never alike, so that using one for both shows.

    One step of Adam moves every weight by about its learning rate, whatever the gradient's
    size (only its sign counts): a step compared after one update uses plain SGD instead.
    """
    import keras

    d_optimizer = keras.optimizers.Adam(d_rate) if adam else keras.optimizers.SGD(d_rate)
    return d_optimizer, keras.optimizers.SGD(g_rate, momentum=0.5)


@contextlib.contextmanager
def graph_errors(where: str):
    """NumPy on a graph tensor raises NotImplementedError, which would read as "not started"."""
    try:
        yield
    except NotImplementedError as error:
        if "symbolic" not in str(error):
            raise
        raise TypeError(f"inside {where}, NumPy was handed a graph tensor ({error}); train_step "
                        "runs in a compiled graph: use TensorFlow or keras.ops there") from None


def _numpy(value):
    import keras
    import numpy as np

    return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)


def plain_logs(logs):
    """``{name: float}`` from what train_step returned; anything else as its type's name."""
    if not isinstance(logs, dict):
        return f"a {type(logs).__name__}"
    plain = {}
    for key, value in logs.items():
        try:
            plain[str(key)] = float(_numpy(value))
        except (TypeError, ValueError):
            plain[str(key)] = f"a {type(value).__name__}"
    return plain


def loss_cases(module, function: str, cases):
    """``module.<function>(*logits)`` for each case: the value and its gradient for each input.

    ``cases`` is a list of tuples of float32 arrays (the logits). A gradient that does not
    reach an input comes back as ``None``.
    """
    import tensorflow as tf

    target = getattr(module, function)
    results = []
    for arrays in cases:
        tensors = [tf.constant(array, dtype=tf.float32) for array in arrays]
        with tf.GradientTape() as tape:
            for tensor in tensors:
                tape.watch(tensor)
            value = target(*tensors)
            total = tf.reduce_sum(tf.convert_to_tensor(value, dtype=tf.float32))
        gradients = tape.gradient(total, tensors)
        results.append({"value": _numpy(value),
                         "gradients": [None if g is None else _numpy(g) for g in gradients]})
    return results


def train_steps(module, seed, batches, latent_dim, rates):
    """For each ``(d_rate, g_rate)`` in ``rates``: fresh players, one eager ``train_step`` per batch.

    Returns, per configuration, both players' weights afterwards and the logs of every step.
    """
    import tensorflow as tf

    results = []
    for d_rate, g_rate in rates:
        discriminator, generator = build_players(seed, batches[0].shape[1], latent_dim)
        gan = module.GAN(discriminator, generator, latent_dim, seed=seed)
        d_optimizer, g_optimizer = make_optimizers(d_rate, g_rate)
        gan.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer)
        logs = [plain_logs(gan.train_step(tf.constant(batch, dtype=tf.float32))) for batch in batches]
        results.append({"discriminator": discriminator.get_weights(),
                        "generator": generator.get_weights(), "logs": logs})
    return results


def fit(module, seed, x, latent_dim, rates, batch_size, epochs):
    """``GAN.fit(x, batch_size, epochs, shuffle=False)`` in graph mode: weights and history."""
    discriminator, generator = build_players(seed, x.shape[1], latent_dim)
    gan = module.GAN(discriminator, generator, latent_dim, seed=seed)
    d_optimizer, g_optimizer = make_optimizers(*rates, adam=True)
    gan.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer)
    with graph_errors("GAN.fit"):
        history = gan.fit(x, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return {"discriminator": discriminator.get_weights(), "generator": generator.get_weights(),
            "history": {str(key): [float(v) for v in values] for key, values in history.history.items()}}
