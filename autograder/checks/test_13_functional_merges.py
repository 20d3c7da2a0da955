"""Hidden checks for 13_functional_merges: shapes and models compared with what Keras builds.

``merged_shape``: every expected shape (or refusal) comes from Keras itself, calling
``keras.layers.Concatenate()``, ``keras.layers.Add()`` or ``keras.ops.stack(..., axis=1)`` on
symbolic inputs of the given shapes. Every seed runs the same targeted cases first (equal last
sizes, where the wrong axis shows; the smaller shape first, where broadcasting shows; each kind
of refusal), then random ones.

``two_branch_model``: the probe (``autograder/probes/functional_merges.py``) builds the
learner's model in the child for the three merges, sets the weights the grader drew by layer
name, runs it on the grader's inputs and reports plain data. The grader builds its own model
with the same weights and compares: the names, the output, the parameter count, and the Keras
layer or op that does the merge (a model that gets the numbers right with the wrong merge, a
Concatenate where a stack belongs, still loses those points).
"""

from __future__ import annotations

import numpy as np

from autograder.api import CheckFailed, check, expect, expect_error, expect_that
from autograder.oracle import oracle
from autograder.sandbox import SubmissionError, SubmissionRaised
from grimoire.feedback import NOT_STARTED, describe, is_untouched_stub
from grimoire.quiet import import_keras

keras = import_keras()
layers, ops = keras.layers, keras.ops

# The shape arithmetic is the lesson: merged_shape may not ask Keras. two_branch_model must use it.
OWN_WORK = {"merged_shape": {"no_framework": True}}

PROBE = "functional_merges:inspect_models"
MERGES = ("concatenate", "add", "stack")
ATOL = 1e-5
NAMED = ("branch_a", "branch_b", "output")


# -- merged_shape: the Keras oracle ----------------------------------------------------------------
@oracle
def keras_merged_shape(shapes, merge):
    """Keras' answer: a tuple of ints, or None where Keras raises ValueError."""
    inputs = [keras.Input(shape=shape) for shape in shapes]
    try:
        if merge == "concatenate":
            merged = layers.Concatenate()(inputs)
        elif merge == "add":
            merged = layers.Add()(inputs)
        else:
            merged = ops.stack(inputs, axis=1)
    except ValueError:
        return None
    return tuple(int(n) for n in merged.shape[1:])


def call_text(shapes, merge) -> str:
    return f"merged_shape({[tuple(s) for s in shapes]}, {merge!r})"


RULES = {
    "concatenate": ("keras.layers.Concatenate() joins along the last axis: every other axis must "
                    "match, and the last sizes add up"),
    "add": ("keras.layers.Add() adds element by element with NumPy's broadcasting, shapes aligned on "
            "their last axis: a size-1 axis or a missing leading axis stretches to the other size"),
    "stack": ("keras.ops.stack(..., axis=1) needs identical shapes and puts a new axis, counting the "
              "inputs, right after the batch axis: (n,) + shape"),
}


def expect_merged(submission, shapes, merge, why=""):
    expected = keras_merged_shape(shapes, merge)
    assert expected is not None, f"grader case {shapes} {merge} is refused by Keras"
    concept = RULES[merge] + why
    try:
        expect(submission, "merged_shape", [tuple(s) for s in shapes], merge, expected=expected,
               concept=f"{concept}; Keras gives {expected}")
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}; expected {expected}: {concept}") from None


def dims(rng, rank, low=1, high=7):
    return tuple(int(n) for n in rng.integers(low, high, size=rank))


# -- merged_shape: concatenate ---------------------------------------------------------------------
@check(task="merged_shape", points=2)
def test_merged_shape_concatenate_matches_keras(submission, rng):
    expect_merged(submission, [(3,), (5,)], "concatenate")
    expect_merged(submission, [(2, 3), (2, 3)], "concatenate",
                  ": (2, 3) and (2, 3) give (2, 6), not (4, 3): the features sit on the last axis")
    expect_merged(submission, [(4, 3), (4, 5)], "concatenate")
    expect_merged(submission, [(2, 5, 3), (2, 5, 4), (2, 5, 1)], "concatenate")
    for _ in range(4):
        rank, count = int(rng.integers(1, 4)), int(rng.integers(2, 4))
        prefix = dims(rng, rank - 1)
        shapes = [prefix + (int(rng.integers(1, 9)),) for _ in range(count)]
        expect_merged(submission, shapes, "concatenate")


