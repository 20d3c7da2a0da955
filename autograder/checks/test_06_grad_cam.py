"""Hidden checks for 06_grad_cam: heatmaps on seeded random CNNs and on a hand-set model.

The learner's function runs in the child on a model the probe builds from plain data
(:mod:`autograder.probes.grad_cam`); the grader builds the same model (same seed, same weights)
and computes the oracle heatmap with the Grad-CAM recipe of keras.io. The hand-set two-blob
model checks meaning rather than numbers: its evidence for class 0 is the bright blob, for
class 1 the dark one, so a right heatmap lights up exactly there.
"""

from __future__ import annotations

import numpy as np

from autograder.api import CheckFailed, check, expect_that
from autograder.oracle import oracle
from autograder.probes.grad_cam import (CONV_OUTPUT, CONV_PRE_ACTIVATION, random_cnn,
                                        two_blob_model)
from autograder.wire import Opaque
from grimoire.feedback import describe
from grimoire.quiet import import_keras

keras = import_keras()
import tensorflow as tf  # noqa: E402  (after the quiet import)

# Grad-CAM is written with TensorFlow and Keras (a GradientTape, a sub-model): nothing to forbid.
OWN_WORK: dict = {}

TOPIC = "06_grad_cam"
ATOL, RTOL = 1e-4, 1e-3
GRAD_CAM = ("Grad-CAM weighs each channel k of the layer's output A by the mean over space of "
            "the gradient d(score of the class) / dA_k, adds the weighted channels, keeps the positive part "
            "(ReLU) and divides by the maximum")


# -- the oracle -------------------------------------------------------------------------------
class Oracle:
    """Grad-CAM of one model and layer, computed in the grader (the keras.io recipe, in float64)."""

    def __init__(self, model, layer_name: str):
        self.model = model
        self.layer_name = layer_name
        self.grad_model = keras.Model(model.input, [model.get_layer(layer_name).output, model.output])

    def raw(self, images, class_indices) -> np.ndarray:
        """The weighted sums of channels before ReLU and scaling, one per image: (n, h, w).

        The images of a batch are independent, so the gradient of the sum of their chosen
        scores holds each image's own gradient.
        """
        with tf.GradientTape() as tape:
            activations, scores = self.grad_model(images)
            chosen = tf.gather(scores, np.asarray(class_indices).reshape(-1), axis=1, batch_dims=1)
            total = tf.reduce_sum(chosen)
        grads = tape.gradient(total, activations).numpy().astype("float64")
        weights = grads.mean(axis=(1, 2))
        return np.einsum("nhwk,nk->nhw", activations.numpy().astype("float64"), weights)

    def heatmap(self, image, class_index: int) -> np.ndarray:
        """The expected heatmap of a batch of one image, computed on that batch alone."""
        return scaled(self.raw(image, [class_index])[0])


def scaled(raw: np.ndarray) -> np.ndarray:
    """ReLU, then divide by the maximum when there is one: per map, over the last two axes."""
    positive = np.maximum(raw, 0.0)
    peak = positive.max(axis=(-2, -1), keepdims=True)
    return np.divide(positive, peak, out=np.zeros_like(positive), where=peak > 0)


# -- comparing and explaining -----------------------------------------------------------------
def as_array(got):
    """The submitted heatmap as an array, if it is one (a tensor's contents count here)."""
    if isinstance(got, np.ndarray):
        return got
    if isinstance(got, Opaque) and got.array is not None:
        return got.array
    return None


def problem(got, expected: np.ndarray) -> str | None:
    """None when ``got`` is the expected heatmap; else what is wrong with it, in words."""
    array = as_array(got)
    if array is None:
        return f"returned {describe(got)}, not an array"
    if array.shape != expected.shape:
        return (f"returned an array of shape {array.shape}; the heatmap has the layer's spatial "
                f"size {expected.shape} (no batch axis, no channel axis)")
    if array.dtype.kind not in "fiu":
        return f"returned an array of dtype {array.dtype}"
    values = array.astype("float64")
    if np.isnan(values).any():
        return "returned a heatmap with NaN in it (0 / 0 when nothing is positive?)"
    if np.allclose(values, expected, rtol=RTOL, atol=ATOL):
        return None
    worst = np.unravel_index(np.argmax(np.abs(values - expected)), expected.shape)
    where = (f"at {tuple(int(i) for i in worst)} it holds {values[worst]:.4f} where Grad-CAM "
             f"gives {expected[worst]:.4f}")
    if values.min() < -ATOL:
        return f"returned a heatmap with negative values ({where}): ReLU keeps only positive evidence"
    if expected.max() > 0 and not np.isclose(values.max(), 1.0, atol=ATOL):
        return f"returned a heatmap whose maximum is {values.max():.4f}, not 1 ({where})"
    return f"returned a different heatmap: {where}"


