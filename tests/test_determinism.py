"""A reference model is seeded alike in the grader whatever other threads of its process do.

A Dask worker's event loop draws from Python's global ``random`` while a check builds its
reference model; before :mod:`autograder.determinism`, a draw landing in the middle gave the
reference other starting weights than the learner's model, and correct submissions lost
points differently on every run.
"""

from __future__ import annotations

import random
import threading

import numpy as np

from autograder.determinism import private_keras_random
from autograder.probes.train_step import build
from grimoire.quiet import import_keras

keras = import_keras()


def test_a_reference_model_is_the_same_while_another_thread_draws_from_random():
    assert private_keras_random()
    alone = build("dropout_batchnorm", keras.Model, 7, 5).get_weights()
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            random.random()

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        busy = [build("dropout_batchnorm", keras.Model, 7, 5).get_weights() for _ in range(3)]
    finally:
        stop.set()
        thread.join()
    for weights in busy:
        assert all(np.array_equal(a, b) for a, b in zip(alone, weights))


def test_the_private_generator_draws_what_the_sandbox_draws_from_the_same_seed():
    """The sandbox's Keras seeds the global ``random``: the same seed gives the same weights."""
    assert private_keras_random()
    ours = build("regression", keras.Model, 11, 4).get_weights()
    from keras.src.random import seed_generator

    assert seed_generator.python_random is not random
    own = seed_generator.python_random
    try:  # Keras as the sandbox runs it: the global generator
        seed_generator.python_random = random
        from keras.src.utils import rng_utils

        rng_utils.random = random
        theirs = build("regression", keras.Model, 11, 4).get_weights()
    finally:
        private_keras_random()
    assert own is seed_generator.python_random
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs))