# -- merged_shape: add -----------------------------------------------------------------------------
def broadcastable(rng, count):
    """Shapes that broadcast: some axes set to 1, some leading axes dropped."""
    full = dims(rng, int(rng.integers(1, 4)), low=2)
    shapes = []
    for _ in range(count):
        shape = tuple(1 if rng.random() < 0.3 else n for n in full)
        shape = shape[int(rng.integers(0, len(shape))):] if rng.random() < 0.4 else shape
        shapes.append(shape)
    return shapes


@check(task="merged_shape", points=2)
def test_merged_shape_add_broadcasts_like_keras(submission, rng):
    expect_merged(submission, [(4, 3), (4, 3)], "add")
    expect_merged(submission, [(1, 3), (4, 3)], "add", ": the size-1 axis of the first shape stretches to 4")
    expect_merged(submission, [(4, 3), (3,)], "add", ": (3,) lines up with the last axis of (4, 3)")
    expect_merged(submission, [(4, 1), (1, 3)], "add", ": each size-1 axis stretches to the other's size")
    expect_merged(submission, [(1,), (2, 4, 3)], "add")
    for _ in range(4):
        expect_merged(submission, broadcastable(rng, int(rng.integers(2, 4))), "add")


# -- merged_shape: stack ---------------------------------------------------------------------------
@check(task="merged_shape", points=2)
def test_merged_shape_stack_adds_a_new_axis_like_keras_ops_stack(submission, rng):
    expect_merged(submission, [(3,), (3,)], "stack", ": two (3,) inputs give (2, 3), not (3, 2)")
    expect_merged(submission, [(4, 3), (4, 3), (4, 3)], "stack")
    expect_merged(submission, [(5, 2), (5, 2)], "stack")
    for _ in range(3):
        shape = dims(rng, int(rng.integers(1, 4)))
        expect_merged(submission, [shape] * int(rng.integers(2, 5)), "stack")


# -- merged_shape: refusals ------------------------------------------------------------------------
REFUSALS = [
    ([(4, 3), (2, 5)], "concatenate", "Concatenate joins along the last axis only: the other axes (4 and 2) "
                                      "must match"),
    ([(3,), (4, 3)], "concatenate", "Concatenate joins along the last axis only, so the inputs need the "
                                    "same rank"),
    ([(1, 3), (2, 3)], "concatenate", "Concatenate joins along the last axis only and does not broadcast: "
                                      "axis 0 is 1 in one input, 2 in the other"),
    ([(3,), (5,)], "add", "Add needs sizes that are equal or 1 on every axis: 3 and 5 are neither"),
    ([(4, 3), (5, 3)], "add", "Add cannot stretch 4 to 5: only a size-1 axis broadcasts"),
    ([(2, 3), (3, 2)], "add", "Add lines the shapes up axis by axis: 2 against 3 and 3 against 2 do "
                              "not broadcast"),
    ([(3,), (5,)], "stack", "stack needs identical shapes"),
    ([(4, 3), (3,)], "stack", "stack needs identical shapes, even where Add would broadcast them"),
    ([(1, 3), (4, 3)], "stack", "stack needs identical shapes: it does not broadcast like Add"),
]
WHY = {"concatenate": "Concatenate joins along the last axis only, the others must match",
       "add": "Add broadcasts only a size-1 axis", "stack": "stack needs identical shapes"}


