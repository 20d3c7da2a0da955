"""Probes for 07_vae_sampling: drive the learner's ``Sampling`` layer and ``kl_divergence``.

Every probe gets plain NumPy inputs from the grader, turns them into float32 tensors, runs the
learner's code the way a VAE would (eagerly, under a ``tf.GradientTape``, inside
``tf.function``, inside a Functional model) and returns NumPy arrays. Whatever the learner's
code returns (a tensor, an array, a list) is read with ``np.asarray`` after
``keras.ops.convert_to_numpy``, so any type holding the right values in the right shape is
accepted; a gradient that does not reach an input comes back as ``None``. Verdicts are the
grader's.
"""

from __future__ import annotations


def _tensor(array):
    import tensorflow as tf

    return tf.constant(array, dtype=tf.float32)


def _numpy(value):
    import keras
    import numpy as np

    return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)


def draw_samples(module, mean_row, log_var_row, rows, seed):
    """One call of ``Sampling(seed)`` on a batch of ``rows`` copies of one row: z as an array."""
    import numpy as np

    z_mean, z_log_var = (np.tile(row, (rows, 1)) for row in (mean_row, log_var_row))
    sampling = module.Sampling(seed=seed)
    return _numpy(sampling((_tensor(z_mean), _tensor(z_log_var))))


def sampling_gradients(module, z_mean, z_log_var, seed):
    """z, and the gradients of ``sum(z)`` with respect to z_mean and z_log_var (or None)."""
    import tensorflow as tf

    sampling = module.Sampling(seed=seed)
    mean, log_var = _tensor(z_mean), _tensor(z_log_var)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(mean)
        tape.watch(log_var)
        z = sampling((mean, log_var))
        total = tf.reduce_sum(tf.convert_to_tensor(z))
    d_mean, d_log_var = tape.gradient(total, [mean, log_var])
    return {
        "z": _numpy(z),
        "d_mean": None if d_mean is None else _numpy(d_mean),
        "d_log_var": None if d_log_var is None else _numpy(d_log_var),
    }


def seeded_draws(module, z_mean, z_log_var, seed):
    """Two calls each of two layers with the same seed, and one call of a layer with another."""
    inputs = (_tensor(z_mean), _tensor(z_log_var))
    first, twin, other = (module.Sampling(seed=s) for s in (seed, seed, seed + 1))
    return {
        "first": _numpy(first(inputs)),
        "twin": _numpy(twin(inputs)),
        "first_again": _numpy(first(inputs)),
        "twin_again": _numpy(twin(inputs)),
        "other_seed": _numpy(other(inputs)),
    }


def successive_draws(module, z_mean, z_log_var, seed):
    """Two eager calls of one layer, then two calls of another one inside ``tf.function``."""
    import tensorflow as tf

    inputs = (_tensor(z_mean), _tensor(z_log_var))
    eager = module.Sampling(seed=seed)
    eager_draws = [_numpy(eager(inputs)), _numpy(eager(inputs))]
    traced = module.Sampling(seed=seed + 1)
    step = tf.function(lambda pair: traced(pair))
    graph_draws = [_numpy(step(inputs)), _numpy(step(inputs))]
    return {"eager": eager_draws, "graph": graph_draws}


def functional_batches(module, z_means, z_log_vars, seed):
    """A Functional model ``Input(shape=(latent_dim,))`` x 2 -> Sampling, run by ``predict``.

    ``z_means`` and ``z_log_vars`` are lists of batches of different sizes; returns the list
    of outputs.
    """
    import keras

    latent_dim = z_means[0].shape[-1]
    mean_input = keras.Input(shape=(latent_dim,), name="z_mean")
    log_var_input = keras.Input(shape=(latent_dim,), name="z_log_var")
    z = module.Sampling(seed=seed)([mean_input, log_var_input])
    model = keras.Model([mean_input, log_var_input], z)
    outputs = []
    for mean, log_var in zip(z_means, z_log_vars):
        batch = mean.astype("float32"), log_var.astype("float32")
        outputs.append(_numpy(model.predict(list(batch), batch_size=64, verbose=0)))
    return outputs


def kl_values(module, z_mean, z_log_var):
    """``kl_divergence`` on float32 tensors, read back as an array."""
    return _numpy(module.kl_divergence(_tensor(z_mean), _tensor(z_log_var)))


def kl_gradients(module, z_mean, z_log_var):
    """Gradients of ``sum(kl_divergence(...))`` with respect to both inputs (or None)."""
    import tensorflow as tf

    mean, log_var = _tensor(z_mean), _tensor(z_log_var)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(mean)
        tape.watch(log_var)
        total = tf.reduce_sum(tf.convert_to_tensor(module.kl_divergence(mean, log_var)))
    d_mean, d_log_var = tape.gradient(total, [mean, log_var])
    return {
        "d_mean": None if d_mean is None else _numpy(d_mean),
        "d_log_var": None if d_log_var is None else _numpy(d_log_var),
    }
