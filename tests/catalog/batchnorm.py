"""Mistakes learners make when writing batch normalization by hand, and correct versions written differently."""

from tests.catalog import Mistake, Variant

SHAPES = "batchnorm_forward_returns_y_and_the_two_moving_statistics"
TRAIN_Y = "training_output_matches_keras"
TRAIN_MOVING = "training_updates_the_moving_statistics_like_keras"
INFER_Y = "inference_output_uses_the_moving_statistics"
INFER_MOVING = "inference_leaves_the_moving_statistics_unchanged"
ALL = (SHAPES, TRAIN_Y, TRAIN_MOVING, INFER_Y, INFER_MOVING)

MISTAKES = [
    Mistake("unbiased_variance", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    if training:
        mean, variance = x.mean(axis=0), x.var(axis=0, ddof=1)
        new_mean = momentum * moving_mean + (1 - momentum) * mean
        new_variance = momentum * moving_variance + (1 - momentum) * variance
    else:
        mean, variance = moving_mean, moving_variance
        new_mean, new_variance = moving_mean, moving_variance
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta, new_mean, new_variance
''', kills=(TRAIN_Y, TRAIN_MOVING), concept='unbiased'),
    Mistake("unbiased_variance_in_the_moving_update_only", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    if training:
        mean, variance = x.mean(axis=0), x.var(axis=0)
        new_mean = momentum * moving_mean + (1 - momentum) * mean
        new_variance = momentum * moving_variance + (1 - momentum) * x.var(axis=0, ddof=1)
    else:
        mean, variance = moving_mean, moving_variance
        new_mean, new_variance = moving_mean, moving_variance
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta, new_mean, new_variance
''', kills=(TRAIN_MOVING,), concept='unbiased'),
    Mistake("moving_statistics_updated_in_inference", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    new_mean = momentum * moving_mean + (1 - momentum) * x.mean(axis=0)
    new_variance = momentum * moving_variance + (1 - momentum) * x.var(axis=0)
    if training:
        mean, variance = x.mean(axis=0), x.var(axis=0)
    else:
        mean, variance = moving_mean, moving_variance
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta, new_mean, new_variance
''', kills=(INFER_MOVING,), concept='updated the moving statistics in inference'),
    Mistake("epsilon_outside_the_square_root", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    if training:
        mean, variance = x.mean(axis=0), x.var(axis=0)
        new_mean = momentum * moving_mean + (1 - momentum) * mean
        new_variance = momentum * moving_variance + (1 - momentum) * variance
    else:
        mean, variance = moving_mean, moving_variance
        new_mean, new_variance = moving_mean, moving_variance
    return gamma * (x - mean) / (np.sqrt(variance) + epsilon) + beta, new_mean, new_variance
''', kills=(TRAIN_Y, INFER_Y), concept='outside the square root'),
    Mistake("no_epsilon_at_all", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    if training:
        mean, variance = x.mean(axis=0), x.var(axis=0)
        new_mean = momentum * moving_mean + (1 - momentum) * mean
        new_variance = momentum * moving_variance + (1 - momentum) * variance
    else:
        mean, variance = moving_mean, moving_variance
        new_mean, new_variance = moving_mean, moving_variance
    return gamma * (x - mean) / np.sqrt(variance) + beta, new_mean, new_variance
''', kills=(TRAIN_Y, INFER_Y), concept='without epsilon'),
    Mistake("momentum_weighs_the_batch", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    if training:
        mean, variance = x.mean(axis=0), x.var(axis=0)
        new_mean = (1 - momentum) * moving_mean + momentum * mean
        new_variance = (1 - momentum) * moving_variance + momentum * variance
    else:
        mean, variance = moving_mean, moving_variance
        new_mean, new_variance = moving_mean, moving_variance
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta, new_mean, new_variance
''', kills=(TRAIN_MOVING,), concept='weighs the OLD'),
    Mistake("inference_uses_the_batch_statistics", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    mean, variance = x.mean(axis=0), x.var(axis=0)
    if training:
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_variance = momentum * moving_variance + (1 - momentum) * variance
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta, moving_mean, moving_variance
''', kills=(INFER_Y,), concept="batch's own statistics"),
    Mistake("training_normalizes_with_the_updated_moving_statistics", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    if training:
        moving_mean = momentum * moving_mean + (1 - momentum) * x.mean(axis=0)
        moving_variance = momentum * moving_variance + (1 - momentum) * x.var(axis=0)
    y = gamma * (x - moving_mean) / np.sqrt(moving_variance + epsilon) + beta
    return y, moving_mean, moving_variance
''', kills=(TRAIN_Y,), concept='updated moving statistics'),
    Mistake("statistics_per_example_instead_of_per_feature", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    if training:
        mean, variance = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
        new_mean = momentum * moving_mean + (1 - momentum) * x.mean(axis=0)
        new_variance = momentum * moving_variance + (1 - momentum) * x.var(axis=0)
    else:
        mean, variance = moving_mean, moving_variance
        new_mean, new_variance = moving_mean, moving_variance
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta, new_mean, new_variance
''', kills=(TRAIN_Y,), concept='axis=0'),
    Mistake("gamma_and_beta_swapped", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    if training:
        mean, variance = x.mean(axis=0), x.var(axis=0)
        new_mean = momentum * moving_mean + (1 - momentum) * mean
        new_variance = momentum * moving_variance + (1 - momentum) * variance
    else:
        mean, variance = moving_mean, moving_variance
        new_mean, new_variance = moving_mean, moving_variance
    return beta * (x - mean) / np.sqrt(variance + epsilon) + gamma, new_mean, new_variance
''', kills=(TRAIN_Y, INFER_Y), concept='gamma scales'),
    Mistake("returns_only_y", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    mean, variance = (x.mean(axis=0), x.var(axis=0)) if training else (moving_mean, moving_variance)
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta
''', kills=ALL, concept='expected a tuple'),
    Mistake("hands_it_to_a_keras_layer", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    import keras

    layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, dtype=str(x.dtype))
    layer.build((None, x.shape[1]))
    layer.set_weights([gamma, beta, moving_mean, moving_variance])
    y = np.asarray(layer(x, training=training))
    return y, np.asarray(layer.moving_mean), np.asarray(layer.moving_variance)
''', kills=ALL, visible=False, delegates=True, concept="Keras"),
]

