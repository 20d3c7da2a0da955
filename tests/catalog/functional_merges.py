"""Mistakes learners make when joining branches, and correct joins written differently."""

from dataclasses import replace

from tests.catalog import Mistake, Variant

CONCATENATE = "merged_shape_concatenate_matches_keras"
ADD = "merged_shape_add_broadcasts_like_keras"
STACK = "merged_shape_stack_adds_a_new_axis_like_keras_ops_stack"
REFUSES = "merged_shape_raises_value_error_where_keras_refuses"
SHAPES = (CONCATENATE, ADD, STACK, REFUSES)
NAMES = "two_branch_model_names_its_inputs_and_layers"
OUTPUT = "two_branch_model_output_matches_the_graders_model"
PARAMS = "two_branch_model_counts_the_same_parameters"
MERGE = "two_branch_model_merges_with_the_matching_keras_layer_or_op"
MODEL = (NAMES, OUTPUT, PARAMS, MERGE)

# The reference model with one line changed, so that each mistake below is that one line.
MODEL_TEMPLATE = '''
def two_branch_model(a_dim, b_dim, units, merge):
    input_a = keras.Input(shape=(a_dim,), name="a")
    input_b = keras.Input(shape=(b_dim,), name="b")
    branch_a = layers.Dense(units, activation={activation!r}, name="branch_a")(input_a)
    branch_b = layers.Dense(units, activation={activation!r}, name="branch_b")(input_b)
    if merge == "concatenate":
        merged = {concatenate}
    elif merge == "add":
        merged = {add}
    else:
        merged = {stack}
    outputs = layers.Dense(1, name="output"{output_activation})(merged)
    return keras.Model({inputs}, outputs)
'''
RIGHT = {
    "activation": "relu",
    "concatenate": "layers.Concatenate()([branch_a, branch_b])",
    "add": "layers.Add()([branch_a, branch_b])",
    "stack": "layers.Flatten()(ops.stack([branch_a, branch_b], axis=1))",
    "output_activation": "",
    "inputs": "[input_a, input_b]",
}


def model_with(**changes) -> str:
    return MODEL_TEMPLATE.format(**{**RIGHT, **changes})


