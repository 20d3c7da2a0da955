"""Import TensorFlow and Keras without the log lines that would bury a learner's feedback.

TensorFlow 2.21 prints absl lines (oneDNN, CUDA stubs) to file descriptor 2 while it is
imported, whatever ``TF_CPP_MIN_LOG_LEVEL`` says, so the import runs with fd 2 pointed at
/dev/null. Nothing is printed by later ops once the import is done.
"""

from __future__ import annotations

import contextlib
import os
import sys

QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


def quiet_environment() -> None:
    for key, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


@contextlib.contextmanager
def stderr_silenced():
    """Point file descriptor 2 at /dev/null for the duration (C++ logs bypass sys.stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_keras():
    """Import TensorFlow and Keras once, quietly; returns the keras module."""
    quiet_environment()
    if "keras" not in sys.modules or "tensorflow" not in sys.modules:
        with stderr_silenced():
            import tensorflow  # noqa: F401  (Keras' backend; imported here so it is quiet)
            import keras  # noqa: F401
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    import keras

    return keras
