"""Mistakes learners make with the reparametrization trick and the KL term, and correct variants."""

from dataclasses import replace

from tests.catalog import Mistake, Variant

# The reference __init__ (seed and seed generator), repeated by the mistakes that redefine it.
LAYER = '''
class Sampling(keras.layers.Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
{body}
'''


def sampling(body: str) -> str:
    """A Sampling layer whose ``call`` ends with ``body`` (indented by 8 spaces)."""
    lines = body.strip("\n").splitlines()
    return LAYER.format(body="\n".join(" " * 8 + line for line in lines))


MISTAKES = [
    Mistake("spread_is_the_variance", sampling('''
epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
return z_mean + ops.exp(z_log_var) * epsilon
'''), kills=("sampling_spreads_z_by_exp_half_log_var", "gradients_reach_z_log_var_through_the_trick")),
    Mistake("log_variance_used_as_the_standard_deviation", sampling('''
epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
return z_mean + z_log_var * epsilon
'''), kills=("sampling_spreads_z_by_exp_half_log_var", "gradients_reach_z_log_var_through_the_trick",
             "sampling_works_for_any_batch_size_in_a_functional_model")),
    Mistake("noise_shape_from_the_static_batch_size", sampling('''
epsilon = keras.random.normal((z_mean.shape[0], z_mean.shape[1]), seed=self.seed_generator)
return z_mean + ops.exp(0.5 * z_log_var) * epsilon
'''), kills=("sampling_works_for_any_batch_size_in_a_functional_model",)),
    Mistake("noise_drawn_with_numpy", sampling('''
epsilon = np.random.normal(size=z_mean.shape).astype("float32")
return z_mean + ops.exp(0.5 * z_log_var) * epsilon
''').replace("class Sampling", "import numpy as np\n\n\nclass Sampling"),
        kills=("sampling_is_reproducible_with_a_seed", "sampling_draws_fresh_noise_on_every_call",
               "sampling_works_for_any_batch_size_in_a_functional_model")),
    Mistake("noise_is_uniform", sampling('''
epsilon = keras.random.uniform(ops.shape(z_mean), seed=self.seed_generator)
return z_mean + ops.exp(0.5 * z_log_var) * epsilon
'''), kills=("sampling_centres_z_on_z_mean", "sampling_spreads_z_by_exp_half_log_var",
             "sampling_draws_normal_noise")),
    Mistake("noise_is_uniform_with_unit_variance", sampling('''
half_width = 3.0 ** 0.5  # uniform on [-sqrt(3), sqrt(3)] has mean 0 and variance 1
epsilon = keras.random.uniform(ops.shape(z_mean), -half_width, half_width, seed=self.seed_generator)
return z_mean + ops.exp(0.5 * z_log_var) * epsilon
'''), kills=("sampling_draws_normal_noise",), visible=False),
    Mistake("noise_is_truncated_normal", sampling('''
epsilon = keras.random.truncated_normal(ops.shape(z_mean), seed=self.seed_generator)
return z_mean + ops.exp(0.5 * z_log_var) * epsilon
'''), kills=("sampling_spreads_z_by_exp_half_log_var",)),  # its shape is only 0.017 from normal
    Mistake("noise_drawn_once_and_reused", '''
class Sampling(keras.layers.Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.epsilon = None

    def call(self, inputs):
        z_mean, z_log_var = inputs
        if self.epsilon is None:
            self.epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * self.epsilon
''', kills=("sampling_draws_fresh_noise_on_every_call",
            "sampling_works_for_any_batch_size_in_a_functional_model")),
    Mistake("int_seed_repeats_the_same_noise", sampling('''
epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed)
return z_mean + ops.exp(0.5 * z_log_var) * epsilon
'''), kills=("sampling_draws_fresh_noise_on_every_call",)),
    Mistake("seed_generator_ignored", sampling('''
epsilon = keras.random.normal(ops.shape(z_mean))
return z_mean + ops.exp(0.5 * z_log_var) * epsilon
'''), kills=("sampling_is_reproducible_with_a_seed",)),
    Mistake("returns_z_mean_without_noise", sampling('''
return z_mean
'''), kills=("sampling_spreads_z_by_exp_half_log_var", "sampling_draws_normal_noise",
             "gradients_reach_z_log_var_through_the_trick", "sampling_draws_fresh_noise_on_every_call")),
    Mistake("forgets_to_add_z_mean", sampling('''
epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
return ops.exp(0.5 * z_log_var) * epsilon
'''), kills=("sampling_centres_z_on_z_mean", "gradients_reach_z_mean",
             "sampling_works_for_any_batch_size_in_a_functional_model")),
    Mistake("one_epsilon_shared_by_the_whole_batch", sampling('''
epsilon = keras.random.normal((ops.shape(z_mean)[-1],), seed=self.seed_generator)
return z_mean + ops.exp(0.5 * z_log_var) * epsilon
'''), kills=("sampling_spreads_z_by_exp_half_log_var", "sampling_draws_normal_noise")),
    Mistake("spread_detached_from_the_graph", sampling('''
epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
return z_mean + ops.stop_gradient(ops.exp(0.5 * z_log_var)) * epsilon
'''), kills=("gradients_reach_z_log_var_through_the_trick",)),
    Mistake("z_computed_with_numpy", sampling('''
epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
mean, log_var, noise = (ops.convert_to_numpy(t) for t in (z_mean, z_log_var, epsilon))
return mean + np.exp(0.5 * log_var) * noise
''').replace("class Sampling", "import numpy as np\n\n\nclass Sampling"),
        kills=("gradients_reach_z_mean", "gradients_reach_z_log_var_through_the_trick",
               "sampling_works_for_any_batch_size_in_a_functional_model")),
    Mistake("kl_averages_over_latent_dimensions", '''
def kl_divergence(z_mean, z_log_var):
    return -0.5 * ops.mean(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)
''', kills=("kl_divergence_matches_the_closed_form_per_example",
            "kl_divergence_has_the_gradient_of_the_closed_form")),
    Mistake("kl_has_the_wrong_sign", '''
def kl_divergence(z_mean, z_log_var):
    return 0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)
''', kills=("kl_divergence_matches_the_closed_form_per_example",
            "kl_divergence_has_the_gradient_of_the_closed_form")),
    Mistake("kl_forgets_the_variance_term", '''
def kl_divergence(z_mean, z_log_var):
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean), axis=-1)
''', kills=("kl_divergence_is_zero_at_the_prior", "kl_divergence_matches_the_closed_form_per_example",
            "kl_divergence_has_the_gradient_of_the_closed_form")),
    Mistake("kl_sums_over_the_batch_too", '''
def kl_divergence(z_mean, z_log_var):
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
''', kills=("kl_divergence_is_zero_at_the_prior", "kl_divergence_returns_one_value_per_example",
            "kl_divergence_matches_the_closed_form_per_example")),
    Mistake("kl_averages_over_the_batch_like_the_training_loss", '''
def kl_divergence(z_mean, z_log_var):
    per_example = -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)
    return ops.mean(per_example)
''', kills=("kl_divergence_returns_one_value_per_example", "kl_divergence_matches_the_closed_form_per_example",
            "kl_divergence_has_the_gradient_of_the_closed_form")),
    Mistake("kl_keeps_the_summed_axis", '''
def kl_divergence(z_mean, z_log_var):
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1, keepdims=True)
''', kills=("kl_divergence_is_zero_at_the_prior", "kl_divergence_returns_one_value_per_example",
            "kl_divergence_matches_the_closed_form_per_example")),
    Mistake("kl_computed_with_numpy", '''
import numpy as np


def kl_divergence(z_mean, z_log_var):
    z_mean, z_log_var = np.asarray(z_mean), np.asarray(z_log_var)
    return -0.5 * np.sum(1.0 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=-1)
''', kills=("kl_divergence_has_the_gradient_of_the_closed_form",)),
]