def picture(pictures, check_name: str, image, expected, got) -> str:
    """Draw input, expected and submitted heatmaps side by side; '' if there is nowhere to draw."""
    if pictures is None:
        return ""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(10, 3.2), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots(1, 3)
        axes[0].imshow(np.asarray(image)[0].mean(axis=-1), cmap="gray")
        axes[0].set_title("input")
        array = as_array(got)
        drawable = array is not None and array.dtype.kind in "fiu" and np.squeeze(array).ndim == 2
        mine = np.squeeze(array).astype("float64") if drawable else None
        # One scale for both maps, wide enough for yours: values below 0 (no ReLU) or above 1
        # (not scaled) must show, not be clipped to the colour of 0 or 1.
        finite = mine[np.isfinite(mine)] if drawable else np.zeros(0)
        low = min(0.0, float(finite.min(initial=0.0)))
        high = max(1.0, float(finite.max(initial=1.0)))
        shown = axes[1].imshow(expected, cmap="jet", vmin=low, vmax=high)
        axes[1].set_title("expected")
        figure.colorbar(shown, ax=list(axes[1:]), shrink=0.8)
        if drawable:
            axes[2].imshow(mine, cmap="jet", vmin=low, vmax=high)
            axes[2].set_title("yours" + (f" (squeezed from {array.shape})" if array.ndim != 2 else ""))
        else:
            axes[2].text(0.5, 0.5, f"not a 2-D map:\n{describe(got)[:60]}", ha="center", va="center",
                         wrap=True)
            axes[2].set_title("yours")
        for axis in axes:
            axis.set_xticks([])
            axis.set_yticks([])
        path = pictures / f"{TOPIC}-{check_name}.png"
        figure.savefig(path, dpi=80)
        return f" (picture: {path})"
    except Exception:  # a picture is a courtesy; it must never break a verdict
        return ""


def call_text(image, model_text: str, layer_name: str, pred_index) -> str:
    args = f"<image {tuple(image.shape)}>, {model_text}, {layer_name!r}"
    return f"make_gradcam_heatmap({args}{'' if pred_index is None else f', pred_index={pred_index}'})"


def ignored_choice(pred_index, top_class) -> str:
    """What returning the top class's heatmap for a chosen class means."""
    zero = (" (0 is a class: test `pred_index is None`, not `if not pred_index`)"
            if pred_index == 0 else "")
    return (f"returned the heatmap of the top class{'' if top_class is None else f' (class {top_class})'},"
            f" not of class {pred_index}: pred_index was ignored{zero}")


def compare(pictures, check_name, results, cases, expected_maps, model_text, concept, tops=None):
    tops = tops or [None] * len(cases)
    for got, (image, layer_name, pred_index), expected, top in zip(results, cases, expected_maps, tops):
        trouble = problem(got, expected)
        if trouble and pred_index is not None and top is not None and problem(got, top) is None:
            trouble = ignored_choice(pred_index, None)
        if trouble:
            drawn = picture(pictures, check_name, image, expected, got)
            raise CheckFailed(f"{call_text(image, model_text, layer_name, pred_index)} {trouble}; "
                              f"{concept}{drawn}")


# -- random CNNs --------------------------------------------------------------------------------
def random_spec(rng, head: str, height=None, width=None) -> dict:
    return {
        "seed": int(rng.integers(2**31)),
        "height": int(rng.integers(10, 17)) if height is None else height,
        "width": int(rng.integers(10, 17)) if width is None else width,
        "channels": int(rng.integers(1, 4)),
        "filters": [int(rng.integers(3, 8)), int(rng.integers(3, 8))],
        "head": head,
        "classes": int(rng.integers(3, 6)),
    }


def model_text(spec: dict) -> str:
    return (f"<random CNN {spec['height']}x{spec['width']}x{spec['channels']} -> "
            f"{spec['classes']} classes, {spec['head']} head, seed {spec['seed']}>")


