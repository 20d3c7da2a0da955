"""Probe for 13_functional_merges: build the learner's ``two_branch_model`` and report plain data.

A ``keras.Model`` cannot cross the wire, so the model is built here, in the learner's child:
for each merge the probe calls ``two_branch_model(a_dim, b_dim, units, merge)``, sets the
weights the grader sent on the layers named ``branch_a``, ``branch_b`` and ``output``, runs the
model on the grader's inputs and describes it: its inputs, its operations (class, module, axis,
activation and which operations feed them, read from ``get_config()``), its parameter count
and its output. What goes wrong (the builder raising, a missing layer, weights of the wrong
shape, a model that cannot run) is reported as data too, per merge, so that one broken merge
does not hide the others. The verdicts are the grader's; the grader builds its own model.
"""

from __future__ import annotations

MAX_TEXT = 400
NAMED_LAYERS = ("branch_a", "branch_b", "output")


def _text(value) -> str:
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def _error(error: BaseException) -> dict:
    return {"type": type(error).__name__, "message": _text(error),
            "mro": [kind.__name__ for kind in type(error).__mro__]}


def _shape(shape) -> list:
    return [None if n is None else int(n) for n in shape]


def _sources(node) -> list[str]:
    """Names of the operations whose outputs feed a node of ``get_config()["layers"]``."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            config = value.get("config")
            history = config.get("keras_history") if isinstance(config, dict) else None
            if value.get("class_name") == "__keras_tensor__" and history:
                found.append(str(history[0]))
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(node.get("inbound_nodes", []))
    return found


def _fallback_sources(operation) -> list[str]:
    """Where ``get_config`` fails (a custom layer without one): the tensors' own history."""
    try:
        tensors = operation.input
    except Exception:  # noqa: BLE001
        return []
    tensors = tensors if isinstance(tensors, (list, tuple)) else [tensors]
    names = []
    for tensor in tensors:
        history = getattr(tensor, "_keras_history", None)
        source = getattr(history, "operation", None)
        if source is not None:
            names.append(str(getattr(source, "name", "")))
    return names


def _operations(model) -> list[dict]:
    """Every operation of a Functional model, in graph order, as plain data."""
    config_layers = {}
    try:
        config = model.get_config()
        for node in config.get("layers", []) if isinstance(config, dict) else []:
            config_layers[str(node.get("name"))] = node
    except Exception:  # noqa: BLE001  (a model without a config still gets described)
        pass
    operations = getattr(model, "operations", None)
    if operations is None:
        operations = getattr(model, "layers", [])
    described = []
    for operation in operations:
        kind = type(operation)
        name = str(getattr(operation, "name", ""))
        activation = getattr(operation, "activation", None)
        axis = getattr(operation, "axis", None)
        units = getattr(operation, "units", None)
        described.append({
            "name": name,
            "class": kind.__name__,
            "module": str(kind.__module__),
            "axis": axis if type(axis) is int else None,
            "units": units if type(units) is int else None,
            "activation": getattr(activation, "__name__", None) if activation is not None else None,
            "sources": (_sources(config_layers[name]) if name in config_layers
                        else _fallback_sources(operation)),
        })
    return described


def _describe(model, weights, a, b) -> dict:
    import keras
    import numpy as np

    report = {"model_class": type(model).__name__, "is_keras_model": isinstance(model, keras.Model)}
    if not report["is_keras_model"]:
        return report
    try:
        report["inputs"] = [[str(t.name), _shape(t.shape)] for t in model.inputs]
    except Exception as error:  # noqa: BLE001
        report["inputs_error"] = _error(error)
    report["operations"] = _operations(model)
    try:
        report["params"] = int(model.count_params())
    except Exception as error:  # noqa: BLE001
        report["params_error"] = _error(error)
    shapes, missing = {}, []
    for name in NAMED_LAYERS:
        try:
            layer = model.get_layer(name)
        except Exception:  # noqa: BLE001  (get_layer raises ValueError for an unknown name)
            missing.append(name)
            continue
        shapes[name] = [_shape(w.shape) for w in layer.get_weights()]
    report["weight_shapes"] = shapes
    report["missing_layers"] = missing
    if missing:
        return report
    try:
        for name in NAMED_LAYERS:
            model.get_layer(name).set_weights([np.asarray(w, dtype="float32") for w in weights[name]])
    except Exception as error:  # noqa: BLE001
        report["set_error"] = _error(error)
        return report
    try:
        output = model([keras.ops.convert_to_tensor(a), keras.ops.convert_to_tensor(b)])
        report["output"] = np.asarray(keras.ops.convert_to_numpy(output), dtype=np.float64)
    except Exception as error:  # noqa: BLE001
        report["run_error"] = _error(error)
    return report


def inspect_models(module, a_dim, b_dim, units, cases):
    """One report per case; a case is ``{"merge", "weights": {layer: [arrays]}, "a", "b"}``."""
    import numpy as np

    reports = []
    for case in cases:
        merge = case["merge"]
        try:
            model = module.two_branch_model(a_dim, b_dim, units, merge)
        except Exception as error:  # noqa: BLE001  (the grader words it)
            reports.append({"merge": merge, "build_error": _error(error)})
            continue
        report = _describe(model, case["weights"], np.asarray(case["a"], dtype="float32"),
                           np.asarray(case["b"], dtype="float32"))
        report["merge"] = merge
        reports.append(report)
    return reports
