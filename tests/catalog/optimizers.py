"""Mistakes learners make writing SGD with momentum, RMSProp and Adam by hand, and correct variants."""

from tests.catalog import Mistake, Variant

SGD = ("sgd_step_without_momentum_matches_keras", "sgd_step_with_momentum_matches_keras",
       "sgd_step_with_nesterov_matches_keras")
RMSPROP = ("rmsprop_step_matches_keras", "rmsprop_epsilon_sits_inside_the_square_root")
ADAM_STEP = ("adam_step_matches_keras", "adam_step_resumes_at_a_later_step", "adam_epsilon_placement_matches_keras")
ADAM = ADAM_STEP + ("adam_step_returns_keras_uncorrected_moments",)

MISTAKES = [
    # -- SGD ---------------------------------------------------------------------------------
    Mistake("velocity_sign_flipped", '''
def sgd_step(param, grad, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    velocity = momentum * velocity + learning_rate * grad
    if nesterov:
        return param - (momentum * velocity + learning_rate * grad), velocity
    return param - velocity, velocity
''', kills=SGD, concept="uphill"),
    Mistake("pytorch_style_velocity", '''
def sgd_step(param, grad, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    velocity = momentum * velocity + grad
    if nesterov:
        return param - learning_rate * (momentum * velocity + grad), velocity
    return param - learning_rate * velocity, velocity
''', kills=SGD, concept="PyTorch"),
    Mistake("nesterov_ignored", '''
def sgd_step(param, grad, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    velocity = momentum * velocity - learning_rate * grad
    return param + velocity, velocity
''', kills=("sgd_step_with_nesterov_matches_keras",), concept="nesterov=True"),
    Mistake("momentum_zero_keeps_the_old_velocity", '''
def sgd_step(param, grad, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    if momentum == 0:
        return param - learning_rate * grad, velocity
    velocity = momentum * velocity - learning_rate * grad
    if nesterov:
        return param + momentum * velocity - learning_rate * grad, velocity
    return param + velocity, velocity
''', kills=("sgd_step_without_momentum_matches_keras",), concept="momentum=0"),
    Mistake("velocity_subtracted_from_the_parameter", '''
def sgd_step(param, grad, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    velocity = momentum * velocity - learning_rate * grad
    if nesterov:
        return param - (momentum * velocity - learning_rate * grad), velocity
    return param - velocity, velocity
''', kills=SGD, concept="param + velocity"),
    Mistake("sgd_delegated_to_a_keras_optimizer", '''
def sgd_step(param, grad, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    import keras
    variable = keras.Variable(param)
    optimizer = keras.optimizers.SGD(learning_rate, momentum=momentum, nesterov=nesterov)
    optimizer.build([variable])
    if momentum:
        optimizer.momentums[0].assign(velocity)
    optimizer.apply([grad], [variable])
    new_velocity = optimizer.momentums[0].numpy() if momentum else -learning_rate * grad
    return variable.numpy(), new_velocity
''', kills=SGD, visible=False, delegates=True, concept="Keras"),
    # -- RMSprop -----------------------------------------------------------------------------
    Mistake("rmsprop_epsilon_outside_the_square_root", '''
def rmsprop_step(param, grad, average_square, learning_rate=0.001, rho=0.9, epsilon=1e-7):
    average_square = rho * average_square + (1 - rho) * grad**2
    return param - learning_rate * grad / (np.sqrt(average_square) + epsilon), average_square
''', kills=("rmsprop_epsilon_sits_inside_the_square_root",), concept="inside the square root"),
    Mistake("rmsprop_without_the_square_root", '''
def rmsprop_step(param, grad, average_square, learning_rate=0.001, rho=0.9, epsilon=1e-7):
    average_square = rho * average_square + (1 - rho) * grad**2
    return param - learning_rate * grad / (average_square + epsilon), average_square
''', kills=RMSPROP, concept="square root of the average"),
    Mistake("rmsprop_divides_by_the_old_average", '''
def rmsprop_step(param, grad, average_square, learning_rate=0.001, rho=0.9, epsilon=1e-7):
    new_param = param - learning_rate * grad / np.sqrt(average_square + epsilon)
    return new_param, rho * average_square + (1 - rho) * grad**2
''', kills=RMSPROP, concept="new average"),
    Mistake("rmsprop_rho_on_the_wrong_term", '''
def rmsprop_step(param, grad, average_square, learning_rate=0.001, rho=0.9, epsilon=1e-7):
    average_square = (1 - rho) * average_square + rho * grad**2
    return param - learning_rate * grad / np.sqrt(average_square + epsilon), average_square
''', kills=RMSPROP, concept="weight rho"),
    Mistake("rmsprop_delegated_to_a_keras_optimizer", '''
def rmsprop_step(param, grad, average_square, learning_rate=0.001, rho=0.9, epsilon=1e-7):
    import keras
    variable = keras.Variable(param)
    optimizer = keras.optimizers.RMSprop(learning_rate, rho=rho, epsilon=epsilon)
    optimizer.build([variable])
    optimizer.variables[-1].assign(average_square)
    optimizer.apply([grad], [variable])
    return variable.numpy(), optimizer.variables[-1].numpy()
''', kills=RMSPROP, visible=False, delegates=True, concept="Keras"),
    # -- Adam --------------------------------------------------------------------------------
    Mistake("adam_without_bias_correction", '''
def adam_step(param, grad, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    return param - learning_rate * m / (np.sqrt(v) + epsilon), m, v
''', kills=ADAM_STEP, concept="without bias correction"),
    Mistake("adam_with_the_papers_epsilon_placement", '''
def adam_step(param, grad, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    m_hat = m / (1 - beta_1**step)
    v_hat = v / (1 - beta_2**step)
    return param - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v
''', kills=("adam_epsilon_placement_matches_keras",), concept="paper's epsilon"),
    Mistake("adam_returns_the_corrected_moments", '''
def adam_step(param, grad, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    m = m / (1 - beta_1**step)  # bias correction
    v = v / (1 - beta_2**step)
    return param - learning_rate * m / (np.sqrt(v) + epsilon), m, v
''', kills=ADAM, concept="uncorrected"),
    Mistake("adam_step_counted_from_zero", '''
def adam_step(param, grad, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    t = step + 1
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    alpha = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return param - alpha * m / (np.sqrt(v) + epsilon), m, v
''', kills=ADAM_STEP, concept="counts from 1"),
    Mistake("adam_betas_swapped", '''
def adam_step(param, grad, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_2 * m + (1 - beta_2) * grad
    v = beta_1 * v + (1 - beta_1) * grad**2
    alpha = learning_rate * np.sqrt(1 - beta_2**step) / (1 - beta_1**step)
    return param - alpha * m / (np.sqrt(v) + epsilon), m, v
''', kills=ADAM, concept="other way round"),
    Mistake("adam_without_the_square_root_of_v", '''
def adam_step(param, grad, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    alpha = learning_rate * np.sqrt(1 - beta_2**step) / (1 - beta_1**step)
    return param - alpha * m / (v + epsilon), m, v
''', kills=ADAM_STEP, concept="sqrt(v)"),
    Mistake("adam_delegated_to_a_keras_optimizer", '''
def adam_step(param, grad, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    import keras
    variable = keras.Variable(param)
    optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    optimizer.build([variable])
    optimizer.iterations.assign(step - 1)
    slot_m, slot_v = optimizer.variables[-2:]
    slot_m.assign(m)
    slot_v.assign(v)
    optimizer.apply([grad], [variable])
    return variable.numpy(), slot_m.numpy(), slot_v.numpy()
''', kills=ADAM, visible=False, delegates=True, concept="Keras"),
]