def usable(raw: np.ndarray, shape: str) -> np.ndarray:
    """Which maps (n, h, w) are worth comparing: clearly positive somewhere, of the wanted kind.

    ``shape``: "mixed" (some places clearly negative before ReLU), "positive" (every place
    clearly positive, so min-max scaling would differ from dividing by the max) or "any".
    """
    peak = raw.max(axis=(1, 2))
    lowest = raw.min(axis=(1, 2))
    good = (peak >= 0.01) & (peak >= 0.05 * np.abs(raw).max(axis=(1, 2)))
    if shape == "mixed":
        good &= lowest < -0.1 * peak
    elif shape == "positive":
        good &= lowest > 0.1 * peak
    return good


IMAGES_PER_MODEL = 64
MODEL_ATTEMPTS = 50  # random models often prefer one class; 2 draws are typical, 7 the most seen


@oracle
def draw_cases(rng, head: str, wanted: list[tuple], height=None, width=None):
    """A random CNN and one image per wanted case, each meeting its conditions.

    ``wanted``: (layer name, "top" or "chosen", shape, about class 0) per case. For "top" the
    model's top class must win clearly (and must not be class 0 when asked); for "chosen" the
    chosen class is not the top one (class 0 when asked), and its heatmap differs clearly
    from the top class's. Candidate images are screened in one batch per model. Returns the
    spec, the cases, their expected heatmaps and the top class's heatmap of each case.
    """
    for _ in range(MODEL_ATTEMPTS):
        spec = random_spec(rng, head, height, width)
        model = random_cnn(spec)
        shape = (IMAGES_PER_MODEL, spec["height"], spec["width"], spec["channels"])
        images = rng.normal(size=shape).astype("float32")
        scores = model(images).numpy()
        order = np.argsort(scores, axis=1)
        top = order[:, -1]
        margin = scores[np.arange(len(top)), top] - scores[np.arange(len(top)), order[:, -2]]
        others = (top + rng.integers(1, spec["classes"], size=len(top))) % spec["classes"]
        oracles, cases, expected, tops, taken = {}, [], [], [], set()
        for layer_name, mode, kind, about_zero in wanted:
            explainer = oracles.setdefault(layer_name, Oracle(model, layer_name))
            good = np.ones(len(top), dtype=bool)
            if about_zero:
                good &= top != 0
            if mode == "top":
                index = top
                good &= margin >= 0.2
            else:
                index = np.zeros_like(top) if about_zero else others
            raw = explainer.raw(images, index)
            good &= usable(raw, kind)
            if mode == "chosen":
                distance = np.abs(scaled(raw) - scaled(explainer.raw(images, top))).max(axis=(1, 2))
                good &= distance >= 0.1
            good[list(taken)] = False
            if not good.any():
                break
            pick = int(np.argmax(good))
            taken.add(pick)
            image = images[pick : pick + 1]
            cases.append((image, layer_name, None if mode == "top" else int(index[pick])))
            expected.append(explainer.heatmap(image, int(index[pick])))
            tops.append(explainer.heatmap(image, int(top[pick])))
        if len(cases) == len(wanted):
            return spec, cases, expected, tops
    raise RuntimeError("could not draw random Grad-CAM cases")  # a grader fault, not the learner's


def random_cnn_heatmaps(submission, spec, cases):
    return submission.probe(
        "grad_cam:random_cnn_heatmaps", spec, cases, timeout=30,
        describe=f"make_gradcam_heatmap on {model_text(spec)}")


@check(task="make_gradcam_heatmap", points=1)
def test_heatmap_is_a_2d_numpy_array_of_the_layers_spatial_size(submission, rng):
    # Every seed: a map of the usual size, one a single row high and one a single column wide
    # (a squeeze() without an axis drops those).
    for height, width in ((None, None), (int(rng.integers(6, 8)), None), (None, int(rng.integers(6, 8)))):
        spec, cases, expected, _ = draw_cases(rng, "gap", [(CONV_OUTPUT, "top", "any", False)],
                                              height=height, width=width)
        (got,) = random_cnn_heatmaps(submission, spec, cases)
        image, layer_name, pred_index = cases[0]
        call = call_text(image, model_text(spec), layer_name, pred_index)
        size = expected[0].shape
        concept = (f"the input is {spec['height']}x{spec['width']} but {layer_name!r} outputs "
                   f"(1, {size[0]}, {size[1]}, channels): the heatmap is one number per place of "
                   f"that layer, shape {size} (no batch axis, no channel axis), returned as a NumPy "
                   "array (a tensor's .numpy())")
        expect_that(isinstance(got, np.ndarray), f"{call} returned {describe(got)}; expected an "
                    f"np.ndarray of shape {size}: {concept}")
        squeezed = ("; a squeeze() without an axis drops every axis of size 1, the spatial ones "
                    "too: name the axis to drop (axis=-1)"
                    if got.shape != size and got.size == expected[0].size and 1 in size else "")
        expect_that(got.shape == size and got.dtype.kind == "f",
                    f"{call} returned {describe(got)}; expected a float array of shape {size}: "
                    f"{concept}{squeezed}")


