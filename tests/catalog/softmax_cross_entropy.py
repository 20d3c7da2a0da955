"""Mistakes learners make with softmax and cross-entropy from logits, and correct variants."""

from tests.catalog import Mistake, Variant

SOFTMAX = ("softmax_matches_keras_on_random_logits", "softmax_stays_finite_for_logits_of_1000",
           "softmax_follows_the_axis_argument")
LOG_SOFTMAX = ("log_softmax_matches_keras_on_random_logits", "log_softmax_stays_finite_for_logits_of_1000",
               "log_softmax_follows_the_axis_argument")
SPARSE = ("sparse_categorical_crossentropy_matches_keras_per_example",
          "sparse_categorical_crossentropy_takes_labels_of_shape_batch_1",
          "sparse_categorical_crossentropy_stays_finite_for_logits_of_1000")
BCE = ("binary_crossentropy_with_logits_matches_keras_elementwise",
       "binary_crossentropy_with_logits_is_stable_for_large_logits")

MISTAKES = [
    # -- softmax ---------------------------------------------------------------------------
    Mistake("softmax_without_subtracting_the_max", '''
def softmax(logits, axis=-1):
    exponentials = np.exp(logits)
    return exponentials / np.sum(exponentials, axis=axis, keepdims=True)
''', kills=("softmax_stays_finite_for_logits_of_1000",),
            concept="overflows"),
    Mistake("softmax_subtracts_the_max_of_the_whole_array", '''
def softmax(logits, axis=-1):
    exponentials = np.exp(logits - np.max(logits))
    return exponentials / np.sum(exponentials, axis=axis, keepdims=True)
''', kills=("softmax_stays_finite_for_logits_of_1000",),
            concept="per row"),
    Mistake("softmax_max_without_keepdims", '''
def softmax(logits, axis=-1):
    exponentials = np.exp(logits - np.max(logits, axis=axis))
    return exponentials / np.sum(exponentials, axis=axis, keepdims=True)
''', kills=SOFTMAX,
            concept="keepdims"),
    Mistake("softmax_ignores_the_axis", '''
def softmax(logits, axis=-1):
    exponentials = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return exponentials / np.sum(exponentials, axis=-1, keepdims=True)
''', kills=("softmax_follows_the_axis_argument",),
            concept="axis argument"),
    Mistake("softmax_sums_over_every_axis", '''
def softmax(logits, axis=-1):
    exponentials = np.exp(logits - np.max(logits, axis=axis, keepdims=True))
    return exponentials / np.sum(exponentials)
''', kills=SOFTMAX,
            concept="whole array"),
    Mistake("softmax_delegated_to_keras", '''
def softmax(logits, axis=-1):
    import keras
    return keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=axis))
''', kills=SOFTMAX, visible=False,
            delegates=True, concept="Keras"),
    # -- log_softmax -----------------------------------------------------------------------
    Mistake("log_softmax_as_the_log_of_softmax", '''
def log_softmax(logits, axis=-1):
    return np.log(softmax(logits, axis=axis))
''', kills=("log_softmax_stays_finite_for_logits_of_1000",),
            concept="log(0)"),
    Mistake("log_softmax_without_the_max", '''
def log_softmax(logits, axis=-1):
    return logits - np.log(np.sum(np.exp(logits), axis=axis, keepdims=True))
''', kills=("log_softmax_stays_finite_for_logits_of_1000",),
            concept="overflows"),
    Mistake("log_softmax_forgets_to_add_the_max_back", '''
def log_softmax(logits, axis=-1):
    m = np.max(logits, axis=axis, keepdims=True)
    return logits - np.log(np.sum(np.exp(logits - m), axis=axis, keepdims=True))
''', kills=LOG_SOFTMAX,
            concept="did not add it back"),
    Mistake("log_softmax_ignores_the_axis", '''
def log_softmax(logits, axis=-1):
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
''', kills=("log_softmax_follows_the_axis_argument",), visible=False,
            concept="axis argument"),
    Mistake("log_softmax_delegated_to_keras", '''
def log_softmax(logits, axis=-1):
    import keras
    return np.asarray(keras.ops.log_softmax(logits, axis=axis))
''', kills=LOG_SOFTMAX, visible=False,
            delegates=True, concept="Keras"),
    # -- sparse_categorical_crossentropy ---------------------------------------------------
    Mistake("labels_of_shape_batch_1_broadcast_into_a_table", '''
def sparse_categorical_crossentropy(labels, logits):
    return -log_softmax(logits)[np.arange(len(logits)), labels]
''', kills=("sparse_categorical_crossentropy_takes_labels_of_shape_batch_1",),
            concept="flatten"),
    Mistake("one_hot_labels_of_shape_batch_1", '''
def sparse_categorical_crossentropy(labels, logits):
    one_hot = np.eye(logits.shape[-1])[labels]
    return -np.sum(one_hot * log_softmax(logits), axis=-1)
''', kills=("sparse_categorical_crossentropy_takes_labels_of_shape_batch_1",),
            concept="flatten"),
    Mistake("cross_entropy_from_the_log_of_softmax", '''
def sparse_categorical_crossentropy(labels, logits):
    labels = np.asarray(labels).reshape(-1)
    return -np.log(softmax(logits)[np.arange(len(labels)), labels])
''', kills=("sparse_categorical_crossentropy_stays_finite_for_logits_of_1000",),
            concept="log(0)"),
    Mistake("cross_entropy_averaged_over_the_batch", '''
def sparse_categorical_crossentropy(labels, logits):
    labels = np.asarray(labels).reshape(-1)
    return np.mean(-log_softmax(logits)[np.arange(len(labels)), labels])
''', kills=SPARSE,
            concept="not their mean"),
    Mistake("cross_entropy_reads_a_column_per_label", '''
def sparse_categorical_crossentropy(labels, logits):
    labels = np.asarray(labels).reshape(-1)
    return -log_softmax(logits)[labels, np.arange(len(labels))]
''', kills=SPARSE,
            concept="column labels[i]"),
    Mistake("cross_entropy_delegated_to_keras", '''
def sparse_categorical_crossentropy(labels, logits):
    import keras
    loss = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    return keras.ops.convert_to_numpy(loss)
''', kills=SPARSE, visible=False,
            delegates=True, concept="Keras"),
    # -- binary_crossentropy_with_logits ---------------------------------------------------
    Mistake("binary_crossentropy_in_the_sigmoid_form", '''
def binary_crossentropy_with_logits(labels, logits):
    p = 1 / (1 + np.exp(-logits))
    return -labels * np.log(p) - (1 - labels) * np.log(1 - p)
''', kills=("binary_crossentropy_with_logits_is_stable_for_large_logits",),
            concept="rounds to exactly 1"),
    Mistake("binary_crossentropy_with_log1p_of_exp", '''
def binary_crossentropy_with_logits(labels, logits):
    return np.log1p(np.exp(logits)) - logits * labels
''', kills=("binary_crossentropy_with_logits_is_stable_for_large_logits",),
            concept="overflows"),
    Mistake("binary_crossentropy_with_clipped_probabilities", '''
def binary_crossentropy_with_logits(labels, logits):
    p = np.clip(1 / (1 + np.exp(-logits)), 1e-7, 1 - 1e-7)
    return -labels * np.log(p) - (1 - labels) * np.log(1 - p)
''', kills=("binary_crossentropy_with_logits_is_stable_for_large_logits",),
            concept="clipping"),
    Mistake("binary_crossentropy_averaged_over_the_last_axis", '''
def binary_crossentropy_with_logits(labels, logits):
    losses = np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))
    return np.mean(losses, axis=-1)
''', kills=BCE,
            concept="averaged over the last axis"),
    Mistake("binary_crossentropy_with_the_label_term_sign_flipped", '''
def binary_crossentropy_with_logits(labels, logits):
    return np.maximum(logits, 0) + logits * labels + np.log1p(np.exp(-np.abs(logits)))
''', kills=BCE,
            concept="max(z, 0) - z * y"),
    Mistake("binary_crossentropy_delegated_to_keras", '''
def binary_crossentropy_with_logits(labels, logits):
    from keras import ops
    return ops.convert_to_numpy(ops.binary_crossentropy(labels, logits, from_logits=True))
''', kills=BCE, visible=False,
            delegates=True, concept="Keras"),
]

