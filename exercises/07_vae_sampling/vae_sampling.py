# 07 · Sampling in a variational autoencoder: write your code at each TODO, then check it with `make feedback TOPIC=07_vae_sampling`
# (`make watch` checks it on every save; `make reset TOPIC=07_vae_sampling` starts over, keeping a copy).
"""The two pieces that make a variational autoencoder (VAE) trainable.

The encoder of a VAE does not output a code ``z``: it outputs a *distribution* over codes,
a normal distribution with mean ``z_mean`` and log-variance ``z_log_var`` per latent dimension.
The decoder needs one code drawn from it, and training needs gradients through that draw.
``Sampling`` draws it with the reparametrization trick; ``kl_divergence`` measures how far the
distribution is from the prior N(0, I), the term of the loss that keeps the latent space tidy.
"""

import keras
from keras import ops


class Sampling(keras.layers.Layer):
    """Draw ``z ~ N(z_mean, exp(z_log_var))`` so that gradients reach ``z_mean`` and ``z_log_var``.

    ``call`` gets the pair ``(z_mean, z_log_var)``, two tensors of shape ``(batch, latent_dim)``,
    and returns ``z`` of the same shape, written as a *deterministic* function of them and of a
    noise tensor ``epsilon`` drawn from a standard normal distribution:

        z = z_mean + exp(0.5 * z_log_var) * epsilon

    Draw ``epsilon`` with Keras' random ops and the layer's ``self.seed_generator``, so that
    every call draws fresh noise and two layers made with the same ``seed`` draw the same noise.
    The layer must also work inside a model built on ``keras.Input(shape=(latent_dim,))``, where
    the batch size is unknown (``None``) until data arrives.

    >>> sampling = Sampling(seed=0)
    >>> z = sampling((ops.zeros((4, 2)), ops.zeros((4, 2))))  # four draws from N(0, I)
    >>> tuple(z.shape)
    (4, 2)
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        # The state of Keras' seeded random ops: each draw uses it and moves it on.
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        # TODO: your code here (the docstring above says what it should do)
        raise NotImplementedError("call is not implemented yet")

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def kl_divergence(z_mean, z_log_var):
    """KL divergence from ``N(z_mean, exp(z_log_var))`` to the prior ``N(0, I)``, per example.

    ``z_mean`` and ``z_log_var`` have shape ``(batch, latent_dim)``. For one latent dimension
    with mean ``m`` and log-variance ``v`` the divergence is ``-0.5 * (1 + v - m**2 - exp(v))``;
    the latent dimensions are independent, so their divergences add up. Return a tensor of
    shape ``(batch,)``, one value per example, built with ``keras.ops`` so that a training step
    can take its gradient.

    >>> kl = kl_divergence(ops.convert_to_tensor([[1.0, 0.0], [3.0, 4.0]]), ops.zeros((2, 2)))
    >>> ops.convert_to_numpy(kl)
    array([ 0.5, 12.5], dtype=float32)
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("kl_divergence is not implemented yet")
