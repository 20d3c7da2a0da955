# The visible checks of 07 · Sampling in a variational autoencoder (`make feedback TOPIC=07_vae_sampling` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for VAE sampling. Run them with `pytest exercises/07_vae_sampling`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from grimoire.teach import Mismatch, call_or_not_started, expect_value
from vae_sampling import Sampling, kl_divergence


@pytest.mark.task("Sampling")
def test_sampling_returns_one_code_per_row_of_z_mean():
    z = call_or_not_started(Sampling(seed=0), (tf.zeros((5, 3)), tf.zeros((5, 3))))
    expect_value("Sampling(seed=0)((zeros((5, 3)), zeros((5, 3)))).shape", tuple(z.shape), (5, 3),
                 concept="z has the shape of z_mean: one code of 3 numbers for each of the 5 rows")


@pytest.mark.task("Sampling")
def test_sampling_with_a_tiny_variance_stays_on_the_mean():
    z = call_or_not_started(Sampling(seed=0), (tf.constant([[1.0, -2.0, 3.0]]), tf.fill((1, 3), -20.0)))
    got = tuple(round(float(v), 3) for v in keras.ops.convert_to_numpy(z)[0])
    expect_value("Sampling(seed=0)(([[1, -2, 3]], [[-20, -20, -20]]))[0]", got, (1.0, -2.0, 3.0),
                 atol=2e-3, concept="a log-variance of -20 is a standard deviation of exp(-10) = "
                                    "4.5e-5, so z = z_mean + exp(0.5 * z_log_var) * epsilon stays on z_mean")


@pytest.mark.task("Sampling")
def test_sampling_is_centred_on_z_mean_and_spread_by_exp_half_log_var():
    rows = 4000
    z_mean = tf.tile([[3.0, -1.0]], (rows, 1))
    z_log_var = tf.tile([[np.log(4.0), np.log(0.25)]], (rows, 1))
    z = keras.ops.convert_to_numpy(call_or_not_started(Sampling(seed=0), (z_mean, z_log_var)))
    call = f"Sampling(seed=0) on {rows} rows of z_mean = [3, -1] and z_log_var = [log 4, log 0.25]"
    expect_value(f"the mean of z per dimension, {call},", tuple(round(float(v), 2) for v in z.mean(axis=0)),
                 (3.0, -1.0), atol=0.2, concept="epsilon has mean 0, so z is centred on z_mean")
    expect_value(f"the standard deviation of z per dimension, {call},",
                 tuple(round(float(v), 2) for v in z.std(axis=0)), (2.0, 0.5), rtol=0.08,
                 concept="a variance of 4 is a standard deviation of exp(0.5 * log 4) = 2, a "
                         "variance of 0.25 one of 0.5: the spread is exp(0.5 * z_log_var)")


@pytest.mark.task("Sampling")
def test_the_same_seed_draws_the_same_z_and_every_call_draws_new_noise():
    inputs = (tf.zeros((4, 2)), tf.zeros((4, 2)))
    first, twin = Sampling(seed=7), Sampling(seed=7)
    a = keras.ops.convert_to_numpy(call_or_not_started(first, inputs))
    b = keras.ops.convert_to_numpy(call_or_not_started(twin, inputs))
    if not np.allclose(a, b):
        raise Mismatch(f"two layers Sampling(seed=7) drew {a[0].round(4).tolist()} and "
                       f"{b[0].round(4).tolist()} in their first row; expected the same draws: pass "
                       "seed=self.seed_generator to "
                       "keras.random.normal, not NumPy or the global random state")
    again = keras.ops.convert_to_numpy(first(inputs))
    if np.allclose(again, a):
        raise Mismatch(f"calling one Sampling(seed=7) twice drew {a[0].round(4).tolist()} both times; "
                       "expected new noise on every call: draw epsilon inside call, with the "
                       "layer's seed generator (an int seed, or noise drawn in __init__, repeats)")