@check(task="make_gradcam_heatmap", points=3)
def test_heatmap_matches_grad_cam_for_the_top_class(submission, rng, pictures):
    concept = (f"{GRAD_CAM}; with pred_index=None the class explained is the one the model "
               "scores highest (its logits, not softmax probabilities)")
    # Between them the cases hold: evidence against the class (ReLU matters), a map positive
    # everywhere (min-max scaling differs from dividing by the max), a top class other than 0,
    # the output of an Activation layer (not a Conv2D) and gradients that vary over space.
    plans = [
        ("gap", [(CONV_OUTPUT, "top", "mixed", False), (CONV_PRE_ACTIVATION, "top", "any", False)]),
        ("flatten", [(CONV_OUTPUT, "top", "positive", False), (CONV_PRE_ACTIVATION, "top", "mixed", True)]),
    ]
    for head, wanted in plans:
        spec, cases, expected, _ = draw_cases(rng, head, wanted)
        results = random_cnn_heatmaps(submission, spec, cases)
        compare(pictures, "heatmap_matches_grad_cam_for_the_top_class", results, cases, expected,
                model_text(spec), concept)


@check(task="make_gradcam_heatmap", points=2)
def test_heatmap_matches_grad_cam_for_a_chosen_class(submission, rng, pictures):
    concept = (f"{GRAD_CAM}; pred_index names the class to explain, whichever class the model "
               "prefers (and pred_index=0 is a class, not 'no choice')")
    # The first case asks for class 0 while another class wins: 0 is a choice, not None.
    plans = [
        ("gap", [(CONV_OUTPUT, "chosen", "any", True), (CONV_OUTPUT, "chosen", "any", False)]),
        ("flatten", [(CONV_OUTPUT, "chosen", "any", False), (CONV_PRE_ACTIVATION, "chosen", "any", False)]),
    ]
    for head, wanted in plans:
        spec, cases, expected, tops = draw_cases(rng, head, wanted)
        results = random_cnn_heatmaps(submission, spec, cases)
        compare(pictures, "heatmap_matches_grad_cam_for_a_chosen_class", results, cases, expected,
                model_text(spec), concept, tops)


# -- the hand-set two-blob model ------------------------------------------------------------------
def blob_image(size: int, bright, dark, bright_strength=1.0, dark_strength=1.0):
    image = np.zeros((1, size, size, 1), dtype="float32")
    if bright is not None:
        image[0, bright[0] : bright[0] + 2, bright[1] : bright[1] + 2, 0] = bright_strength
    if dark is not None:
        image[0, dark[0] : dark[0] + 2, dark[1] : dark[1] + 2, 0] = -dark_strength
    return image


def blob_places(rng, size: int):
    """Top-left corners of two 2x2 blobs that neither overlap nor touch."""
    while True:
        bright, dark = (tuple(int(v) for v in rng.integers(0, size - 1, size=2)) for _ in range(2))
        if max(abs(bright[0] - dark[0]), abs(bright[1] - dark[1])) >= 3:
            return bright, dark


def blob_text(name: str, corner) -> str:
    return f"the {name} blob (rows {corner[0]}-{corner[0] + 1}, columns {corner[1]}-{corner[1] + 1})"


def two_blob_heatmaps(submission, size, cases):
    return submission.probe(
        "grad_cam:two_blob_heatmaps", size, cases, timeout=30,
        describe=f"make_gradcam_heatmap on the two-blob model ({size}x{size})")


TWO_BLOB = "<two-blob model: 1x1 conv 'evidence' [+1, -1], ReLU, GAP, Dense [[1, -1], [-1, 1]]>"


