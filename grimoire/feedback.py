"""The words of feedback, shared by the visible tests and the hidden checks.

Every failure says the same four things in the same order: the call that was made, what came
back, what was expected, and the concept behind the expected answer, e.g.

    conv2d_output_shape((28, 28, 1), 32, 3, strides=2, padding='same') returned (13, 13, 32);
    expected (14, 14, 32): with 'same' padding the size is ceil(28 / 2)
"""

from __future__ import annotations

import numbers

import numpy as np

NOT_STARTED = "not started yet: replace the `raise NotImplementedError` in {name} with your code"
# What a stub raises: NotImplementedError("f is not implemented yet"), or nbgrader's code stub.
STUB_MESSAGE = "is not implemented yet"


def is_untouched_stub(error: BaseException | str) -> bool:
    """Is this NotImplementedError the stub's own (or nbgrader's bare ``raise NotImplementedError()``)?

    TensorFlow raises NotImplementedError too ("Cannot convert a symbolic tf.Tensor to a numpy
    array" when NumPy meets graph code): that one is a real error to explain, not "not started".
    """
    message = str(error).strip()
    # Keras wraps an error raised in Layer.call ("Exception encountered when calling ...").
    return message == "" or STUB_MESSAGE in message


def format_call(name: str, args=(), kwargs=None) -> str:
    parts = [_short(arg) for arg in args]
    parts += [f"{key}={_short(value)}" for key, value in (kwargs or {}).items()]
    return f"{name}({', '.join(parts)})"


def _short(value) -> str:
    if isinstance(value, np.ndarray):
        return f"<array {value.shape} {value.dtype}>"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def type_name(value) -> str:
    kind = type(value)
    if hasattr(value, "type_name"):  # autograder.wire.Opaque
        return value.type_name
    module = kind.__module__
    return kind.__name__ if module == "builtins" else f"{module.split('.')[0]}.{kind.__name__}"


def describe(value) -> str:
    """`(13, 13, 32)`, `7840.0 (a float)`, `<tf.Tensor ...>`: what came back, in brief."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 120 else f"{value[:100]!r}... (a string of {len(value)} characters)"
    if isinstance(value, bool) or value is None:
        return repr(value)
    if type(value) is int or type(value) is tuple and all(type(v) is int for v in value):
        return repr(value)
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{_short(value)} (a {type_name(value)})"


def mismatch(call: str, got, expected, concept: str) -> str:
    if (isinstance(got, np.ndarray) and isinstance(expected, np.ndarray) and got.shape == expected.shape
            and got.dtype.kind in "biuf" and expected.dtype.kind in "biuf"):
        worst = float(np.max(np.abs(got.astype(np.float64) - expected), initial=0.0))
        return (f"{call} returned an array of shape {got.shape} that differs from the expected one "
                f"by up to {worst:.3g}: {concept}")
    return f"{call} returned {describe(got)}; expected {describe(expected)}: {concept}"


def is_int(value) -> bool:
    """Python or NumPy integers count as ints; bools and floats do not."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def same_value(got, expected, *, rtol: float = 1e-6, atol: float = 1e-6) -> bool:
    """Equal in value and in kind: an int for an int, a tuple for a tuple, element by element.

    Only the grader-side ``expected`` drives the comparison, so a returned object cannot make
    itself equal with a forged ``__eq__``.
    """
    if is_int(expected):
        return is_int(got) and int(got) == int(expected)
    if isinstance(expected, float):
        return isinstance(got, numbers.Real) and not isinstance(got, bool) and bool(
            np.isclose(float(got), expected, rtol=rtol, atol=atol)
        )
    if isinstance(expected, tuple):
        return (
            type(got) is tuple
            and len(got) == len(expected)
            and all(same_value(g, e, rtol=rtol, atol=atol) for g, e in zip(got, expected))
        )
    if isinstance(expected, np.ndarray):
        return (
            isinstance(got, np.ndarray)
            and got.shape == expected.shape
            and bool(np.allclose(got, expected, rtol=rtol, atol=atol))
        )
    return type(got) is type(expected) and got == expected