VARIANTS = [
    Variant("softmax_from_the_log_softmax_with_logaddexp", '''
def softmax(logits, axis=-1):
    return np.exp(log_softmax(logits, axis=axis))


def log_softmax(logits, axis=-1):
    log_sum = np.logaddexp.reduce(logits, axis=axis, keepdims=True)
    return logits - log_sum
'''),
    Variant("moved_axis_and_explicit_loops", '''
def softmax(logits, axis=-1):
    moved = np.moveaxis(np.asarray(logits, dtype=float), axis, -1)
    out = np.empty_like(moved)
    for index in np.ndindex(moved.shape[:-1]):
        row = moved[index] - moved[index].max()
        out[index] = np.exp(row) / np.exp(row).sum()
    return np.moveaxis(out, -1, axis)


def sparse_categorical_crossentropy(labels, logits):
    losses = []
    for label, row in zip(np.ravel(labels), logits):
        m = row.max()
        losses.append(m + np.log(np.sum(np.exp(row - m))) - row[int(label)])
    return np.array(losses)
'''),
    Variant("binary_crossentropy_by_cases_with_logaddexp", '''
def binary_crossentropy_with_logits(labels, logits):
    # -log(sigmoid(z)) = log(1 + exp(-z)) = logaddexp(0, -z); -log(1 - sigmoid(z)) = logaddexp(0, z)
    return labels * np.logaddexp(0, -logits) + (1 - labels) * np.logaddexp(0, logits)
'''),
    Variant("one_hot_labels_and_a_sum", '''
def sparse_categorical_crossentropy(labels, logits):
    labels = np.squeeze(np.asarray(labels), axis=-1) if np.ndim(labels) == 2 else np.asarray(labels)
    one_hot = np.eye(logits.shape[-1], dtype=logits.dtype)[labels]
    return -np.sum(one_hot * log_softmax(logits, axis=-1), axis=-1)
'''),
]