def random_refusal(rng, merge):
    """Two shapes that differ on one axis by more than broadcasting allows (the last one excepted
    for concatenate, where a rank-1 shape gets a partner of another rank instead)."""
    shape = dims(rng, int(rng.integers(1, 4)), low=2)
    if merge == "concatenate" and len(shape) == 1:
        return [shape, (2,) + shape], ("Concatenate joins along the last axis only, so the inputs need "
                                       "the same rank")
    last = len(shape) - 1 if merge == "concatenate" else len(shape)
    axis = int(rng.integers(0, last))
    other = list(shape)
    other[axis] = shape[axis] + int(rng.integers(1, 4))
    why = f"{WHY[merge]}: axis {axis} is {shape[axis]} in one input and {other[axis]} in the other"
    return [shape, tuple(other)], why


@check(task="merged_shape", points=2)
def test_merged_shape_raises_value_error_where_keras_refuses(submission, rng):
    cases = list(REFUSALS)
    for merge in MERGES:
        shapes, why = random_refusal(rng, merge)
        cases.append((shapes, merge, why))
    for shapes, merge, why in cases:
        assert keras_merged_shape(shapes, merge) is None, f"grader case {shapes} {merge} is accepted by Keras"
        expect_error(submission, "merged_shape", [tuple(s) for s in shapes], merge, error="ValueError",
                     concept=f"Keras refuses to {merge} these shapes: {why}")


# -- two_branch_model ------------------------------------------------------------------------------
def reference_model(a_dim, b_dim, units, merge):
    """The grader's own model, built here, never in the learner's process."""
    input_a = keras.Input(shape=(a_dim,), name="a")
    input_b = keras.Input(shape=(b_dim,), name="b")
    branch_a = layers.Dense(units, activation="relu", name="branch_a")(input_a)
    branch_b = layers.Dense(units, activation="relu", name="branch_b")(input_b)
    if merge == "concatenate":
        merged = layers.Concatenate()([branch_a, branch_b])
    elif merge == "add":
        merged = layers.Add()([branch_a, branch_b])
    else:
        merged = layers.Flatten()(ops.stack([branch_a, branch_b], axis=1))
    return keras.Model([input_a, input_b], layers.Dense(1, name="output")(merged))


def model_case(rng):
    """Sizes that cannot be confused (a_dim, b_dim, units all different), weights, inputs."""
    while True:
        a_dim, b_dim, units = (int(n) for n in rng.integers(2, 8, size=3))
        if len({a_dim, b_dim, units, 2 * units}) == 4:
            break
    cases, expected = [], {}
    for merge in MERGES:
        joined = units if merge == "add" else 2 * units
        weights = {
            "branch_a": [rng.normal(0, 0.6, size=(a_dim, units)), rng.normal(0, 0.5, size=units)],
            "branch_b": [rng.normal(0, 0.6, size=(b_dim, units)), rng.normal(0, 0.5, size=units)],
            "output": [rng.normal(0, 0.6, size=(joined, 1)), rng.normal(0, 0.5, size=1)],
        }
        weights = {k: [np.asarray(w, dtype="float32") for w in v] for k, v in weights.items()}
        a = rng.normal(size=(6, a_dim)).astype("float32")
        b = rng.normal(size=(6, b_dim)).astype("float32")
        cases.append({"merge": merge, "weights": weights, "a": a, "b": b})
        model = reference_model(a_dim, b_dim, units, merge)
        for name in NAMED:
            model.get_layer(name).set_weights(weights[name])
        expected[merge] = {"output": np.asarray(model([a, b]), dtype=np.float64),
                           "params": int(model.count_params())}
    return (a_dim, b_dim, units), cases, expected


def build_text(sizes, merge) -> str:
    return f"two_branch_model({sizes[0]}, {sizes[1]}, {sizes[2]}, {merge!r})"


