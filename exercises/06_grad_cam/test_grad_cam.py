# The visible checks of 06 · Grad-CAM: where did the model look? (`make feedback TOPIC=06_grad_cam` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for Grad-CAM. Run them with `pytest exercises/06_grad_cam`.

They use the given two-blob model, whose evidence you can work out by hand: for class 0
("bright") it is wherever the image is bright, for class 1 ("dark") wherever it is dark.
"""

import numpy as np
import pytest

from grad_cam import blob_image, make_gradcam_heatmap, two_blob_model
from grimoire.teach import call_or_not_started, expect_value


@pytest.mark.task("make_gradcam_heatmap")
def test_the_heatmap_is_a_2d_array_the_size_of_the_conv_output():
    call = "make_gradcam_heatmap(blob_image(6, bright=(1, 3)), two_blob_model(6), 'evidence')"
    heatmap = call_or_not_started(make_gradcam_heatmap, blob_image(6, bright=(1, 3)), two_blob_model(6),
                                  "evidence")
    expect_value(f"type({call}).__name__", type(heatmap).__name__, "ndarray",
                 concept="return a NumPy array (a tensor's .numpy()), not a tf.Tensor")
    expect_value(f"{call}.shape", heatmap.shape, (6, 6),
                 concept="'evidence' outputs (1, 6, 6, 2): one value per place, no batch or channel axis")


@pytest.mark.task("make_gradcam_heatmap")
def test_without_pred_index_the_top_class_is_explained_and_the_peak_is_1():
    # A dark blob on a faintly dark background: class 1 ("dark") wins, and every place is evidence.
    image = blob_image(background=-0.25, dark=(4, 2))
    expected = np.full((8, 8), 0.25)
    expected[4:6, 2:4] = 1.0
    heatmap = call_or_not_started(make_gradcam_heatmap, image, two_blob_model(), "evidence")
    expect_value("make_gradcam_heatmap(blob_image(background=-0.25, dark=(4, 2)), two_blob_model(), 'evidence')",
                 heatmap, expected, atol=1e-4,
                 concept="the top class is 1 (dark); its evidence is 1.0 in the blob and 0.25 around it, "
                         "divided by the peak (not stretched to start at 0)")


@pytest.mark.task("make_gradcam_heatmap")
def test_pred_index_1_lights_up_the_dark_blob_not_the_bright_one():
    image = blob_image(bright=(1, 1), dark=(5, 4), dark_strength=0.5)  # class 0 scores higher
    expected = np.zeros((8, 8))
    expected[5:7, 4:6] = 1.0
    heatmap = call_or_not_started(make_gradcam_heatmap, image, two_blob_model(), "evidence", pred_index=1)
    expect_value("make_gradcam_heatmap(blob_image(bright=(1, 1), dark=(5, 4), dark_strength=0.5), "
                 "two_blob_model(), 'evidence', pred_index=1)", heatmap, expected, atol=1e-4,
                 concept="class 1's evidence is the dark blob; the bright blob speaks against it, and "
                         "ReLU cuts that negative evidence to 0")


@pytest.mark.task("make_gradcam_heatmap")
def test_pred_index_0_is_a_class_even_when_class_1_wins():
    image = blob_image(bright=(0, 5), dark=(5, 1), bright_strength=0.5)  # class 1 scores higher
    expected = np.zeros((8, 8))
    expected[0:2, 5:7] = 1.0
    heatmap = call_or_not_started(make_gradcam_heatmap, image, two_blob_model(), "evidence", pred_index=0)
    expect_value("make_gradcam_heatmap(blob_image(bright=(0, 5), dark=(5, 1), bright_strength=0.5), "
                 "two_blob_model(), 'evidence', pred_index=0)", heatmap, expected, atol=1e-4,
                 concept="pred_index=0 asks for class 0 (bright) although class 1 scores higher; "
                         "0 is falsy, so test `pred_index is None`")


@pytest.mark.task("make_gradcam_heatmap")
def test_no_positive_evidence_gives_zeros_not_nan():
    image = blob_image(dark=(3, 3))
    heatmap = call_or_not_started(make_gradcam_heatmap, image, two_blob_model(), "evidence", pred_index=0)
    expect_value("make_gradcam_heatmap(blob_image(dark=(3, 3)), two_blob_model(), 'evidence', pred_index=0)",
                 heatmap, np.zeros((8, 8)),
                 concept="nothing in the image is bright, so nothing is left after ReLU and the maximum "
                         "is 0: return the zeros instead of dividing 0 by 0")
