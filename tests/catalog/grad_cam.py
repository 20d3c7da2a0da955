"""Mistakes learners make when writing Grad-CAM, and correct heatmaps written differently."""

from dataclasses import replace

from tests.catalog import Mistake, Variant

# The reference's first half (grad model, tape, gradients), shared by most mistakes below: each
# one changes a single step after it, or before it where that is the mistake.
GRADIENTS = '''
    conv_layer = model.get_layer(last_conv_layer_name)
    grad_model = keras.Model(model.input, [conv_layer.output, model.output])
    with tf.GradientTape() as tape:
        conv_output, predictions = grad_model(img_array)
        if pred_index is None:
            pred_index = tf.argmax(predictions[0])
        class_score = predictions[:, pred_index]
    grads = tape.gradient(class_score, conv_output)
'''

ALL_MAPS = ("heatmap_matches_grad_cam_for_the_top_class", "heatmap_matches_grad_cam_for_a_chosen_class")


def heatmap_function(body: str, gradients: str = GRADIENTS) -> str:
    return f"def make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):{gradients}{body}"


MISTAKES = [
    Mistake("forgets_the_relu", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.reduce_sum(conv_output[0] * weights, axis=-1)
    return (heatmap / tf.reduce_max(heatmap)).numpy()
'''), kills=ALL_MAPS + ("heatmap_lights_up_the_evidence_for_the_chosen_class",)),

    Mistake("divides_by_the_maximum_without_a_guard", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.maximum(tf.reduce_sum(conv_output[0] * weights, axis=-1), 0)
    return (heatmap / tf.reduce_max(heatmap)).numpy()
'''), kills=("no_positive_evidence_gives_zeros_not_nan",)),

    Mistake("explains_the_first_conv_layer", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.maximum(tf.reduce_sum(conv_output[0] * weights, axis=-1), 0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if peak > 0 else heatmap.numpy()
''', GRADIENTS.replace(
        "model.get_layer(last_conv_layer_name)",
        "next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))")),
        kills=("heatmap_is_a_2d_numpy_array_of_the_layers_spatial_size",) + ALL_MAPS, visible=False),

    Mistake("explains_the_last_conv2d_not_the_named_layer", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.maximum(tf.reduce_sum(conv_output[0] * weights, axis=-1), 0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if peak > 0 else heatmap.numpy()
''', GRADIENTS.replace(
        "model.get_layer(last_conv_layer_name)",
        "[layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]")),
        kills=("heatmap_matches_grad_cam_for_the_top_class",), visible=False),

    Mistake("ignores_pred_index", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.maximum(tf.reduce_sum(conv_output[0] * weights, axis=-1), 0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if peak > 0 else heatmap.numpy()
''', GRADIENTS.replace("if pred_index is None:", "if True:")),
        kills=("heatmap_matches_grad_cam_for_a_chosen_class",
               "heatmap_lights_up_the_evidence_for_the_chosen_class")),

    Mistake("treats_pred_index_0_as_no_choice", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.maximum(tf.reduce_sum(conv_output[0] * weights, axis=-1), 0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if peak > 0 else heatmap.numpy()
''', GRADIENTS.replace("if pred_index is None:", "if not pred_index:")),
        kills=("heatmap_matches_grad_cam_for_a_chosen_class",)),

    Mistake("explains_class_0_when_pred_index_is_none", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.maximum(tf.reduce_sum(conv_output[0] * weights, axis=-1), 0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if peak > 0 else heatmap.numpy()
''', GRADIENTS.replace("pred_index = tf.argmax(predictions[0])", "pred_index = 0")),
        kills=("heatmap_matches_grad_cam_for_the_top_class",)),

    Mistake("explains_the_softmax_probability_not_the_logit", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.maximum(tf.reduce_sum(conv_output[0] * weights, axis=-1), 0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if peak > 0 else heatmap.numpy()
''', GRADIENTS.replace("class_score = predictions[:, pred_index]",
                       "class_score = tf.nn.softmax(predictions)[:, pred_index]")),
        kills=("heatmap_matches_grad_cam_for_the_top_class",), visible=False),

    Mistake("takes_the_absolute_value_of_the_gradients", heatmap_function('''
    weights = tf.reduce_mean(tf.abs(grads), axis=(0, 1, 2))
    heatmap = tf.maximum(tf.reduce_sum(conv_output[0] * weights, axis=-1), 0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if peak > 0 else heatmap.numpy()
'''), kills=("heatmap_lights_up_the_evidence_for_the_chosen_class",
             "no_positive_evidence_gives_zeros_not_nan") + ALL_MAPS),

    Mistake("averages_the_activations_without_gradients", heatmap_function('''
    heatmap = tf.maximum(tf.reduce_mean(conv_output[0], axis=-1), 0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if peak > 0 else heatmap.numpy()
'''), kills=("heatmap_lights_up_the_evidence_for_the_chosen_class",) + ALL_MAPS),

    Mistake("weighs_each_place_by_its_own_gradient", heatmap_function('''
    heatmap = tf.maximum(tf.reduce_sum(conv_output[0] * grads[0], axis=-1), 0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if peak > 0 else heatmap.numpy()
'''), kills=ALL_MAPS, visible=False),

    Mistake("keeps_the_batch_axis", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.maximum(tf.reduce_sum(conv_output * weights, axis=-1), 0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if peak > 0 else heatmap.numpy()
'''), kills=("heatmap_is_a_2d_numpy_array_of_the_layers_spatial_size",) + ALL_MAPS),

    Mistake("returns_the_weighted_channels_without_adding_them", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.maximum(conv_output[0] * weights, 0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if peak > 0 else heatmap.numpy()
'''), kills=("heatmap_is_a_2d_numpy_array_of_the_layers_spatial_size",) + ALL_MAPS),

    # The keras.io recipe's squeeze() without an axis: a map one row high loses its row axis.
    Mistake("squeezes_every_axis_of_size_one", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.squeeze(conv_output[0] @ weights[..., tf.newaxis])
    heatmap = tf.maximum(heatmap, 0)
    peak = tf.reduce_max(heatmap)
    return (heatmap / peak).numpy() if peak > 0 else heatmap.numpy()
'''), kills=("heatmap_is_a_2d_numpy_array_of_the_layers_spatial_size",), visible=False, concept="squeeze"),

    Mistake("returns_a_tensor", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.maximum(tf.reduce_sum(conv_output[0] * weights, axis=-1), 0)
    peak = tf.reduce_max(heatmap)
    return heatmap / peak if peak > 0 else heatmap
'''), kills=("heatmap_is_a_2d_numpy_array_of_the_layers_spatial_size",)),

    Mistake("stretches_from_min_to_max_instead_of_relu", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.reduce_sum(conv_output[0] * weights, axis=-1).numpy()
    return (heatmap - heatmap.min()) / (heatmap.max() - heatmap.min() + 1e-8)
'''), kills=("heatmap_lights_up_the_evidence_for_the_chosen_class",) + ALL_MAPS),

    Mistake("stretches_from_min_to_max_after_the_relu", heatmap_function('''
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = np.maximum(tf.reduce_sum(conv_output[0] * weights, axis=-1).numpy(), 0)
    return (heatmap - heatmap.min()) / (heatmap.max() - heatmap.min() + 1e-8)
'''), kills=("heatmap_matches_grad_cam_for_the_top_class",)),
]


# The real cause of each mistake, in words every message of the checks it fails must hold.
CONCEPTS = {
    'forgets_the_relu': 'ReLU',
    'divides_by_the_maximum_without_a_guard': 'NaN',
    'explains_the_first_conv_layer': 'layer',
    'explains_the_last_conv2d_not_the_named_layer': 'layer',
    'ignores_pred_index': 'pred_index was ignored',
    'treats_pred_index_0_as_no_choice': '0 is a class',
    'explains_class_0_when_pred_index_is_none': 'scores highest',
    'explains_the_softmax_probability_not_the_logit': 'softmax',
    'takes_the_absolute_value_of_the_gradients': 'ReLU',
    'averages_the_activations_without_gradients': 'gradient',
    'weighs_each_place_by_its_own_gradient': 'mean over space',
    'keeps_the_batch_axis': 'batch axis',
    'returns_the_weighted_channels_without_adding_them': 'channel axis',
    'returns_a_tensor': '.numpy()',
    'stretches_from_min_to_max_instead_of_relu': 'ReLU',
    'stretches_from_min_to_max_after_the_relu': 'divides by the maximum',
}
MISTAKES = [replace(m, concept=m.concept or CONCEPTS[m.name]) for m in MISTAKES]

VARIANTS = [
    Variant("keras_io_recipe_with_a_guard", '''
def make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):
    grad_model = keras.models.Model(
        model.inputs, [model.get_layer(last_conv_layer_name).output, model.output]
    )
    with tf.GradientTape() as tape:
        last_conv_layer_output, preds = grad_model(img_array)
        if pred_index is None:
            pred_index = tf.argmax(preds[0])
        class_channel = preds[:, pred_index]
    grads = tape.gradient(class_channel, last_conv_layer_output)
    pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))
    last_conv_layer_output = last_conv_layer_output[0]
    heatmap = last_conv_layer_output @ pooled_grads[..., tf.newaxis]
    heatmap = tf.squeeze(heatmap, axis=-1)
    heatmap = tf.maximum(heatmap, 0) / (tf.math.reduce_max(heatmap) + keras.backend.epsilon())
    return heatmap.numpy()