def inspect(submission, rng):
    """(sizes, {merge: report}, {merge: expected}); a builder that raises fails here, with words."""
    sizes, cases, expected = model_case(rng)
    describe_call = (f"two_branch_model({sizes[0]}, {sizes[1]}, {sizes[2]}, merge) for merge in "
                     f"{MERGES}, built and run in your process")
    reports = submission.probe(PROBE, *sizes, cases, describe=describe_call, timeout=30)
    by_merge = {}
    for report in reports:
        merge = report["merge"]
        call = build_text(sizes, merge)
        error = report.get("build_error")
        if error is not None:
            text = f"{error['type']}: {error['message']}".rstrip(": ")
            if error["type"] == "NotImplementedError" and is_untouched_stub(error["message"]):
                raise SubmissionError(f"{call} raised NotImplementedError: "
                                      f"{NOT_STARTED.format(name='two_branch_model')}")
            raise CheckFailed(f"{call} raised {text}; expected a keras.Model: {MODEL_RECIPE[merge]}")
        if not report.get("is_keras_model"):
            raise CheckFailed(f"{call} returned a {report.get('model_class')}; expected a keras.Model "
                              f"built with the Functional API: keras.Model([a, b], outputs)")
        by_merge[merge] = report
    return sizes, by_merge, expected


MODEL_RECIPE = {
    "concatenate": "Concatenate()([branch_a, branch_b]) gives (batch, 2 * units), read by Dense(1)",
    "add": "Add()([branch_a, branch_b]) gives (batch, units), read by Dense(1)",
    "stack": ("ops.stack([branch_a, branch_b], axis=1) gives (batch, 2, units); Flatten() makes it "
              "(batch, 2 * units) for Dense(1), which reads the last axis only"),
}


@check(task="two_branch_model", points=1)
def test_two_branch_model_names_its_inputs_and_layers(submission, rng):
    sizes, reports, _ = inspect(submission, rng)
    a_dim, b_dim, units = sizes
    for merge, report in reports.items():
        call = build_text(sizes, merge)
        inputs = report.get("inputs")
        expected_inputs = [["a", [None, a_dim]], ["b", [None, b_dim]]]
        expect_that(inputs == expected_inputs, (
            f"{call} has the inputs {describe_inputs(inputs)}; expected a then b, "
            f"{describe_inputs(expected_inputs)}: keras.Input(shape=({a_dim},), name='a') and "
            f"keras.Input(shape=({b_dim},), name='b'), passed to keras.Model as the list [a, b]"))
        missing = report.get("missing_layers", [])
        expect_that(not missing, (
            f"{call} has no layer named {', '.join(map(repr, missing))}; expected Dense layers named "
            "'branch_a', 'branch_b' and 'output' (layers.Dense(..., name='branch_a')): the grader sets "
            "their weights by name"))
        operations = {op["name"]: op for op in report.get("operations", [])}
        for name, source in (("branch_a", "a"), ("branch_b", "b")):
            layer = operations.get(name, {})
            right = (layer.get("class") == "Dense" and layer.get("units") == units
                     and layer.get("activation") == "relu" and layer.get("sources") == [source])
            expect_that(right, (
                f"{call}: the layer {name!r} is a {layer.get('class')} with units={layer.get('units')}, "
                f"activation={layer.get('activation')!r}, reading {layer.get('sources')}; expected "
                f"Dense({units}, activation='relu') reading the input {source!r}: one branch per input"))
        output = operations.get("output", {})
        expect_that(output.get("class") == "Dense" and output.get("units") == 1
                    and output.get("activation") == "linear", (
            f"{call}: the layer 'output' is a {output.get('class')} with units={output.get('units')} and "
            f"activation={output.get('activation')!r}; expected Dense(1) with no activation, the model's "
            "single output"))


def describe_inputs(inputs) -> str:
    if not isinstance(inputs, list):
        return "that could not be read"
    return "[" + ", ".join(f"{name!r} of shape {tuple(shape)}" for name, shape in inputs) + "]"


def shape_text(shapes) -> str:
    return ", ".join(str(tuple(s)) for s in shapes)


