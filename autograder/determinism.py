"""Keras' seeding in the grader, out of reach of other threads' random draws.

A check builds its reference model the way the learner's is built in the sandbox:
``keras.utils.set_random_seed(seed)``, then layers whose initializers take their seeds from
Python's global ``random`` (Keras' ``make_default_seed``). In a process with other threads
that also draw from the global ``random`` (a Dask worker's event loop jitters its periodic
callbacks with it), a draw landing between the two gives the reference other starting weights
than the learner's model, and a correct submission loses points, differently on every run.

:func:`private_keras_random` gives Keras its own ``random.Random``: ``set_random_seed`` seeds
it and the initializers draw from it, so only Keras' own calls advance it. The draws are those
of the global generator seeded the same way, so the sandbox's unpatched Keras, single-threaded,
builds the very same weights.
"""

from __future__ import annotations

import random


def private_keras_random() -> bool:
    """Point Keras' seeding at a private generator (idempotent); False where Keras differs."""
    from grimoire.quiet import import_keras

    import_keras()  # quietly, and with the sandbox's settings, if nothing imported it yet
    try:
        from keras.src.random import seed_generator
        from keras.src.utils import rng_utils
    except ImportError:
        return False
    if not (hasattr(seed_generator, "python_random") and hasattr(rng_utils, "random")):
        return False
    own = getattr(seed_generator, "_grimoire_random", None)
    if own is None:
        own = random.Random()
        seed_generator._grimoire_random = own
    seed_generator.python_random = own
    rng_utils.random = own
    return True