'''),
    Variant("keras_ops_and_einsum", '''
def make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):
    from keras import ops

    layer_output = model.get_layer(last_conv_layer_name).output
    grad_model = keras.Model(inputs=model.input, outputs=[layer_output, model.output])
    img_array = ops.convert_to_tensor(img_array)
    with tf.GradientTape() as tape:
        activations, scores = grad_model(img_array)
        index = ops.argmax(scores[0]) if pred_index is None else pred_index
        score = ops.take(scores[0], index)
    grads = tape.gradient(score, activations)
    weights = ops.mean(grads, axis=(0, 1, 2))
    heatmap = ops.relu(ops.einsum("hwk,k->hw", activations[0], weights))
    peak = ops.max(heatmap)
    heatmap = ops.where(peak > 0, heatmap / ops.maximum(peak, 1e-12), heatmap)
    return ops.convert_to_numpy(heatmap)
'''),
    Variant("numpy_after_the_tape_with_summed_gradients", '''
def make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):
    grad_model = keras.Model(model.input, [model.get_layer(last_conv_layer_name).output, model.output])
    image = tf.constant(img_array, dtype=tf.float32)
    with tf.GradientTape() as tape:
        activations, predictions = grad_model(image)
        chosen = int(np.argmax(predictions.numpy()[0])) if pred_index is None else int(pred_index)
        score = predictions[0, chosen]
    grads = tape.gradient(score, activations).numpy()[0]
    activations = activations.numpy()[0].astype(np.float64)
    # Summing instead of averaging scales every weight alike: the same map once divided by its max.
    weights = grads.sum(axis=(0, 1))
    heatmap = np.zeros(activations.shape[:2])
    for channel in range(activations.shape[-1]):
        heatmap += weights[channel] * activations[:, :, channel]
    heatmap = np.clip(heatmap, 0, None)
    if heatmap.max() > 0:
        heatmap /= heatmap.max()
    return heatmap
'''),
    Variant("tensordot_and_divide_no_nan", '''
def make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):
    explainer = keras.Model(inputs=model.inputs,
                            outputs=[model.get_layer(last_conv_layer_name).output, model.outputs[0]])
    with tf.GradientTape() as tape:
        activations, scores = explainer([img_array])
        if pred_index is None:
            pred_index = tf.argmax(scores[0])
        score = tf.gather(scores[0], pred_index)
    grads = tape.gradient(score, activations)
    weights = tf.reduce_mean(grads, axis=(1, 2))[0]
    heatmap = tf.nn.relu(tf.tensordot(activations[0], weights, axes=1))
    return tf.math.divide_no_nan(heatmap, tf.reduce_max(heatmap)).numpy()
'''),
]