MISTAKES = [
    # -- merged_shape -----------------------------------------------------------------------
    Mistake("concatenates_on_the_first_axis", '''
import numpy as np


def merged_shape(shapes, merge):
    shapes = [tuple(s) for s in shapes]
    if merge == "concatenate":
        for s in shapes[1:]:
            if len(s) != len(shapes[0]) or s[1:] != shapes[0][1:]:
                raise ValueError("shapes do not match")
        return (sum(s[0] for s in shapes),) + shapes[0][1:]
    if merge == "add":
        return tuple(int(n) for n in np.broadcast_shapes(*shapes))
    if any(s != shapes[0] for s in shapes):
        raise ValueError("stack needs identical shapes")
    return (len(shapes),) + shapes[0]
''', kills=(CONCATENATE, REFUSES)),
    Mistake("stacks_on_the_last_axis", '''
import numpy as np


def merged_shape(shapes, merge):
    shapes = [tuple(s) for s in shapes]
    if merge == "concatenate":
        for s in shapes[1:]:
            if len(s) != len(shapes[0]) or s[:-1] != shapes[0][:-1]:
                raise ValueError("shapes do not match")
        return shapes[0][:-1] + (sum(s[-1] for s in shapes),)
    if merge == "add":
        return tuple(int(n) for n in np.broadcast_shapes(*shapes))
    if any(s != shapes[0] for s in shapes):
        raise ValueError("stack needs identical shapes")
    return shapes[0] + (len(shapes),)
''', kills=(STACK,)),
    Mistake("add_without_broadcasting", '''
def merged_shape(shapes, merge):
    shapes = [tuple(s) for s in shapes]
    if merge == "concatenate":
        for s in shapes[1:]:
            if len(s) != len(shapes[0]) or s[:-1] != shapes[0][:-1]:
                raise ValueError("shapes do not match")
        return shapes[0][:-1] + (sum(s[-1] for s in shapes),)
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"{merge} needs identical shapes")
    return shapes[0] if merge == "add" else (len(shapes),) + shapes[0]
''', kills=(ADD,)),
    Mistake("add_keeps_the_first_shape", '''
import numpy as np


def merged_shape(shapes, merge):
    shapes = [tuple(s) for s in shapes]
    if merge == "concatenate":
        for s in shapes[1:]:
            if len(s) != len(shapes[0]) or s[:-1] != shapes[0][:-1]:
                raise ValueError("shapes do not match")
        return shapes[0][:-1] + (sum(s[-1] for s in shapes),)
    if merge == "add":
        np.broadcast_shapes(*shapes)  # raises ValueError when they do not broadcast
        return shapes[0]
    if any(s != shapes[0] for s in shapes):
        raise ValueError("stack needs identical shapes")
    return (len(shapes),) + shapes[0]
''', kills=(ADD,)),
    Mistake("add_broadcasts_from_the_first_axis", '''
import numpy as np


def merged_shape(shapes, merge):
    shapes = [tuple(s) for s in shapes]
    if merge == "concatenate":
        for s in shapes[1:]:
            if len(s) != len(shapes[0]) or s[:-1] != shapes[0][:-1]:
                raise ValueError("shapes do not match")
        return shapes[0][:-1] + (sum(s[-1] for s in shapes),)
    if merge == "add":
        rank = max(len(s) for s in shapes)
        padded = [s + (1,) * (rank - len(s)) for s in shapes]  # pads on the wrong side
        return tuple(int(n) for n in np.broadcast_shapes(*padded))
    if any(s != shapes[0] for s in shapes):
        raise ValueError("stack needs identical shapes")
    return (len(shapes),) + shapes[0]
''', kills=(ADD,)),
    Mistake("never_refuses", '''
def merged_shape(shapes, merge):
    shapes = [tuple(s) for s in shapes]
    if merge == "concatenate":
        return shapes[0][:-1] + (sum(s[-1] for s in shapes),)
    if merge == "add":
        rank = max(len(s) for s in shapes)
        padded = [(1,) * (rank - len(s)) + s for s in shapes]
        return tuple(max(sizes) for sizes in zip(*padded))
    return (len(shapes),) + shapes[0]
''', kills=(REFUSES,)),
    Mistake("stack_broadcasts_like_add", '''
import numpy as np


def merged_shape(shapes, merge):
    shapes = [tuple(s) for s in shapes]
    if merge == "concatenate":
        for s in shapes[1:]:
            if len(s) != len(shapes[0]) or s[:-1] != shapes[0][:-1]:
                raise ValueError("shapes do not match")
        return shapes[0][:-1] + (sum(s[-1] for s in shapes),)
    joined = tuple(int(n) for n in np.broadcast_shapes(*shapes))
    return joined if merge == "add" else (len(shapes),) + joined
''', kills=(REFUSES,)),
    Mistake("merged_shape_asks_keras", '''
def merged_shape(shapes, merge):
    inputs = [keras.Input(shape=tuple(s)) for s in shapes]
    if merge == "concatenate":
        merged = layers.Concatenate()(inputs)
    elif merge == "add":
        merged = layers.Add()(inputs)
    else:
        merged = ops.stack(inputs, axis=1)
    return tuple(merged.shape[1:])
''', kills=SHAPES, visible=False, delegates=True, concept="Keras"),
    # -- two_branch_model -------------------------------------------------------------------
    Mistake("stack_done_with_concatenate", model_with(stack="layers.Concatenate()([branch_a, branch_b])"),
            kills=(MERGE,)),
    Mistake("add_done_with_average", model_with(add="layers.Average()([branch_a, branch_b])"),
            kills=(OUTPUT, MERGE)),
    Mistake("concatenate_done_with_a_lambda",
            model_with(concatenate="layers.Lambda(lambda pair: ops.concatenate(pair, axis=-1))([branch_a, branch_b])"),
            kills=(MERGE,)),
    Mistake("flatten_missing_after_stack", model_with(stack="ops.stack([branch_a, branch_b], axis=1)"),
            kills=(OUTPUT, PARAMS)),
    Mistake("stacks_on_axis_0", model_with(stack="layers.Flatten()(ops.stack([branch_a, branch_b], axis=0))"),
            kills=MODEL),
    Mistake("branches_without_relu", model_with(activation=None), kills=(NAMES, OUTPUT)),
    Mistake("sigmoid_on_the_output", model_with(output_activation=', activation="sigmoid"'),
            kills=(NAMES, OUTPUT)),
    Mistake("inputs_in_the_wrong_order", model_with(inputs="[input_b, input_a]"), kills=(NAMES, OUTPUT)),
    Mistake("layers_left_unnamed", '''
def two_branch_model(a_dim, b_dim, units, merge):
    input_a = keras.Input(shape=(a_dim,))
    input_b = keras.Input(shape=(b_dim,))
    branch_a = layers.Dense(units, activation="relu")(input_a)
    branch_b = layers.Dense(units, activation="relu")(input_b)
    if merge == "concatenate":
        merged = layers.Concatenate()([branch_a, branch_b])
    elif merge == "add":
        merged = layers.Add()([branch_a, branch_b])
    else:
        merged = layers.Flatten()(ops.stack([branch_a, branch_b], axis=1))
    return keras.Model([input_a, input_b], layers.Dense(1)(merged))
''', kills=(NAMES, OUTPUT)),
    Mistake("one_layer_for_both_inputs_after_concatenating_them", '''
def two_branch_model(a_dim, b_dim, units, merge):
    input_a = keras.Input(shape=(a_dim,), name="a")
    input_b = keras.Input(shape=(b_dim,), name="b")
    both = layers.Concatenate()([input_a, input_b])
    hidden = layers.Dense(2 * units, activation="relu", name="branch_a")(both)
    layers.Dense(units, name="branch_b")  # made, never used
    return keras.Model([input_a, input_b], layers.Dense(1, name="output")(hidden))
''', kills=MODEL),
]

