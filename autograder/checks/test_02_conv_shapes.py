"""Hidden checks for 02_conv_shapes: random layers and networks, shaped by Keras itself.

Every expected shape comes from Keras: ``Conv2D(...).compute_output_shape``,
``MaxPooling2D(...).compute_output_shape``, and for a walk a Functional model built layer by
layer from the same plain-data spec. The arithmetic in the messages only explains the answer.
In the spatial checks of ``conv2d_output_shape`` the input has as many channels as there are
filters, so that a wrong channel count loses the points of its own check only.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.api import CheckFailed, check, expect_error
from autograder.oracle import oracle
from autograder.sandbox import SubmissionError, SubmissionRaised
from grimoire.feedback import describe, format_call, mismatch, same_value
from grimoire.quiet import import_keras

keras = import_keras()
layers = keras.layers

# What the learner writes themselves (enforced by the grader, check by check): the point is the
# arithmetic, so no TensorFlow or Keras in the module (no compute_output_shape, no model).
OWN_WORK = {
    "conv2d_output_shape": {"no_framework": True},
    "pool2d_output_shape": {"no_framework": True},
    "cnn_shape_walk": {"no_framework": True},
}

KINDS = {"conv": layers.Conv2D, "pool": layers.MaxPooling2D, "flatten": layers.Flatten, "dense": layers.Dense}


# -- helpers ---------------------------------------------------------------------------------------
def pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def axis_size(n, k, s, d, padding):
    """One axis, with the arithmetic spelled out: (size, "floor((28 - 5) / 1) + 1 = 24")."""
    if padding == "same":
        size = math.ceil(n / s)
        return size, f"ceil({n} / {s}) = {size}"
    size = (n - d * (k - 1) - 1) // s + 1
    if d == 1:
        return size, f"floor(({n} - {k}) / {s}) + 1 = {size}"
    return size, f"floor(({n} - {d} * ({k} - 1) - 1) / {s}) + 1 = {size}"


def explain(shape, kernel, strides, dilation, padding):
    """How the two spatial sizes come out, in words."""
    (_, hx), (_, wx) = (axis_size(n, k, s, d, padding)
                        for n, k, s, d in zip(shape[:2], pair(kernel), pair(strides), pair(dilation)))
    if padding == "same":
        rule = ("'same' padding pads the border so that the window visits ceil(n / s) positions, "
                "whatever the kernel")
    elif pair(dilation) == (1, 1):
        rule = "'valid' padding keeps the positions where the whole window fits: floor((n - k) / s) + 1"
    else:
        rule = ("'valid' padding keeps the positions where the whole dilated window fits: "
                "floor((n - d * (k - 1) - 1) / s) + 1")
    axes = f"height and width {hx}" if hx == wx else f"height {hx}, width {wx}"
    return f"{rule}; here {axes}"


def plural(count, word):
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def same_numbers(got, expected) -> bool:
    """The same sizes, whatever their kind ([14, 14, 32] or np.float64 sizes for (14, 14, 32))."""
    try:
        return bool(np.array_equal(np.asarray(got, dtype=float), np.asarray(expected, dtype=float)))
    except (TypeError, ValueError):
        return False


KIND = "the sizes are right, but a shape is a tuple of Python ints, like Keras' own shapes"


def expect_shape(submission, name, *args, expected, concept, **options):
    """``expect``; an error raised instead of an answer, or the right sizes of the wrong kind,
    says so."""
    call = format_call(name, args, options)
    try:
        got = submission.call(name, *args, **options)
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}; expected {expected}: {concept}") from None
    if same_value(got, expected):
        return
    if same_numbers(got, expected):
        raise CheckFailed(f"{call} returned {describe(got)}; expected {expected}: {KIND}")
    raise CheckFailed(mismatch(call, got, expected, concept))


@oracle
def keras_conv(shape, filters, kernel_size, **options):
    layer = layers.Conv2D(filters, kernel_size, **options)
    return tuple(int(n) for n in layer.compute_output_shape((None, *shape))[1:])


@oracle
def keras_pool(shape, **options):
    layer = layers.MaxPooling2D(**options)
    return tuple(int(n) for n in layer.compute_output_shape((None, *shape))[1:])


def sized(rng, k, s=1, d=1, low=0, high=8, remainder=None):
    """An axis length on which a window of k taps, stride s, dilation d fits ``q + 1`` times."""
    span = d * (k - 1) + 1
    q = int(rng.integers(low, high))
    r = int(rng.integers(0, s)) if remainder is None else remainder
    return span + q * s + r


def expect_conv(submission, shape, filters, kernel_size, concept_extra="", **options):
    expected = keras_conv(shape, filters, kernel_size, **options)
    concept = explain(shape, kernel_size, options.get("strides", 1), options.get("dilation_rate", 1),
                      options.get("padding", "valid"))
    verb = "gives" if filters == 1 else "give"
    concept += f", and {plural(filters, 'filter')} {verb} {plural(filters, 'channel')}" + concept_extra
    expect_shape(submission, "conv2d_output_shape", shape, filters, kernel_size, expected=expected,
                 concept=concept, **options)


def expect_pool(submission, shape, concept_extra="", **options):
    expected = keras_pool(shape, **options)
    pool_size = options.get("pool_size", 2)
    strides = options.get("strides") or pool_size
    concept = explain(shape, pool_size, strides, 1, options.get("padding", "valid"))
    if options.get("strides") is None:
        concept = f"strides=None means strides = pool_size = {strides}; " + concept
    concept += f"; pooling keeps the {plural(shape[2], 'channel')}" + concept_extra
    expect_shape(submission, "pool2d_output_shape", shape, expected=expected, concept=concept, **options)


PAIR = (" (kernel_size, strides and dilation_rate may each be a pair: the first value along the "
        "height, the second along the width)")


# -- conv2d_output_shape ---------------------------------------------------------------------------
@check(task="conv2d_output_shape", points=2)
def test_conv2d_valid_padding_matches_keras_at_stride_one(submission, rng):
    for _ in range(5):
        k = int(rng.integers(1, 8))
        channels = int(rng.integers(1, 65))
        shape = (sized(rng, k, high=40), sized(rng, k, high=40), channels)
        expect_conv(submission, shape, channels, k)


@check(task="conv2d_output_shape", points=2)
def test_conv2d_valid_padding_matches_keras_with_strides(submission, rng):
    cases = []
    for index in range(5):
        # The first cases leave s - 1 pixels over (s >= 3): rounding instead of flooring shows.
        s = int(rng.integers(3, 5)) if index < 2 else int(rng.integers(2, 5))
        k = int(rng.integers(1, 8))
        remainder = s - 1 if index < 2 else None
        shape = (sized(rng, k, s, remainder=remainder), sized(rng, k, s, remainder=remainder),
                 int(rng.integers(1, 33)))
        cases.append((shape, k, s))
    for shape, k, s in cases:
        expect_conv(submission, shape, shape[2], k, strides=s, padding="valid")


@check(task="conv2d_output_shape", points=2)
def test_conv2d_same_padding_matches_keras(submission, rng):
    for index in range(6):
        s = 1 if index < 2 else int(rng.integers(2, 5))
        k = int(rng.integers(2, 10))
        n = int(rng.integers(3, 40))
        if s > 1 and n % s == 0:
            n += 1  # a size that does not divide: ceil and floor differ
        shape = (n, n, int(rng.integers(1, 33)))
        expect_conv(submission, shape, shape[2], k, strides=s, padding="same")


@check(task="conv2d_output_shape", points=1)
def test_conv2d_dilation_matches_keras(submission, rng):
    for index in range(5):
        k, d = int(rng.integers(2, 6)), int(rng.integers(2, 5))
        padding = "same" if index == 4 else "valid"
        n = sized(rng, k, d=d, high=20)
        shape = (n, n, int(rng.integers(1, 17)))
        expect_conv(submission, shape, shape[2], k, padding=padding, dilation_rate=d,
                    concept_extra=f" (a {k}-tap kernel with dilation {d} spans {d} * ({k} - 1) + 1 = "
                                  f"{d * (k - 1) + 1} pixels)")


@check(task="conv2d_output_shape", points=1)
def test_conv2d_accepts_pairs_for_kernel_strides_and_dilation(submission, rng):
    for index in range(5):
        # A dilated axis needs a kernel of 2 taps or more for its dilation to show.
        kh, kw = (int(n) for n in rng.choice(range(1 if index < 3 else 2, 8), size=2, replace=False))
        channels = int(rng.integers(1, 17))
        if index < 3:
            sh, sw = (int(n) for n in rng.choice(range(1, 5), size=2, replace=False))
            padding = "same" if index == 1 else "valid"
            shape = (sized(rng, kh, sh), sized(rng, kw, sw) + int(rng.integers(0, 9)), channels)
            if padding == "same":  # sizes the strides do not divide: ceil and floor differ
                shape = tuple(n + 1 if s > 1 and n % s == 0 else n
                              for n, s in zip(shape[:2], (sh, sw))) + (channels,)
            expect_conv(submission, shape, channels, (kh, kw), strides=(sh, sw), padding=padding,
                        concept_extra=PAIR)
        else:
            dh, dw = (int(n) for n in rng.choice(range(1, 4), size=2, replace=False))
            shape = (sized(rng, kh, d=dh), sized(rng, kw, d=dw), channels)
            expect_conv(submission, shape, channels, (kh, kw), dilation_rate=(dh, dw), concept_extra=PAIR)


@check(task="conv2d_output_shape", points=1)
def test_conv2d_output_channels_are_the_filters(submission, rng):
    for _ in range(4):
        channels, filters = (int(n) for n in rng.choice(range(1, 129), size=2, replace=False))
        k = int(rng.integers(1, 6))
        shape = (sized(rng, k), sized(rng, k), channels)
        expect_conv(submission, shape, filters, k,
                    concept_extra=f" (every filter reads all {channels} input channels and "
                                  "writes one output channel)")


@check(task="conv2d_output_shape", points=1)
def test_conv2d_raises_value_error_when_the_window_does_not_fit(submission, rng):
    for index in range(4):
        k = int(rng.integers(2, 8))
        d = 1 if index < 2 else int(rng.integers(2, 4))
        span = d * (k - 1) + 1
        # Without dilation the kernel is larger than the input; with it, only its span is.
        n = span - int(rng.integers(1, min(span, 4))) if d == 1 else int(rng.integers(k, span))
        other = span + int(rng.integers(0, 10))
        shape = (n, other, 3) if index % 2 else (other, n, 3)
        options = {"dilation_rate": d} if d > 1 else {}
        try:
            keras_conv(shape, 8, k, **options)
        except ValueError:
            pass
        else:  # pragma: no cover  (the case is built not to fit)
            raise AssertionError(f"Keras accepted {shape} with kernel {k}, dilation {d}")
        window = f"a {k}-tap kernel" + (f" with dilation {d} spans {span} pixels and" if d > 1 else "")
        expect_error(submission, "conv2d_output_shape", shape, 8, k, error="ValueError",
                     concept=f"with 'valid' padding {window} does not fit in {plural(n, 'pixel')}: the "
                             "output size would be zero or negative, and Keras raises ValueError",
                     **options)
    # A window exactly as large as the input fits once.
    k = int(rng.integers(2, 8))
    expect_conv(submission, (k, k, 3), 8, k,
                concept_extra=" (a window exactly as large as the input fits once: that is no error)")


# -- pool2d_output_shape ---------------------------------------------------------------------------
@check(task="pool2d_output_shape", points=2)
def test_pool2d_strides_default_to_the_pool_size(submission, rng):
    for index in range(5):
        k = 2 if index == 0 else int(rng.integers(2, 5))
        height = sized(rng, k, k, remainder=k - 1)
        if k == 2 and (height - 2) // 2 % 2 == 0:
            height += 2  # (n - 2) / 2 = q + 0.5 with q odd: round() goes up, floor does not
        shape = (height, sized(rng, k, k), int(rng.integers(1, 65)))
        options = {} if index == 0 else {"pool_size": k}
        expect_pool(submission, shape, **options)


@check(task="pool2d_output_shape", points=1)
def test_pool2d_follows_strides_and_same_padding(submission, rng):
    for index in range(5):
        if index == 0:  # windows that overlap on a size that stride 2 does not divide
            k, s = int(rng.integers(3, 5)), 2
        else:
            k, s = int(rng.integers(2, 5)), int(rng.integers(1, 4))
            if s == k:
                s = k - 1
        padding = "same" if index < 3 else "valid"
        n = sized(rng, k, s, high=12)
        if padding == "same" and n % s == 0 and s > 1:
            n += 1
        shape = (n, n, int(rng.integers(1, 33)))
        expect_pool(submission, shape, pool_size=k, strides=s, padding=padding)


@check(task="pool2d_output_shape", points=1)
def test_pool2d_accepts_pairs(submission, rng):
    for index in range(4):
        kh, kw = (int(n) for n in rng.choice(range(1, 5), size=2, replace=False))
        channels = int(rng.integers(1, 33))
        if index < 2:
            shape = (sized(rng, kh, kh), sized(rng, kw, kw), channels)
            expect_pool(submission, shape, pool_size=(kh, kw), concept_extra=PAIR)
        else:
            sh, sw = (int(n) for n in rng.choice(range(1, 4), size=2, replace=False))
            padding = "same" if index == 3 else "valid"
            shape = (sized(rng, kh, sh), sized(rng, kw, sw), channels)
            if padding == "same":  # sizes the strides do not divide: ceil and floor differ
                shape = tuple(n + 1 if s > 1 and n % s == 0 else n
                              for n, s in zip(shape[:2], (sh, sw))) + (channels,)
            expect_pool(submission, shape, pool_size=(kh, kw), strides=(sh, sw), padding=padding,
                        concept_extra=PAIR)


@check(task="pool2d_output_shape", points=1)
def test_pool2d_raises_value_error_when_the_window_does_not_fit(submission, rng):
    for index in range(3):
        k = int(rng.integers(3, 7))
        n = k - int(rng.integers(1, k))
        shape = (n, k + 4, 5) if index % 2 else (k + 4, n, 5)
        options = {"pool_size": k} if index else {"pool_size": k, "strides": 1}
        expect_error(submission, "pool2d_output_shape", shape, error="ValueError",
                     concept=f"with 'valid' padding a {k}-wide pool window does not fit in "
                             f"{plural(n, 'pixel')}: the output size would be zero or negative, "
                             "and Keras raises ValueError", **options)
    expect_error(submission, "pool2d_output_shape", (1, 1, 4), error="ValueError",
                 concept="the default 2 x 2 pool window does not fit in a 1 x 1 map")


# -- cnn_shape_walk --------------------------------------------------------------------------------
@oracle(copy=True)
def keras_walk(input_shape, spec):
    """Shapes after each layer of a Functional model built from ``spec`` (ValueError if one does not fit)."""
    x = keras.Input(tuple(input_shape))
    shapes = []
    for entry in spec:
        options = {key: value for key, value in entry.items() if key != "type"}
        x = KINDS[entry["type"]](**options)(x)
        shapes.append(tuple(int(n) for n in x.shape[1:]))
    return shapes


def random_conv(rng):
    entry = {"type": "conv", "filters": int(rng.choice([4, 8, 16, 32, 64])),
             "kernel_size": int(rng.integers(1, 6)) if rng.random() < 0.7
             else tuple(int(n) for n in rng.integers(1, 6, size=2))}
    if rng.random() < 0.4:
        entry["strides"] = 2
    elif rng.random() < 0.3:
        entry["dilation_rate"] = 2
    if rng.random() < 0.4:
        entry["padding"] = str(rng.choice(["valid", "same"]))
    return entry


def random_pool(rng):
    entry = {"type": "pool"}
    if rng.random() < 0.6:
        entry["pool_size"] = int(rng.integers(2, 4))
    if rng.random() < 0.4:
        entry["strides"] = int(rng.integers(1, 3))
    if rng.random() < 0.4:
        entry["padding"] = str(rng.choice(["valid", "same"]))
    return entry


@oracle(copy=True)
def random_walk(rng, length, prefix=()):
    """A random conv/pool network on a random input, every layer fitting (checked with Keras).

    ``prefix``: (input shape, spec) of a targeted start the random layers follow.
    """
    if prefix:
        input_shape, spec = prefix[0], list(prefix[1])
    else:
        input_shape = (int(rng.integers(20, 65)), int(rng.integers(20, 65)), int(rng.integers(1, 4)))
        spec = []
    for index in range(length):
        for _ in range(20):
            entry = random_conv(rng) if index % 2 == 0 or rng.random() < 0.3 else random_pool(rng)
            try:
                keras_walk(input_shape, spec + [entry])
            except ValueError:
                continue
            spec.append(entry)
            break
    return input_shape, spec


TARGETED_SPEC = [
    {"type": "conv", "filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"},
    {"type": "pool"},
    {"type": "conv", "filters": 16, "kernel_size": (3, 5), "dilation_rate": 2},
    {"type": "pool", "pool_size": 3, "strides": 2, "padding": "same"},
    {"type": "conv", "filters": 32, "kernel_size": 2, "strides": 3},
]


def _spec_sizes(size: int, axis: int) -> list[int]:
    """One axis of a map walked through TARGETED_SPEC, with the arithmetic of the messages."""
    sizes = []
    for entry in TARGETED_SPEC:
        pool = entry["type"] == "pool"
        k = pair(entry.get("pool_size", 2) if pool else entry["kernel_size"])[axis]
        s = pair(entry.get("strides") or (entry.get("pool_size", 2) if pool else 1))[axis]
        d = pair(entry.get("dilation_rate", 1))[axis]
        size = axis_size(size, k, s, d, entry.get("padding", "valid"))[0]
        sizes.append(size)
    return sizes


def _targeted_sizes(axis: int) -> list[int]:
    """Odd input sizes on which every layer of TARGETED_SPEC shows its rule along ``axis``:
    'same' at stride 2 on an odd size, the 'same' pool on an odd size, and the stride-3 conv
    with two pixels left over."""
    return [n for n in range(21, 140, 2)
            if _spec_sizes(n, axis)[2] % 2 == 1 and _spec_sizes(n, axis)[3] >= 4
            and (_spec_sizes(n, axis)[3] - 2) % 3 == 2]


TARGETED_SIZES = (_targeted_sizes(0), _targeted_sizes(1))


def targeted_walk(rng):
    """A walk whose layers use every rule, on sizes where each rule shows, every seed.

    A conv with 'same' padding and stride 2 on odd sizes (ceil, not floor), a pool with its
    default strides, a dilated conv with a rectangular kernel, a pool with 'same' padding and
    stride 2 on an odd size, and a 'valid' conv with stride 3 and two pixels left over (floor,
    not round). The layers have their own filters, never the input's channel count.
    """
    height, width = (int(rng.choice(sizes[:6])) for sizes in TARGETED_SIZES)
    return (height, width, int(rng.integers(1, 4))), [dict(entry) for entry in TARGETED_SPEC]


def layer_rule(entry, shape) -> str:
    """What one layer of a walk does to the shape it reads, with the arithmetic of this case."""
    options = {key: value for key, value in entry.items() if key != "type"}
    pairs = PAIR if any(isinstance(value, (tuple, list)) for value in options.values()) else ""
    if entry["type"] == "conv":
        filters = options["filters"]
        return (explain(shape, options["kernel_size"], options.get("strides", 1),
                        options.get("dilation_rate", 1), options.get("padding", "valid"))
                + f", and {plural(filters, 'filter')} give {plural(filters, 'channel')}{pairs}")
    if entry["type"] == "pool":
        pool_size = options.get("pool_size", 2)
        strides = options.get("strides") or pool_size
        rule = explain(shape, pool_size, strides, 1, options.get("padding", "valid"))
        if options.get("strides") is None:
            rule = f"a pool's strides default to its pool_size ({strides}); " + rule
        return rule + f"; pooling keeps the {plural(shape[-1], 'channel')}{pairs}"
    if entry["type"] == "flatten":
        size = math.prod(shape)
        return (f"Flatten puts {' * '.join(str(n) for n in shape)} = {size} values in one axis, "
                f"the 1-tuple ({size},)")
    return f"Dense({options['units']}) replaces the last axis by its units"


def first_wrong_layer(submission, input_shape, spec, expected) -> str:
    """The rule of the first conv or pool layer your own functions get wrong (or raise on)."""
    shape = tuple(input_shape)
    functions = {"conv": "conv2d_output_shape", "pool": "pool2d_output_shape"}
    for index, (entry, theirs) in enumerate(zip(spec, expected), 1):
        if entry["type"] in functions:
            options = {key: value for key, value in entry.items() if key != "type"}
            try:
                mine = submission.call(functions[entry["type"]], shape, **options)
            except SubmissionError:
                mine = None
            if not same_value(mine, theirs):
                return f"layer {index}, {entry}, reads {shape} and gives {theirs}: {layer_rule(entry, shape)}"
        shape = theirs
    return "every layer fits with the rules of conv2d_output_shape and pool2d_output_shape"


def expect_walk(submission, input_shape, spec, expected, concept):
    call = f"cnn_shape_walk({input_shape}, layers) with layers = {spec}"
    try:
        got = submission.call("cnn_shape_walk", input_shape, spec)
    except SubmissionRaised as raised:
        raise CheckFailed(f"{raised}; expected {expected}: {first_wrong_layer(submission, input_shape, spec, expected)}"
                          f" ({concept})") from None
    if type(got) is not list:
        raise CheckFailed(f"{call} returned {describe(got)}; expected a list of {len(expected)} "
                          f"shapes, one per layer: {expected}")
    if len(got) != len(expected):
        raise CheckFailed(f"{call} returned {len(got)} shapes for {len(spec)} layers: {got}; "
                          f"expected one shape per layer, in order, without the input shape: {expected}")
    shape = tuple(input_shape)
    for index, (entry, mine, theirs) in enumerate(zip(spec, got, expected), 1):
        if not same_value(mine, theirs) and same_numbers(mine, theirs):
            raise CheckFailed(f"{call}: layer {index}, {entry}, reads {shape}; your walk says "
                              f"{describe(mine)}, a Keras model built from the same layers says "
                              f"{describe(theirs)}: {KIND}")
        if not same_value(mine, theirs):
            raise CheckFailed(
                f"{call}: layer {index}, {entry}, reads {shape}; your walk says {describe(mine)}, "
                f"a Keras model built from the same layers says {describe(theirs)}: "
                f"{layer_rule(entry, shape)} ({concept})")
        shape = theirs


@check(task="cnn_shape_walk", points=2)
def test_cnn_shape_walk_matches_a_keras_model(submission, rng):
    walks = [random_walk(rng, 1, prefix=targeted_walk(rng))]
    walks += [random_walk(rng, length) for length in (3, 4)]
    for input_shape, spec in walks:
        expect_walk(submission, input_shape, spec, keras_walk(input_shape, spec),
                    "each layer reads the shape the previous layer produced, with the rules "
                    "of conv2d_output_shape and pool2d_output_shape")


@check(task="cnn_shape_walk", points=1)
def test_cnn_shape_walk_flattens_to_a_one_tuple_and_reads_dense_units(submission, rng):
    for input_shape, spec in (targeted_walk(rng), random_walk(rng, 2)):
        spec = spec + [{"type": "flatten"}, {"type": "dense", "units": int(rng.integers(2, 129))}]
        expect_walk(submission, input_shape, spec, keras_walk(input_shape, spec),
                    "each layer reads the shape the previous layer produced; Flatten gives a "
                    "1-tuple, and Dense(units) then gives (units,)")


@check(task="cnn_shape_walk", points=1)
def test_cnn_shape_walk_raises_value_error_when_a_layer_does_not_fit(submission, rng):
    for input_shape, spec in (targeted_walk(rng), random_walk(rng, 2)):
        height, width = keras_walk(input_shape, spec)[-1][:2]
        # Larger than the input itself: no rule, right or wrong, makes this window fit.
        k = max(input_shape[:2]) + int(rng.integers(1, 4))
        spec = spec + [{"type": "conv", "filters": 8, "kernel_size": k, "padding": "valid"}]
        try:
            keras_walk(input_shape, spec)
        except ValueError:
            pass
        else:  # pragma: no cover  (the last layer is built not to fit)
            raise AssertionError(f"Keras accepted {spec} on {input_shape}")
        expect_error(submission, "cnn_shape_walk", input_shape, spec, error="ValueError",
                     concept=f"after {len(spec) - 1} layers the map is {height} x {width}, and the "
                             f"last layer's {k} x {k} window does not fit with 'valid' padding; "
                             "Keras refuses to build such a model")