@check(task="make_gradcam_heatmap", points=2)
def test_heatmap_lights_up_the_evidence_for_the_chosen_class(submission, rng, pictures):
    size = int(rng.integers(8, 13))
    bright, dark = blob_places(rng, size)
    strengths = rng.uniform(0.5, 1.0, size=2)
    if abs(strengths[0] - strengths[1]) < 0.2:
        strengths[int(rng.integers(2))] -= 0.3
    image = blob_image(size, bright, dark, *strengths)
    top = 0 if strengths[0] > strengths[1] else 1
    blobs = {0: ("bright", bright), 1: ("dark", dark)}
    cases = [(image, "evidence", 0), (image, "evidence", 1), (image, "evidence", None)]
    results = two_blob_heatmaps(submission, size, cases)
    explainer = Oracle(two_blob_model(size), "evidence")  # for the picture and the numbers
    for got, (_, layer_name, pred_index) in zip(results, cases):
        index = top if pred_index is None else pred_index
        name, corner = blobs[index]
        other_name, other_corner = blobs[1 - index]
        expected = explainer.heatmap(image, index)
        call = call_text(image, TWO_BLOB, layer_name, pred_index)
        which = f"class {index} ({name})" + (", the top class," if pred_index is None else "")
        concept = (f"the evidence for {which} is {blob_text(name, corner)}: the heatmap is 1 there "
                   f"and 0 elsewhere, including {blob_text(other_name, other_corner)}, which speaks "
                   "against it and is cut by ReLU (each channel counts by the mean gradient of the "
                   "chosen class's score: the dark channel's gradient is negative for the bright class)")
        trouble = problem(got, expected)
        if trouble is None:
            continue
        if pred_index is not None and index != top and problem(got, explainer.heatmap(image, top)) is None:
            drawn = picture(pictures, "heatmap_lights_up_the_evidence_for_the_chosen_class", image,
                            expected, got)
            raise CheckFailed(f"{call} {ignored_choice(pred_index, top)}; {concept}{drawn}")
        array = as_array(got)
        if array is not None and array.shape == expected.shape and array.dtype.kind in "fiu":
            values = np.nan_to_num(array.astype("float64"), nan=-1.0)
            hottest = tuple(int(i) for i in np.unravel_index(np.argmax(values), values.shape))
            inside = slice(corner[0], corner[0] + 2), slice(corner[1], corner[1] + 2)
            against = slice(other_corner[0], other_corner[0] + 2), slice(other_corner[1], other_corner[1] + 2)
            if expected[hottest] < 0.5:
                where = (f"inside {blob_text(other_name, other_corner)}"
                         if other_corner[0] <= hottest[0] <= other_corner[0] + 1
                         and other_corner[1] <= hottest[1] <= other_corner[1] + 1 else "on the background")
                trouble = f"returned a heatmap whose hottest place is {hottest}, {where}"
            elif np.abs(values[against]).max() > 1e-3:
                trouble = (f"returned a heatmap holding {values[against].flat[np.argmax(np.abs(values[against]))]:.3f} "
                           f"in {blob_text(other_name, other_corner)}")
            elif not np.allclose(values[inside], 1.0, atol=1e-3):
                trouble = f"returned a heatmap of {values[inside].min():.3f} in {blob_text(name, corner)}"
        drawn = picture(pictures, "heatmap_lights_up_the_evidence_for_the_chosen_class", image, expected, got)
        raise CheckFailed(f"{call} {trouble}; {concept}{drawn}")


@check(task="make_gradcam_heatmap", points=1)
def test_no_positive_evidence_gives_zeros_not_nan(submission, rng, pictures):
    size = int(rng.integers(8, 13))
    bright, dark = blob_places(rng, size)
    cases = [
        (blob_image(size, None, dark, dark_strength=float(rng.uniform(0.5, 1))), "evidence", 0),
        (blob_image(size, bright, None, bright_strength=float(rng.uniform(0.5, 1))), "evidence", 1),
        (blob_image(size, None, None), "evidence", None),
    ]
    results = two_blob_heatmaps(submission, size, cases)
    expected = [np.zeros((size, size)) for _ in cases]
    concept = ("where nothing speaks for the class, every place is 0 after ReLU and so is the "
               "maximum: return the zeros as they are instead of dividing 0 by 0")
    compare(pictures, "no_positive_evidence_gives_zeros_not_nan", results, cases, expected,
            TWO_BLOB, concept)