# The real cause of each mistake, in words every message of the checks it fails must hold.
CONCEPTS = {
    "concatenates_on_the_first_axis": "last axis",
    "stacks_on_the_last_axis": "right after the batch axis",
    "add_without_broadcasting": "broadcasting",
    "add_keeps_the_first_shape": "broadcasting",
    "add_broadcasts_from_the_first_axis": "aligned on their last axis",
    "never_refuses": "refuses",
    "stack_broadcasts_like_add": "identical shapes",
    "stack_done_with_concatenate": "ops.stack",
    "add_done_with_average": "Add()",
    "concatenate_done_with_a_lambda": "Concatenate",
    "flatten_missing_after_stack": "Flatten",
    "stacks_on_axis_0": "axis=1",
    "branches_without_relu": "relu",
    "sigmoid_on_the_output": "no activation",
    "inputs_in_the_wrong_order": "[a, b]",
    "layers_left_unnamed": "name",
    "one_layer_for_both_inputs_after_concatenating_them": "branch_b",
}
MISTAKES = [replace(m, concept=m.concept or CONCEPTS[m.name]) for m in MISTAKES]

VARIANTS = [
    Variant("broadcasting_from_the_right_with_a_loop", '''
def merged_shape(shapes, merge):
    if merge not in ("concatenate", "add", "stack"):
        raise ValueError(merge)
    shapes = [list(map(int, s)) for s in shapes]
    if merge == "stack":
        if any(s != shapes[0] for s in shapes):
            raise ValueError("stack: shapes differ")
        return tuple([len(shapes)] + shapes[0])
    if merge == "concatenate":
        if len({len(s) for s in shapes}) > 1 or len({tuple(s[:-1]) for s in shapes}) > 1:
            raise ValueError("concatenate: shapes differ off the last axis")
        return tuple(shapes[0][:-1] + [sum(s[-1] for s in shapes)])
    result = []
    for back in range(1, max(len(s) for s in shapes) + 1):
        sizes = {s[-back] for s in shapes if len(s) >= back} - {1}
        if len(sizes) > 1:
            raise ValueError("add: shapes do not broadcast")
        result.insert(0, sizes.pop() if sizes else 1)
    return tuple(result)
'''),
    Variant("numpy_broadcast_shapes_and_keras_ops", '''
import numpy as np


def merged_shape(shapes, merge):
    shapes = [tuple(int(n) for n in s) for s in shapes]
    if merge == "add":
        return tuple(int(n) for n in np.broadcast_shapes(*shapes))
    if merge == "stack":
        if len(set(shapes)) != 1:
            raise ValueError("stack needs identical shapes")
        return (len(shapes), *shapes[0])
    if len({s[:-1] for s in shapes}) != 1 or len({len(s) for s in shapes}) != 1:
        raise ValueError("concatenate needs equal shapes off the last axis")
    return (*shapes[0][:-1], sum(s[-1] for s in shapes))


def two_branch_model(a_dim, b_dim, units, merge):
    a = keras.Input(shape=(a_dim,), name="a")
    b = keras.Input(shape=(b_dim,), name="b")
    branches = [layers.Dense(units, activation=keras.activations.relu, name=f"branch_{name}")(tensor)
                for name, tensor in (("a", a), ("b", b))]
    if merge == "concatenate":
        merged = ops.concatenate(branches, axis=1)
    elif merge == "add":
        merged = branches[0] + branches[1]
    else:
        merged = layers.Reshape((2 * units,))(ops.stack(branches, axis=-2))
    model = keras.Model(inputs=[a, b], outputs=layers.Dense(1, name="output")(merged), name=f"two_{merge}")
    return model
'''),
    Variant("layer_objects_made_first", '''
def two_branch_model(a_dim, b_dim, units, merge):
    dense_a = layers.Dense(units, activation="relu", name="branch_a")
    dense_b = layers.Dense(units, activation="relu", name="branch_b")
    head = layers.Dense(1, name="output")
    joins = {
        "concatenate": lambda x, y: layers.Concatenate(axis=-1)([x, y]),
        "add": lambda x, y: layers.Add()([x, y]),
        "stack": lambda x, y: layers.Flatten()(ops.stack([x, y], axis=1)),
    }
    inputs = [keras.Input(shape=(a_dim,), name="a"), keras.Input(shape=(b_dim,), name="b")]
    return keras.Model(inputs, head(joins[merge](dense_a(inputs[0]), dense_b(inputs[1]))))
'''),
]