# The real cause of each mistake, in words every message of the checks it fails must hold.
CONCEPTS = {
    'spread_is_the_variance': 'square root',
    'log_variance_used_as_the_standard_deviation': 'standard deviation',
    'noise_shape_from_the_static_batch_size': 'ops.shape',
    'noise_drawn_with_numpy': 'keras.random.normal',
    'noise_is_uniform': 'N(0, I)',
    'noise_is_uniform_with_unit_variance': 'N(0, I)',
    'noise_is_truncated_normal': 'N(0, I)',
    'noise_drawn_once_and_reused': 'keras.random.normal',
    'int_seed_repeats_the_same_noise': 'int seed',
    'seed_generator_ignored': 'seed_generator',
    'returns_z_mean_without_noise': 'epsilon',
    'forgets_to_add_z_mean': 'z_mean +',
    'one_epsilon_shared_by_the_whole_batch': 'epsilon',
    'spread_detached_from_the_graph': 'gradient',
    'z_computed_with_numpy': 'NumPy',
    'kl_averages_over_latent_dimensions': 'latent dimensions',
    'kl_has_the_wrong_sign': 'sign',
    'kl_forgets_the_variance_term': 'exp(z_log_var)',
    'kl_sums_over_the_batch_too': 'per example',
    'kl_averages_over_the_batch_like_the_training_loss': 'per example',
    'kl_keeps_the_summed_axis': 'per example',
    'kl_computed_with_numpy': 'NumPy',
}
MISTAKES = [replace(m, concept=m.concept or CONCEPTS[m.name]) for m in MISTAKES]

