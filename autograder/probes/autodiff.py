"""Probes for 08_autodiff: build the scalar functions ``f`` and ``g`` in the child, call the learner.

A Python function cannot cross the process boundary, so a hidden check sends a plain
description of one (a *spec*, see :func:`build`) and the probe builds the callable here. The
check builds the very same function in the grader from the same spec (``build`` is shared) for
its oracle, a ``tf.GradientTape`` or central differences run by the grader.

Each built function counts its calls and notes whether it was handed a TensorFlow tensor: a
tape can only follow TensorFlow operations on tensors, so a "tape" task whose ``f`` never saw a
tensor, or saw one evaluation per nudged element, did not use a tape. The probe returns these
counts with the learner's answer; the check decides.

A spec is ``{"terms": [[op, coef, scale, shift], ...], "coupling": [coef, weights]}`` and means

    f(x) = sum over elements x_i of sum over terms coef * op(scale * x_i + shift)
           + coupling_coef * (sum_i weights_i * x_i) ** 2

with ``op`` one of :data:`OPS`. The coupling term makes every partial derivative depend on
every element of ``x``.
"""

from __future__ import annotations

OPS = ("sin", "cos", "tanh", "exp", "square", "cube")


class NumpyOnly(TypeError):
    """Raised when a NumPy-only function is handed a TensorFlow tensor."""


def _is_tensor(value) -> bool:
    import tensorflow as tf

    return tf.is_tensor(value) or isinstance(value, tf.Variable)


def _apply(op: str, z, backend):
    if op == "square":
        return z * z
    if op == "cube":
        return z * z * z
    if backend == "tf":
        import tensorflow as tf

        return {"sin": tf.sin, "cos": tf.cos, "tanh": tf.tanh, "exp": tf.exp}[op](z)
    import numpy as np

    return {"sin": np.sin, "cos": np.cos, "tanh": np.tanh, "exp": np.exp}[op](z)


class Function:
    """A scalar function of an array built from a spec; counts its calls.

    ``numpy_only=True`` refuses tensors (a black box for numerical differences); otherwise it
    runs on NumPy arrays, Python numbers and TensorFlow tensors alike.
    """

    def __init__(self, spec: dict, numpy_only: bool = False):
        self.spec = spec
        self.numpy_only = numpy_only
        self.calls = 0
        self.tensor_calls = 0

    def __call__(self, x):
        self.calls += 1
        import numpy as np

        if _is_tensor(x):
            if self.numpy_only:
                raise NumpyOnly("this f takes NumPy arrays only (it stands for a black box that no "
                                "tape can follow): numerical differences need nothing but values of f")
            self.tensor_calls += 1
            return self._evaluate(x, "tf")
        return self._evaluate(np.asarray(x), "numpy")

    def _evaluate(self, x, backend):
        import numpy as np

        total = 0.0
        for op, coef, scale, shift in self.spec["terms"]:
            total = total + coef * _apply(op, scale * x + shift, backend)
        coupling_coef, weights = self.spec["coupling"]
        if backend == "tf":
            import tensorflow as tf

            weights = tf.constant(np.asarray(weights, dtype=np.float64), dtype=x.dtype)
            linear = tf.reduce_sum(weights * x)
            return tf.reduce_sum(total) + coupling_coef * linear * linear
        linear = np.sum(np.asarray(weights) * x)
        return np.sum(total) + coupling_coef * linear * linear


def build(spec: dict, numpy_only: bool = False) -> Function:
    return Function(spec, numpy_only=numpy_only)


def _counts(function: Function) -> dict:
    return {"calls": function.calls, "tensor_calls": function.tensor_calls}


def numerical(module, spec, x, h=None):
    """``numerical_gradient(f, x[, h])`` with a NumPy-only ``f``; also whether ``x`` was left as it was."""
    import numpy as np

    f = build(spec, numpy_only=True)
    given = np.array(x)
    kwargs = {} if h is None else {"h": h}
    gradient = module.numerical_gradient(f, given, **kwargs)
    return {"gradient": gradient, "x_after": given, **_counts(f)}


def tape(module, spec, x):
    """``tape_gradient(f, x)``, with how often ``f`` ran and how often on a tensor."""
    f = build(spec)
    gradient = module.tape_gradient(f, x)
    return {"gradient": gradient, **_counts(f)}


def second(module, spec, x):
    """``second_derivative(f, x)`` at a scalar ``x``, with the counts of ``f``."""
    f = build(spec)
    value = module.second_derivative(f, x)
    return {"value": value, **_counts(f)}


def persistent(module, spec_f, spec_g, x):
    """``persistent_gradients(f, g, x)``, with the counts of ``f`` and of ``g``."""
    f, g = build(spec_f), build(spec_g)
    gradients = module.persistent_gradients(f, g, x)
    return {"gradients": gradients, "f": _counts(f), "g": _counts(g)}
