# The visible checks of 13 · Joining branches: concatenate, add, stack (`make feedback TOPIC=13_functional_merges` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for functional merges. Run them with `pytest exercises/13_functional_merges`."""

import numpy as np
import pytest

from functional_merges import merged_shape, two_branch_model
from grimoire.quiet import import_keras
from grimoire.teach import call_or_not_started, expect_call, expect_raises, expect_value


@pytest.mark.task("merged_shape")
def test_concatenate_joins_the_last_axis():
    expect_call(merged_shape, [(2, 3), (2, 3)], "concatenate", expected=(2, 6),
                concept="Concatenate() puts the features side by side on the last axis: (2, 3 + 3), "
                        "every other axis unchanged")


@pytest.mark.task("merged_shape")
def test_add_broadcasts_size_one_axes():
    expect_call(merged_shape, [(1, 3), (4, 3)], "add", expected=(4, 3),
                concept="Add() broadcasts like NumPy: the size-1 axis of (1, 3) stretches to 4")
    expect_call(merged_shape, [(4, 3), (3,)], "add", expected=(4, 3),
                concept="Add() aligns the shapes on their last axis: (3,) is added to every row of (4, 3)")


@pytest.mark.task("merged_shape")
def test_stack_counts_the_inputs_on_a_new_first_axis():
    expect_call(merged_shape, [(3,), (3,)], "stack", expected=(2, 3),
                concept="ops.stack(..., axis=1) puts a new axis right after the batch axis, counting the "
                        "inputs: two (3,) inputs give (2, 3)")


@pytest.mark.task("merged_shape")
def test_each_merge_refuses_shapes_it_cannot_join():
    expect_raises(merged_shape, [(4, 3), (2, 5)], "concatenate", error=ValueError,
                  concept="Concatenate joins along the last axis only: the other axes (4 and 2) must match")
    expect_raises(merged_shape, [(3,), (5,)], "add", error=ValueError,
                  concept="Add needs sizes that are equal or 1 on every axis: 3 and 5 are neither")
    expect_raises(merged_shape, [(1, 3), (4, 3)], "stack", error=ValueError,
                  concept="stack needs identical shapes; it does not broadcast like Add")


def model_or_fail(merge, a_dim=3, b_dim=4, units=5):
    model = call_or_not_started(two_branch_model, a_dim, b_dim, units, merge)
    keras = import_keras()
    expect_value(f"type(two_branch_model({a_dim}, {b_dim}, {units}, {merge!r}))", isinstance(model, keras.Model),
                 True, concept="return the keras.Model built with the Functional API")
    return model


@pytest.mark.task("two_branch_model")
def test_the_model_takes_inputs_a_and_b_and_names_its_dense_layers():
    model = model_or_fail("concatenate")
    expect_value("[t.name for t in two_branch_model(3, 4, 5, 'concatenate').inputs]",
                 [t.name for t in model.inputs], ["a", "b"],
                 concept="keras.Input(shape=(3,), name='a') and keras.Input(shape=(4,), name='b'), passed "
                         "to keras.Model as the list [a, b]")
    names = [layer.name for layer in model.layers]
    missing = [name for name in ("branch_a", "branch_b", "output") if name not in names]
    expect_value(f"the layers missing from two_branch_model(3, 4, 5, 'concatenate') (it has {names})",
                 missing, [], concept="name the Dense layers 'branch_a', 'branch_b' and 'output'")


@pytest.mark.task("two_branch_model")
def test_parameter_counts_follow_the_merge():
    # branches (3 + 1) * 5 + (4 + 1) * 5 = 45; Dense(1) reads 10 features after concatenate or stack, 5 after add.
    for merge, expected in (("concatenate", 56), ("add", 51), ("stack", 56)):
        model = model_or_fail(merge)
        expect_value(f"two_branch_model(3, 4, 5, {merge!r}).count_params()", model.count_params(), expected,
                     concept="(3 + 1) * 5 + (4 + 1) * 5 for the branches, plus Dense(1) on the merged "
                             "features: 10 after concatenate or stack (+ Flatten), 5 after add")


@pytest.mark.task("two_branch_model")
def test_the_model_gives_the_output_of_its_layers():
    rng = np.random.default_rng(13)
    a, b = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 4)).astype("float32")
    for merge in ("concatenate", "add", "stack"):
        model = model_or_fail(merge)
        weights = {}
        for name in ("branch_a", "branch_b", "output"):
            layer = model.get_layer(name)
            weights[name] = [rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()]
            layer.set_weights(weights[name])
        # The same model in NumPy: relu branches, the merge, then a linear Dense(1).
        branch_a = np.maximum(a @ weights["branch_a"][0] + weights["branch_a"][1], 0.0)
        branch_b = np.maximum(b @ weights["branch_b"][0] + weights["branch_b"][1], 0.0)
        joined = branch_a + branch_b if merge == "add" else np.concatenate([branch_a, branch_b], axis=-1)
        expected = joined @ weights["output"][0] + weights["output"][1]
        got = np.asarray(model([a, b]))
        expect_value(f"two_branch_model(3, 4, 5, {merge!r})([a, b]) with random weights", got, expected,
                     atol=1e-4, concept="relu branches (Dense(5, activation='relu')), joined by the merge "
                                        "(stacking two (batch, 5) rows and flattening gives the same features "
                                        "as concatenating them), then a Dense(1) output with no activation")


@pytest.mark.task("two_branch_model")
def test_each_merge_uses_its_keras_layer_or_op():
    for merge, wanted in (("concatenate", "Concatenate"), ("add", "Add"), ("stack", "Stack")):
        model = model_or_fail(merge)
        kinds = [type(operation).__name__ for operation in model.operations]
        expect_value(f"{wanted!r} in the operations of two_branch_model(3, 4, 5, {merge!r}) ({kinds})",
                     wanted in kinds, True,
                     concept="join the branches with layers.Concatenate(), layers.Add() or ops.stack(..., "
                             "axis=1) + layers.Flatten(): a different merge may give the same shapes, but "
                             "it is another model")