VARIANTS = [
    Variant("tensorflow_ops_with_a_stateless_draw", '''
import tensorflow as tf


class Sampling(keras.layers.Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        seed = self.seed_generator.next()  # a fresh (2,) seed per call, from the layer's state
        epsilon = tf.random.stateless_normal(tf.shape(z_mean), seed=seed, dtype=z_mean.dtype)
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon


def kl_divergence(z_mean, z_log_var):
    return 0.5 * tf.reduce_sum(tf.exp(z_log_var) + tf.square(z_mean) - 1.0 - z_log_var, axis=1)
''', notes="tf.random.stateless_normal seeded by SeedGenerator.next(); tf ops throughout"),
    Variant("square_root_of_the_variance_and_a_loop_over_latent_dimensions", '''
class Sampling(keras.layers.Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch, latent_dim = ops.shape(z_mean)[0], ops.shape(z_mean)[1]
        epsilon = keras.random.normal((batch, latent_dim), mean=0.0, stddev=1.0,
                                      dtype=z_mean.dtype, seed=self.seed_generator)
        std = ops.sqrt(ops.exp(z_log_var))
        return ops.add(z_mean, ops.multiply(std, epsilon))


def kl_divergence(z_mean, z_log_var):
    total = 0.0
    for d in range(z_mean.shape[-1]):
        mean, log_var = z_mean[:, d], z_log_var[:, d]
        total = total + 0.5 * (ops.exp(log_var) + mean * mean - 1.0 - log_var)
    return total
''', notes="explicit (batch, latent_dim) shape, sqrt(exp(v)), a Python loop over dimensions"),
    Variant("spread_as_exp_of_half_and_kl_from_the_variance", '''
class Sampling(keras.layers.Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        std = ops.exp(z_log_var / 2)
        return keras.random.normal(ops.shape(z_log_var), seed=self.seed_generator) * std + z_mean


def kl_divergence(z_mean, z_log_var):
    variance = ops.exp(z_log_var)
    per_dimension = ops.log(1.0 / variance) + variance + ops.power(z_mean, 2) - 1.0
    return 0.5 * ops.sum(per_dimension, axis=1)
'''),
]