VARIANTS = [
    Variant("standardize_then_scale_with_explicit_sums", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    x = np.asarray(x)
    if not training:
        inverse = gamma / np.sqrt(moving_variance + epsilon)
        return x * inverse + (beta - moving_mean * inverse), moving_mean.copy(), moving_variance.copy()
    n = x.shape[0]
    mean = np.sum(x, axis=0) / n
    centered = x - mean
    variance = np.sum(centered ** 2, axis=0) / n
    x_hat = centered / np.sqrt(variance + epsilon)
    new_mean = moving_mean * momentum + mean * (1.0 - momentum)
    new_variance = moving_variance * momentum + variance * (1.0 - momentum)
    return gamma * x_hat + beta, new_mean, new_variance
'''),
    Variant("moving_average_as_a_step_towards_the_batch", '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.99, epsilon=1e-3):
    if training:
        mean = x.mean(axis=0, keepdims=True)
        variance = ((x - mean) ** 2).mean(axis=0, keepdims=True)
        new_mean = moving_mean - (1 - momentum) * (moving_mean - mean[0])
        new_variance = moving_variance - (1 - momentum) * (moving_variance - variance[0])
    else:
        mean, variance = moving_mean[None, :], moving_variance[None, :]
        new_mean, new_variance = np.array(moving_mean), np.array(moving_variance)
    y = (x - mean) * (gamma / np.sqrt(variance + epsilon)) + beta
    return (y, new_mean, new_variance)
'''),
]
