"""Mistakes learners make when computing convolution shapes, and correct answers written differently."""

from dataclasses import replace

from tests.catalog import Mistake, Variant

ALL_CHECKS = (
    "conv2d_valid_padding_matches_keras_at_stride_one", "conv2d_valid_padding_matches_keras_with_strides",
    "conv2d_same_padding_matches_keras", "conv2d_dilation_matches_keras",
    "conv2d_accepts_pairs_for_kernel_strides_and_dilation", "conv2d_output_channels_are_the_filters",
    "conv2d_raises_value_error_when_the_window_does_not_fit",
    "pool2d_strides_default_to_the_pool_size", "pool2d_follows_strides_and_same_padding",
    "pool2d_accepts_pairs", "pool2d_raises_value_error_when_the_window_does_not_fit",
    "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units",
    "cnn_shape_walk_raises_value_error_when_a_layer_does_not_fit",
)
WALK = tuple(name for name in ALL_CHECKS if name.startswith("cnn_shape_walk"))

MISTAKES = [
    Mistake("valid_forgets_the_plus_one", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s, d in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides), as_pair(dilation_rate)):
        size = math.ceil(n / s) if padding == "same" else (n - d * (k - 1) - 1) // s
        if size <= 0:
            raise ValueError("the window does not fit")
        sizes.append(size)
    return sizes[0], sizes[1], filters
''', kills=("conv2d_valid_padding_matches_keras_at_stride_one", "conv2d_valid_padding_matches_keras_with_strides", "pool2d_strides_default_to_the_pool_size", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units")),
    Mistake("valid_rounds_instead_of_flooring", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s, d in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides), as_pair(dilation_rate)):
        size = math.ceil(n / s) if padding == "same" else round((n - d * (k - 1) - 1) / s) + 1
        if size <= 0:
            raise ValueError("the window does not fit")
        sizes.append(size)
    return sizes[0], sizes[1], filters
''', kills=("conv2d_valid_padding_matches_keras_with_strides", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units", "pool2d_strides_default_to_the_pool_size")),
    Mistake("dilation_is_ignored", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides)):
        size = math.ceil(n / s) if padding == "same" else (n - k) // s + 1
        if size <= 0:
            raise ValueError("the window does not fit")
        sizes.append(size)
    return sizes[0], sizes[1], filters
''', kills=("conv2d_dilation_matches_keras", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units", "conv2d_accepts_pairs_for_kernel_strides_and_dilation", "conv2d_raises_value_error_when_the_window_does_not_fit")),
    Mistake("dilation_multiplies_the_whole_kernel", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s, d in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides), as_pair(dilation_rate)):
        size = math.ceil(n / s) if padding == "same" else (n - d * k) // s + 1
        if size <= 0:
            raise ValueError("the window does not fit")
        sizes.append(size)
    return sizes[0], sizes[1], filters
''', kills=("conv2d_dilation_matches_keras", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units", "conv2d_accepts_pairs_for_kernel_strides_and_dilation")),
    Mistake("same_padding_computed_like_valid", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s, d in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides), as_pair(dilation_rate)):
        size = (n - d * (k - 1) - 1) // s + 1
        if size <= 0:
            raise ValueError("the window does not fit")
        sizes.append(size)
    return sizes[0], sizes[1], filters
''', kills=("conv2d_same_padding_matches_keras", "pool2d_follows_strides_and_same_padding", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units")),
    Mistake("same_padding_rounds_down", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s, d in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides), as_pair(dilation_rate)):
        size = n // s if padding == "same" else (n - d * (k - 1) - 1) // s + 1
        if size <= 0:
            raise ValueError("the window does not fit")
        sizes.append(size)
    return sizes[0], sizes[1], filters
''', kills=("conv2d_same_padding_matches_keras", "pool2d_follows_strides_and_same_padding", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units", "conv2d_accepts_pairs_for_kernel_strides_and_dilation", "pool2d_accepts_pairs")),
    Mistake("same_padding_ignores_the_strides", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s, d in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides), as_pair(dilation_rate)):
        size = n if padding == "same" else (n - d * (k - 1) - 1) // s + 1
        if size <= 0:
            raise ValueError("the window does not fit")
        sizes.append(size)
    return sizes[0], sizes[1], filters