VARIANTS = [
    Variant("nesterov_as_a_correction_of_the_old_velocity", '''
def sgd_step(param, grad, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    old_velocity = np.array(velocity, dtype=float)
    new_velocity = momentum * old_velocity - learning_rate * grad
    if not nesterov:
        return param + new_velocity, new_velocity
    # Sutskever's form: -momentum * old + (1 + momentum) * new, the same look-ahead step.
    return param - momentum * old_velocity + (1 + momentum) * new_velocity, new_velocity
'''),
    Variant("rmsprop_with_keras_style_increments", '''
def rmsprop_step(param, grad, average_square, learning_rate=0.001, rho=0.9, epsilon=1e-7):
    average_square = average_square + (1 - rho) * (np.square(grad) - average_square)
    increment = np.multiply(learning_rate, grad) / (average_square + epsilon) ** 0.5
    return np.subtract(param, increment), average_square
'''),
    Variant("adam_with_corrected_moments_and_epsilon_hat", '''
def adam_step(param, grad, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad * grad
    m_hat = m / (1 - beta_1**step)
    v_hat = v / (1 - beta_2**step)
    epsilon_hat = epsilon / np.sqrt(1 - beta_2**step)  # Keras' epsilon, seen from the corrected moments
    return param - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon_hat), m, v
'''),
    Variant("adam_updating_copies_in_place", '''
def adam_step(param, grad, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    param, m, v = (np.array(a, dtype=np.float64) for a in (param, m, v))
    m += (1 - beta_1) * (grad - m)
    v += (1 - beta_2) * (np.square(grad) - v)
    step_size = learning_rate * np.sqrt(1 - beta_2**step) / (1 - beta_1**step)
    param -= step_size * m / (np.sqrt(v) + epsilon)
    return param, m, v
'''),
]