@check(task="two_branch_model", points=2)
def test_two_branch_model_output_matches_the_graders_model(submission, rng):
    sizes, reports, expected = inspect(submission, rng)
    for merge, report in reports.items():
        call = build_text(sizes, merge)
        want = expected[merge]["output"]
        what = (f"{call} with the grader's weights set by layer name, called on a of shape (6, {sizes[0]}) "
                f"and b of shape (6, {sizes[1]})")
        if report.get("missing_layers"):
            raise CheckFailed(f"{what}: it has no layer named {', '.join(map(repr, report['missing_layers']))}, "
                              "so its weights could not be set; expected layers named 'branch_a', "
                              "'branch_b' and 'output'")
        if "set_error" in report:
            shapes = report.get("weight_shapes", {}).get("output", [])
            joined = sizes[2] if merge == "add" else 2 * sizes[2]
            raise CheckFailed(
                f"{what}: its weights could not be set ({report['set_error']['message'][:200]}); its "
                f"'output' layer holds weights of shape {shape_text(shapes)}, expected ({joined}, 1), (1,): "
                f"{MODEL_RECIPE[merge]}")
        if "run_error" in report:
            error = report["run_error"]
            raise CheckFailed(f"{what} raised {error['type']}: {error['message'][:300]}; expected an "
                              f"output of shape {want.shape}: the model takes the list [a, b]")
        got = report.get("output")
        if not (isinstance(got, np.ndarray) and got.shape == want.shape):
            raise CheckFailed(f"{what} returned {describe(got)}; expected shape {want.shape}, one number "
                              f"per example: {MODEL_RECIPE[merge]}")
        expect_that(bool(np.allclose(got, want, rtol=0, atol=ATOL)), (
            f"{what} returned outputs that differ from the grader's model by up to "
            f"{np.abs(got - want).max():.3g} (first rows {np.round(got[:3, 0], 4).tolist()}, expected "
            f"{np.round(want[:3, 0], 4).tolist()}): relu branches, then {MODEL_RECIPE[merge]}, "
            "with no activation on the output"))


@check(task="two_branch_model", points=1)
def test_two_branch_model_counts_the_same_parameters(submission, rng):
    sizes, reports, expected = inspect(submission, rng)
    a_dim, b_dim, units = sizes
    for merge, report in reports.items():
        call = build_text(sizes, merge)
        want = expected[merge]["params"]
        joined = units if merge == "add" else 2 * units
        expect_that(report.get("params") == want, (
            f"{call}.count_params() returned {report.get('params')}; expected {want} = "
            f"({a_dim} + 1) * {units} + ({b_dim} + 1) * {units} + ({joined} + 1) * 1: the merge itself has "
            f"no weights, and Dense(1) reads the {joined} merged features ({MODEL_RECIPE[merge]})"))


MERGE_OPERATIONS = {"concatenate": "Concatenate", "add": "Add", "stack": "Stack"}
MERGE_WORDS = {
    "concatenate": "keras.layers.Concatenate() (or keras.ops.concatenate) on the last axis",
    "add": "keras.layers.Add() (or keras.ops.add)",
    "stack": "keras.ops.stack(..., axis=1), then layers.Flatten()",
}


def merge_axis_ok(merge, operation) -> bool:
    axis = operation.get("axis")
    if merge == "concatenate":
        return axis in (-1, 1)  # the branches are (batch, units): axis 1 is the last
    if merge == "stack":
        return axis in (1, -2)  # (batch, 2, units): the new axis right after the batch
    return True


@check(task="two_branch_model", points=2)
def test_two_branch_model_merges_with_the_matching_keras_layer_or_op(submission, rng):
    sizes, reports, _ = inspect(submission, rng)
    for merge, report in reports.items():
        call = build_text(sizes, merge)
        operations = report.get("operations", [])
        wanted = MERGE_OPERATIONS[merge]
        joins = [op for op in operations if sorted(op.get("sources", [])) == ["branch_a", "branch_b"]]
        found = ", ".join(f"{op['class']} ({op['module']})" for op in joins) or "none"
        right = [op for op in joins if op["class"] == wanted and op["module"].startswith("keras")
                 and merge_axis_ok(merge, op)]
        expect_that(len(right) == 1 and len(joins) == 1, (
            f"{call} joins the two branches with {found} (axis {[op.get('axis') for op in joins]}); "
            f"expected one {wanted} reading 'branch_a' and 'branch_b': merge={merge!r} is "
            f"{MERGE_WORDS[merge]}. Another operation may give numbers that look right, but it is a "
            "different model"))