@pytest.mark.task("Sampling")
def test_gradients_flow_to_z_mean_and_z_log_var():
    z_mean = tf.constant([[0.5, -1.0]])
    z_log_var = tf.constant([[1.0, -2.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([z_mean, z_log_var])
        z = call_or_not_started(Sampling(seed=3), (z_mean, z_log_var))
        total = tf.reduce_sum(tf.convert_to_tensor(z))
    d_mean, d_log_var = tape.gradient(total, [z_mean, z_log_var])
    call = "tape.gradient(sum(Sampling(seed=3)((z_mean, z_log_var))), [z_mean, z_log_var])"
    for name, gradient in (("z_mean", d_mean), ("z_log_var", d_log_var)):
        if gradient is None:
            raise Mismatch(f"{call} gave None for {name}; expected a gradient: build z from the input "
                           "tensors with keras.ops, so that the tape can follow it (no NumPy)")
    expect_value(f"dz/dz_mean from {call}", tuple(d_mean.numpy()[0].tolist()), (1.0, 1.0),
                 concept="z = z_mean + std * epsilon moves one for one with z_mean")
    epsilon = (np.asarray(z) - z_mean.numpy()) / np.exp(0.5 * z_log_var.numpy())
    expected = 0.5 * np.exp(0.5 * z_log_var.numpy()) * epsilon
    expect_value(f"dz/dz_log_var from {call}", tuple(round(v, 4) for v in d_log_var.numpy()[0].tolist()),
                 tuple(round(v, 4) for v in expected[0].tolist()), atol=2e-4,
                 concept="with epsilon = (z - z_mean) / std, the derivative of "
                         "exp(0.5 * v) * epsilon is 0.5 * exp(0.5 * v) * epsilon")


@pytest.mark.task("Sampling")
def test_sampling_works_in_a_functional_model_of_any_batch_size():
    z_mean = keras.Input(shape=(2,))
    z_log_var = keras.Input(shape=(2,))
    try:
        z = call_or_not_started(Sampling(seed=0), [z_mean, z_log_var])
    except (TypeError, ValueError, AttributeError) as error:
        detail = str(error).split("Error encountered:")[-1].split("Arguments received")[0]
        detail = detail.replace(chr(27) + "[0m", "").strip()  # Keras wraps the cause in a long message
        raise Mismatch(f"Sampling(seed=0)([z_mean, z_log_var]) on keras.Input tensors of shape "
                       f"(None, 2) raised {type(error).__name__}: {detail}; "
                       "expected a symbolic z of shape (None, 2): the batch size is unknown while "
                       "the model is built, so take the shape of epsilon from ops.shape(z_mean) "
                       "(not z_mean.shape[0], not NumPy)") from None
    model = keras.Model([z_mean, z_log_var], z)
    for rows in (1, 5):
        x = np.zeros((rows, 2), "float32")
        expect_value(f"keras.Model([Input(shape=(2,))] * 2, Sampling()(...)) on {rows} rows: z.shape",
                     tuple(model([x, x]).shape), (rows, 2),
                     concept="the batch size is None when the model is built: take the shape of "
                             "epsilon from ops.shape(z_mean) at run time")


@pytest.mark.task("kl_divergence")
def test_kl_divergence_is_zero_when_the_code_distribution_is_the_prior():
    kl = call_or_not_started(kl_divergence, tf.zeros((3, 2)), tf.zeros((3, 2)))
    kl = keras.ops.convert_to_numpy(kl)
    call = "kl_divergence(zeros((3, 2)), zeros((3, 2)))"
    expect_value(f"{call}.shape", tuple(np.shape(kl)), (3,),
                 concept="one divergence per example: sum over the latent axis only (axis=-1)")
    expect_value(call, tuple(round(float(v), 4) for v in kl), (0.0, 0.0, 0.0),
                 concept="N(0, exp(0)) is the prior N(0, I) itself, at divergence "
                         "-0.5 * (1 + 0 - 0**2 - exp(0)) = 0 from it")


@pytest.mark.task("kl_divergence")
def test_kl_divergence_of_a_shifted_mean_is_half_its_squared_length():
    kl = call_or_not_started(kl_divergence, tf.constant([[3.0, 4.0]]), tf.zeros((1, 2)))
    kl = keras.ops.convert_to_numpy(kl)
    call = "kl_divergence([[3, 4]], [[0, 0]])"
    expect_value(f"{call}.shape", tuple(np.shape(kl)), (1,), concept="one example, one divergence")
    expect_value(call, tuple(round(float(v), 4) for v in kl), (12.5,),
                 concept="with z_log_var = 0, -0.5 * (1 + 0 - z_mean**2 - 1) leaves 0.5 * z_mean**2 "
                         "per dimension, summed over both: 0.5 * (9 + 16) = 12.5")


@pytest.mark.task("kl_divergence")
def test_kl_divergence_penalizes_a_variance_away_from_one():
    z_log_var = np.log([[4.0], [0.25]]).astype("float32")
    kl = call_or_not_started(kl_divergence, tf.zeros((2, 1)), tf.constant(z_log_var))
    kl = keras.ops.convert_to_numpy(kl)
    expected = -0.5 * (1 + z_log_var[:, 0] - np.exp(z_log_var[:, 0]))
    expect_value("kl_divergence([[0], [0]], [[log 4], [log 0.25]])",
                 tuple(round(float(v), 4) for v in np.ravel(kl)),
                 tuple(round(float(v), 4) for v in expected),
                 concept="-0.5 * (1 + v - exp(v)) is 0 only at v = 0: a wider and a narrower "
                         "distribution than N(0, 1) both cost something")


@pytest.mark.task("kl_divergence")
def test_kl_divergence_can_be_trained_through():
    z_mean = tf.constant([[1.0, -2.0]])
    z_log_var = tf.constant([[0.5, -1.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([z_mean, z_log_var])
        kl = call_or_not_started(kl_divergence, z_mean, z_log_var)
        total = tf.reduce_sum(tf.convert_to_tensor(kl))
    d_mean, d_log_var = tape.gradient(total, [z_mean, z_log_var])
    call = "tape.gradient(sum(kl_divergence(z_mean, z_log_var)), [z_mean, z_log_var])"
    if d_mean is None or d_log_var is None:
        raise Mismatch(f"{call} gave None; expected gradients: a loss term must be built with "
                       "keras.ops (ops.sum, ops.square, ops.exp), not NumPy")
    expected = 0.5 * (np.exp(z_log_var.numpy()[0]) - 1)
    expect_value(f"d/dz_log_var from {call}", tuple(round(v, 4) for v in d_log_var.numpy()[0].tolist()),
                 tuple(round(float(v), 4) for v in expected),
                 concept="the derivative of -0.5 * (1 + v - m**2 - exp(v)) with respect to v is "
                         "0.5 * (exp(v) - 1)")