''', kills=("conv2d_same_padding_matches_keras", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units", "conv2d_accepts_pairs_for_kernel_strides_and_dilation", "pool2d_accepts_pairs", "pool2d_follows_strides_and_same_padding")),
    Mistake("channels_copied_from_the_input", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s, d in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides), as_pair(dilation_rate)):
        size = math.ceil(n / s) if padding == "same" else (n - d * (k - 1) - 1) // s + 1
        if size <= 0:
            raise ValueError("the window does not fit")
        sizes.append(size)
    return sizes[0], sizes[1], input_shape[2]
''', kills=("conv2d_output_channels_are_the_filters", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units", "conv2d_raises_value_error_when_the_window_does_not_fit")),
    Mistake("pairs_use_only_their_first_value", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    first = lambda value: value if isinstance(value, int) else value[0]
    k, s, d = first(kernel_size), first(strides), first(dilation_rate)
    sizes = []
    for n in input_shape[:2]:
        size = math.ceil(n / s) if padding == "same" else (n - d * (k - 1) - 1) // s + 1
        if size <= 0:
            raise ValueError("the window does not fit")
        sizes.append(size)
    return sizes[0], sizes[1], filters
''', kills=("conv2d_accepts_pairs_for_kernel_strides_and_dilation", "pool2d_accepts_pairs", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units")),
    Mistake("returns_a_list", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s, d in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides), as_pair(dilation_rate)):
        size = math.ceil(n / s) if padding == "same" else (n - d * (k - 1) - 1) // s + 1
        if size <= 0:
            raise ValueError("the window does not fit")
        sizes.append(size)
    return [sizes[0], sizes[1], filters]
''', kills=("conv2d_valid_padding_matches_keras_at_stride_one", "conv2d_same_padding_matches_keras", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units", "conv2d_valid_padding_matches_keras_with_strides", "conv2d_dilation_matches_keras", "conv2d_accepts_pairs_for_kernel_strides_and_dilation", "conv2d_output_channels_are_the_filters", "conv2d_raises_value_error_when_the_window_does_not_fit")),
    Mistake("numpy_ceil_returns_floats", '''
import numpy as np


def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s, d in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides), as_pair(dilation_rate)):
        size = np.ceil(n / s) if padding == "same" else np.floor((n - d * (k - 1) - 1) / s) + 1
        if size <= 0:
            raise ValueError("the window does not fit")
        sizes.append(size)
    return sizes[0], sizes[1], filters
''', kills=("conv2d_valid_padding_matches_keras_at_stride_one", "conv2d_same_padding_matches_keras", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units", "conv2d_valid_padding_matches_keras_with_strides", "conv2d_dilation_matches_keras", "conv2d_accepts_pairs_for_kernel_strides_and_dilation", "conv2d_output_channels_are_the_filters", "conv2d_raises_value_error_when_the_window_does_not_fit", "pool2d_strides_default_to_the_pool_size", "pool2d_follows_strides_and_same_padding", "pool2d_accepts_pairs")),
    Mistake("no_value_error_when_the_window_does_not_fit", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s, d in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides), as_pair(dilation_rate)):
        size = math.ceil(n / s) if padding == "same" else (n - d * (k - 1) - 1) // s + 1
        sizes.append(max(size, 0))
    return sizes[0], sizes[1], filters
''', kills=("conv2d_raises_value_error_when_the_window_does_not_fit",
            "pool2d_raises_value_error_when_the_window_does_not_fit",
            "cnn_shape_walk_raises_value_error_when_a_layer_does_not_fit")),
    Mistake("a_window_as_large_as_the_input_is_refused", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s, d in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides), as_pair(dilation_rate)):
        if padding == "valid" and d * (k - 1) + 1 >= n:
            raise ValueError("the window does not fit")
        sizes.append(math.ceil(n / s) if padding == "same" else (n - d * (k - 1) - 1) // s + 1)
    return sizes[0], sizes[1], filters
''', kills=("conv2d_raises_value_error_when_the_window_does_not_fit",)),
    Mistake("the_error_check_forgets_dilation", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    sizes = []
    for n, k, s, d in zip(input_shape[:2], as_pair(kernel_size), as_pair(strides), as_pair(dilation_rate)):
        if padding == "valid" and k > n:
            raise ValueError("the window does not fit")
        sizes.append(math.ceil(n / s) if padding == "same" else (n - d * (k - 1) - 1) // s + 1)
    return sizes[0], sizes[1], filters
''', kills=("conv2d_raises_value_error_when_the_window_does_not_fit",), visible=False),
    Mistake("pool_strides_default_to_one", '''
def pool2d_output_shape(input_shape, pool_size=2, strides=None, padding="valid"):
    if strides is None:
        strides = 1
    height, width, _ = conv2d_output_shape(input_shape, input_shape[2], pool_size, strides, padding)
    return height, width, input_shape[2]
''', kills=("pool2d_strides_default_to_the_pool_size", "pool2d_accepts_pairs", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units")),
    Mistake("pool_ignores_its_strides", '''
def pool2d_output_shape(input_shape, pool_size=2, strides=None, padding="valid"):
    height, width, _ = conv2d_output_shape(input_shape, input_shape[2], pool_size, pool_size, padding)
    return height, width, input_shape[2]
''', kills=("pool2d_follows_strides_and_same_padding", "pool2d_accepts_pairs", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units")),
    Mistake("pool_ignores_its_padding", '''
def pool2d_output_shape(input_shape, pool_size=2, strides=None, padding="valid"):
    if strides is None:
        strides = pool_size
    height, width, _ = conv2d_output_shape(input_shape, input_shape[2], pool_size, strides)
    return height, width, input_shape[2]
''', kills=("pool2d_follows_strides_and_same_padding", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units")),
    Mistake("pool_divides_by_the_pool_size", '''
def pool2d_output_shape(input_shape, pool_size=2, strides=None, padding="valid"):
    height, width = (n // k for n, k in zip(input_shape[:2], as_pair(pool_size)))
    return height, width, input_shape[2]
''', kills=("pool2d_follows_strides_and_same_padding", "pool2d_raises_value_error_when_the_window_does_not_fit", "cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units")),
    Mistake("walk_feeds_the_input_to_every_layer", '''
def cnn_shape_walk(input_shape, layers):
    shapes = []
    for layer in layers:
        options = {key: value for key, value in layer.items() if key != "type"}
        if layer["type"] == "conv":
            shapes.append(conv2d_output_shape(input_shape, **options))
        elif layer["type"] == "pool":
            shapes.append(pool2d_output_shape(input_shape, **options))
        elif layer["type"] == "flatten":
            shapes.append((math.prod(shapes[-1]),))
        else:
            shapes.append((options["units"],))
    return shapes
''', kills=("cnn_shape_walk_matches_a_keras_model",)),
    Mistake("walk_starts_with_the_input_shape", '''
def cnn_shape_walk(input_shape, layers):
    shapes = [tuple(input_shape)]
    for layer in layers:
        options = {key: value for key, value in layer.items() if key != "type"}
        shape = shapes[-1]
        if layer["type"] == "conv":
            shapes.append(conv2d_output_shape(shape, **options))
        elif layer["type"] == "pool":
            shapes.append(pool2d_output_shape(shape, **options))
        elif layer["type"] == "flatten":
            shapes.append((math.prod(shape),))
        else:
            shapes.append(shape[:-1] + (options["units"],))
    return shapes
''', kills=("cnn_shape_walk_matches_a_keras_model", "cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units")),
    Mistake("flatten_returns_a_bare_int", '''
def cnn_shape_walk(input_shape, layers):
    shapes, shape = [], tuple(input_shape)
    for layer in layers:
        options = {key: value for key, value in layer.items() if key != "type"}
        if layer["type"] == "conv":
            shape = conv2d_output_shape(shape, **options)
        elif layer["type"] == "pool":
            shape = pool2d_output_shape(shape, **options)
        elif layer["type"] == "flatten":
            shape = math.prod(shape)
        else:
            shape = (options["units"],)
        shapes.append(shape)
    return shapes
''', kills=("cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units",)),
    Mistake("flatten_forgets_the_channels", '''
def cnn_shape_walk(input_shape, layers):
    shapes, shape = [], tuple(input_shape)
    for layer in layers:
        options = {key: value for key, value in layer.items() if key != "type"}
        if layer["type"] == "conv":
            shape = conv2d_output_shape(shape, **options)
        elif layer["type"] == "pool":
            shape = pool2d_output_shape(shape, **options)
        elif layer["type"] == "flatten":
            shape = (shape[0] * shape[1],)
        else:
            shape = (options["units"],)
        shapes.append(shape)
    return shapes
''', kills=("cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units",)),
    Mistake("walk_skips_layers_that_do_not_fit", '''
def cnn_shape_walk(input_shape, layers):
    shapes, shape = [], tuple(input_shape)
    for layer in layers:
        options = {key: value for key, value in layer.items() if key != "type"}
        try:
            if layer["type"] == "conv":
                shape = conv2d_output_shape(shape, **options)
            elif layer["type"] == "pool":
                shape = pool2d_output_shape(shape, **options)
            elif layer["type"] == "flatten":
                shape = (math.prod(shape),)
            else:
                shape = shape[:-1] + (options["units"],)
        except ValueError:
            continue
        shapes.append(shape)
    return shapes
''', kills=("cnn_shape_walk_raises_value_error_when_a_layer_does_not_fit",), visible=False),
    # Handing the shapes to Keras: the grader gives no point to a task that imports it (OWN_WORK).
    Mistake("asks_keras_itself", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    import keras
    layer = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                                dilation_rate=dilation_rate)
    return tuple(layer.compute_output_shape((None, *input_shape))[1:])


def pool2d_output_shape(input_shape, pool_size=2, strides=None, padding="valid"):
    import keras
    layer = keras.layers.MaxPooling2D(pool_size, strides=strides, padding=padding)
    return tuple(layer.compute_output_shape((None, *input_shape))[1:])


def cnn_shape_walk(input_shape, layers):
    import keras
    kinds = {"conv": keras.layers.Conv2D, "pool": keras.layers.MaxPooling2D,
             "flatten": keras.layers.Flatten, "dense": keras.layers.Dense}
    x = keras.Input(tuple(input_shape))
    shapes = []
    for layer in layers:
        options = {key: value for key, value in layer.items() if key != "type"}
        x = kinds[layer["type"]](**options)(x)
        shapes.append(tuple(x.shape[1:]))
    return shapes
''', kills=ALL_CHECKS, delegates=True, concept="Keras"),
    Mistake("walk_builds_a_keras_model_through_dunder_import", '''
def cnn_shape_walk(input_shape, layers):
    keras = __import__("keras")
    kinds = {"conv": keras.layers.Conv2D, "pool": keras.layers.MaxPooling2D,
             "flatten": keras.layers.Flatten, "dense": keras.layers.Dense}
    x = keras.Input(tuple(input_shape))
    shapes = []
    for layer in layers:
        options = {key: value for key, value in layer.items() if key != "type"}
        x = kinds[layer["type"]](**options)(x)
        shapes.append(tuple(x.shape[1:]))
    return shapes
''', kills=WALK, delegates=True, concept="Keras"),
]


# The real cause of each mistake, in words every message of the checks it fails must hold.
CONCEPTS = {
    'valid_forgets_the_plus_one': '+ 1',
    'valid_rounds_instead_of_flooring': 'floor(',
    'dilation_is_ignored': 'dilat',
    'dilation_multiplies_the_whole_kernel': 'dilat',
    'same_padding_computed_like_valid': 'ceil(',
    'same_padding_rounds_down': 'ceil(',
    'same_padding_ignores_the_strides': 'ceil(',
    'channels_copied_from_the_input': 'channel',
    'pairs_use_only_their_first_value': 'pair',
    'returns_a_list': 'tuple of Python ints',
    'numpy_ceil_returns_floats': 'tuple of Python ints',
    'no_value_error_when_the_window_does_not_fit': 'ValueError',
    'a_window_as_large_as_the_input_is_refused': 'fits once',
    'the_error_check_forgets_dilation': 'dilation',
    'pool_strides_default_to_one': 'pool_size',
    'pool_ignores_its_strides': 'strides',
    'pool_ignores_its_padding': "'same' padding",
    'pool_divides_by_the_pool_size': 'window',
    'walk_feeds_the_input_to_every_layer': 'previous layer',
    'walk_starts_with_the_input_shape': 'without the input shape',
    'flatten_returns_a_bare_int': '1-tuple',
    'flatten_forgets_the_channels': 'values in one axis',
    'walk_skips_layers_that_do_not_fit': 'ValueError',
}
MISTAKES = [replace(m, concept=m.concept or CONCEPTS[m.name]) for m in MISTAKES]

VARIANTS = [    Variant("math_floor_and_one_axis_at_a_time", '''
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    def one_axis(n, k, s, d):
        if padding == "same":
            return -(-n // s)
        out = math.floor((n - d * (k - 1) - 1) / s) + 1
        if out < 1:
            raise ValueError(f"window of {d * (k - 1) + 1} does not fit in {n}")
        return out

    kh, kw = as_pair(kernel_size)
    sh, sw = as_pair(strides)
    dh, dw = as_pair(dilation_rate)
    return (one_axis(input_shape[0], kh, sh, dh), one_axis(input_shape[1], kw, sw, dw), filters)


def pool2d_output_shape(input_shape, pool_size=2, strides=None, padding="valid"):
    strides = pool_size if strides is None else strides
    sizes = []
    for n, k, s in zip(input_shape[:2], as_pair(pool_size), as_pair(strides)):
        size = math.ceil(n / s) if padding == "same" else (n - k) // s + 1
        if size <= 0:
            raise ValueError("the pool window does not fit")
        sizes.append(size)
    return (*sizes, input_shape[2])
'''),
    Variant("ceil_of_the_span_that_fits_and_numpy_integers", '''
import numpy as np


def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    n = np.array(input_shape[:2])
    k, s, d = (np.broadcast_to(np.asarray(v), (2,)) for v in (kernel_size, strides, dilation_rate))
    if padding == "same":
        out = -(-n // s)
    else:
        out = -(-(n - d * (k - 1)) // s)  # ceil((n - span + 1) / s), the older TensorFlow docs formula
    if (out <= 0).any():
        raise ValueError("the window does not fit in the input")
    return int(out[0]), int(out[1]), int(filters)


def cnn_shape_walk(input_shape, layers):
    shape, shapes = input_shape, []
    for layer in layers:
        layer = dict(layer)
        kind = layer.pop("type")
        if kind == "flatten":
            shape = (int(np.prod(shape)),)
        elif kind == "dense":
            shape = (*shape[:-1], layer["units"])
        else:
            shape = {"conv": conv2d_output_shape, "pool": pool2d_output_shape}[kind](shape, **layer)
        shapes.append(tuple(shape))
    return shapes
'''),
]
