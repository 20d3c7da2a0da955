"""Plain data between the grader and a submission's child process.

Everything a child returns crosses as JSON built from a closed set of tagged types. The grader
never unpickles what a child sends (a pickle can run code in the grader), and an object the
codec does not know, such as a class whose ``__eq__`` is always True or a ``tf.Tensor``, arrives
as an :class:`Opaque` that equals nothing. Exact types are kept, so a check can tell ``7850``
from ``7850.0``, ``np.int64(7850)`` or ``[13, 13, 32]``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

MAX_REPR = 200
MAX_ARRAY_ELEMENTS = 1_000_000
MAX_STRING = 10_000  # longer strings arrive as an Opaque: no expected answer is that long


@dataclass(frozen=True, eq=False)
class Opaque:
    """A value of a type the wire does not carry; ``array`` holds its contents when it had any."""

    type_name: str
    text: str
    array: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.text}>"

    def __eq__(self, other):  # an opaque value is never equal to an expected answer
        return False

    __hash__ = object.__hash__


def _type_name(value) -> str:
    kind = type(value)
    module = kind.__module__
    if module.startswith("tensorflow"):
        module = "tf"
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _float(value: float):
    return value if math.isfinite(value) else repr(value)


def encode(value, depth: int = 0):
    """Turn ``value`` into JSON-ready tagged data (runs in the child)."""
    if depth > 20:
        return {"t": "opaque", "type": _type_name(value), "text": "nested too deeply"}
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return {"t": kind.__name__ if value is not None else "none", "v": value}
    if kind is float:
        return {"t": "float", "v": _float(value)}
    if kind in (tuple, list):
        return {"t": kind.__name__, "v": [encode(item, depth + 1) for item in value]}
    if kind is dict and all(type(key) is str for key in value):
        return {"t": "dict", "v": {key: encode(item, depth + 1) for key, item in value.items()}}
    if isinstance(value, np.generic) and kind.__module__ == "numpy":
        return {"t": "npscalar", "dtype": value.dtype.str, "v": encode(value.item(), depth + 1)}
    if kind is np.ndarray:
        return _encode_array("ndarray", value)
    text = _safe_repr(value)
    opaque = {"t": "opaque", "type": _type_name(value), "text": text}
    array = _as_array(value)
    if array is not None:
        opaque["array"] = _encode_array("ndarray", array)
    return opaque


def _encode_array(tag: str, array: np.ndarray):
    if array.size > MAX_ARRAY_ELEMENTS:
        return {"t": "opaque", "type": "numpy.ndarray", "text": f"array too large {array.shape}"}
    if array.dtype.kind not in "biuf":
        return {"t": "opaque", "type": "numpy.ndarray", "text": f"array of dtype {array.dtype}"}
    flat = [_float(x) if isinstance(x, float) else x for x in array.ravel().tolist()]
    return {"t": tag, "dtype": array.dtype.str, "shape": list(array.shape), "v": flat}


def _as_array(value):
    """Contents of a tensor-like value, or None; called only on types the wire does not know."""
    if not hasattr(value, "numpy") or not hasattr(value, "shape"):
        return None
    try:
        array = np.asarray(value.numpy())
    except Exception:
        return None
    return array if array.dtype.kind in "biuf" else None


def _safe_repr(value) -> str:
    try:
        text = repr(value)
    except Exception as error:  # a hostile __repr__ must not break the wire
        text = f"<repr failed: {type(error).__name__}>"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 3] + "..."


def _number(v):
    return float(v) if isinstance(v, str) else v


def decode(data):
    """Rebuild a value from tagged data (runs in the grader); unknown tags become Opaque."""
    if not isinstance(data, dict):
        return Opaque("malformed", type(data).__name__)
    tag = data.get("t")
    value = data.get("v")
    if tag == "none":
        return None
    if tag == "bool" and type(value) is bool:
        return value
    if tag == "int" and type(value) is int:
        return value
    if tag == "float" and type(value) in (int, float, str):
        return float(value)
    if tag == "str" and type(value) is str:
        if len(value) > MAX_STRING:
            return Opaque("str", f"a string of {len(value)} characters: {value[:60]!r}...")
        return value
    if tag in ("tuple", "list") and type(value) is list:
        items = [decode(item) for item in value]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and type(value) is dict:
        return {str(key): decode(item) for key, item in value.items()}
    if tag == "npscalar":
        return np.dtype(data["dtype"]).type(_number(decode(value)))
    if tag == "ndarray":
        flat = [_number(x) for x in value]
        return np.asarray(flat, dtype=np.dtype(data["dtype"])).reshape(data["shape"])
    if tag == "opaque":
        array = decode(data["array"]) if "array" in data else None
        return Opaque(str(data.get("type"))[:MAX_REPR], str(data.get("text"))[:MAX_REPR], array)
    return Opaque("malformed", str(tag)[:MAX_REPR])


def dumps(message) -> bytes:
    return json.dumps(message, allow_nan=False).encode()


def loads(raw: bytes):
    return json.loads(raw.decode())
