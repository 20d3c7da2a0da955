"""Mistakes learners make with the chain rule, finite differences and GradientTape; correct variants."""

from tests.catalog import Mistake, Variant

BACKPROP = ("backprop_by_hand_returns_J_and_its_three_partials", "backprop_by_hand_partials_follow_the_chain_rule")
PARTIALS = ("backprop_by_hand_partials_follow_the_chain_rule",)
NUMERICAL = ("numerical_gradient_matches_central_differences", "numerical_gradient_keeps_the_shape_of_x",
             "numerical_gradient_works_on_integer_x_and_leaves_x_as_it_was")
TAPE = ("tape_gradient_returns_a_numpy_array_of_the_shape_of_x", "tape_gradient_matches_a_gradient_tape",
        "tape_gradient_differentiates_one_recorded_run_of_f")
SECOND = ("second_derivative_matches_nested_tapes", "second_derivative_differentiates_one_recorded_run_of_f")
PERSISTENT = ("persistent_gradients_match_a_gradient_tape",
              "persistent_gradients_differentiate_one_recorded_run_of_each")

MISTAKES = [
    Mistake("sign_error_in_one_chain_rule_factor", '''
def backprop_by_hand(a, b, c):
    u = b * c
    v = a + u
    J = 3 * v
    dJ_dv = 3.0
    dJ_du = dJ_dv
    return {"J": float(J), "dJ_da": dJ_dv, "dJ_db": dJ_du * c, "dJ_dc": -dJ_du * b}
''', kills=PARTIALS, concept='sign error'),
    Mistake("outer_factor_three_dropped_on_the_product_path", '''
def backprop_by_hand(a, b, c):
    J = 3 * (a + b * c)
    return {"J": float(J), "dJ_da": 3.0, "dJ_db": float(c), "dJ_dc": float(b)}
''', kills=PARTIALS, concept='outer factor'),
    Mistake("product_factors_swapped", '''
def backprop_by_hand(a, b, c):
    J = 3 * (a + b * c)
    return {"J": float(J), "dJ_da": 3.0, "dJ_db": 3.0 * b, "dJ_dc": 3.0 * c}
''', kills=PARTIALS, concept='swapped the factors'),
    Mistake("forward_pass_forgets_the_factor_three", '''
def backprop_by_hand(a, b, c):
    J = a + b * c
    return {"J": float(J), "dJ_da": 3.0, "dJ_db": 3.0 * c, "dJ_dc": 3.0 * b}
''', kills=("backprop_by_hand_returns_J_and_its_three_partials",), concept='J = 3 * v'),
    Mistake("backprop_by_hand_hands_it_to_a_tape", '''
def backprop_by_hand(a, b, c):
    a, b, c = (tf.constant(float(v)) for v in (a, b, c))
    with tf.GradientTape() as tape:
        tape.watch([a, b, c])
        J = 3 * (a + b * c)
    grads = tape.gradient(J, [a, b, c])
    return {"J": float(J), "dJ_da": float(grads[0]), "dJ_db": float(grads[1]), "dJ_dc": float(grads[2])}
''', kills=BACKPROP, visible=False, delegates=True, concept='Keras'),
    Mistake("forward_differences", '''
def numerical_gradient(f, x, h=1e-4):
    x = np.array(x, dtype=float)
    gradient = np.zeros_like(x)
    base = f(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        gradient[index] = (f(x) - base) / h
        x[index] = original
    return gradient
''', kills=("numerical_gradient_matches_central_differences",), concept='forward difference'),
    Mistake("step_h_ignored", '''
def numerical_gradient(f, x, h=1e-4):
    x = np.array(x, dtype=float)
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + 1e-5
        above = f(x)
        x[index] = original - 1e-5
        below = f(x)
        x[index] = original
        gradient[index] = (above - below) / 2e-5
    return gradient
''', kills=("numerical_gradient_matches_central_differences",), concept='use the h given'),
    Mistake("nudged_element_never_put_back", '''
def numerical_gradient(f, x, h=1e-4):
    x = np.asarray(x, dtype=float)
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += h
        above = f(x)
        x[index] -= 2 * h
        below = f(x)
        gradient[index] = (above - below) / (2 * h)
    return gradient
''', kills=NUMERICAL, concept='put it back'),
    Mistake("integer_x_is_nudged_in_place", '''
def numerical_gradient(f, x, h=1e-4):
    x = x.copy()
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        above = f(x)
        x[index] = original - h
        below = f(x)
        x[index] = original
        gradient[index] = (above - below) / (2 * h)
    return gradient
''', kills=("numerical_gradient_works_on_integer_x_and_leaves_x_as_it_was",), concept='integer array'),
    Mistake("only_one_dimensional_x", '''
def numerical_gradient(f, x, h=1e-4):
    x = np.array(x, dtype=float)
    gradient = np.zeros(len(x))
    for i in range(len(x)):
        step = np.zeros_like(x)
        step[i] = h
        gradient[i] = (f(x + step) - f(x - step)) / (2 * h)
    return gradient
''', kills=("numerical_gradient_keeps_the_shape_of_x",), concept='shape of x'),
    Mistake("numerical_gradient_through_a_tape", '''
def numerical_gradient(f, x, h=1e-4):
    x = tf.constant(np.asarray(x, dtype=float))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x).numpy()
''', kills=NUMERICAL, delegates=True, concept='Keras'),
    Mistake("tape_does_not_watch_the_constant", '''
def tape_gradient(f, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        y = f(x)
    return tape.gradient(y, x).numpy()
''', kills=TAPE, concept='returned None'),
    Mistake("tape_gradient_returns_the_tensor", '''
def tape_gradient(f, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)
''', kills=("tape_gradient_returns_a_numpy_array_of_the_shape_of_x",), concept='.numpy()'),
    Mistake("tape_gradient_by_finite_differences", '''
def tape_gradient(f, x):
    x = np.array(x, dtype=float)
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = 1e-6
        gradient[index] = (float(f(x + step)) - float(f(x - step))) / 2e-6
    return gradient
''', kills=("tape_gradient_differentiates_one_recorded_run_of_f",), visible=False, concept='not a tape'),
    Mistake("first_derivative_computed_outside_the_outer_tape", '''
def second_derivative(f, x):
    x = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
    first = inner.gradient(y, x)
    return float(outer.gradient(first, x))
''', kills=SECOND, concept='while the outer tape records'),
    Mistake("second_derivative_returns_the_first", '''
def second_derivative(f, x):
    x = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        first = inner.gradient(y, x)
    return float(first)
''', kills=("second_derivative_matches_nested_tapes",), concept='first derivative'),
    Mistake("second_derivative_returns_a_tensor", '''
def second_derivative(f, x):
    x = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        first = inner.gradient(y, x)
    return outer.gradient(first, x)
''', kills=("second_derivative_matches_nested_tapes",), concept='Python float'),
    Mistake("second_derivative_by_finite_differences", '''
def second_derivative(f, x):
    h = 1e-4
    return float((float(f(x + h)) - 2 * float(f(x)) + float(f(x - h))) / h ** 2)
''', kills=("second_derivative_differentiates_one_recorded_run_of_f",), concept='not a tape'),
    Mistake("non_persistent_tape_used_twice", '''
def persistent_gradients(f, g, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y_f = f(x)
        y_g = g(x)
    return tape.gradient(y_f, x).numpy(), tape.gradient(y_g, x).numpy()
''', kills=PERSISTENT, concept='persistent=True'),
    Mistake("one_gradient_call_for_both_targets", '''
def persistent_gradients(f, g, x):
    x = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y_f = f(x)
        y_g = g(x)
    both = tape.gradient([y_f, y_g], x).numpy()
    return both, both
''', kills=("persistent_gradients_match_a_gradient_tape",), concept='sums over its targets'),
    Mistake("g_evaluated_after_the_tape_closed", '''
def persistent_gradients(f, g, x):
    x = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y_f = f(x)
    y_g = g(x)
    return tape.gradient(y_f, x).numpy(), tape.gradient(y_g, x).numpy()
''', kills=PERSISTENT, concept="inside the tape's with block"),
    Mistake("persistent_gradients_by_finite_differences", '''
def persistent_gradients(f, g, x):
    return numerical_gradient(lambda v: float(f(v)), x), numerical_gradient(lambda v: float(g(v)), x)
''', kills=("persistent_gradients_differentiate_one_recorded_run_of_each",), visible=False,
            concept="not a tape"),
]

VARIANTS = [
    Variant("backprop_with_a_gradient_dict", '''
def backprop_by_hand(a, b, c):
    values = {"u": b * c}
    values["v"] = a + values["u"]
    values["J"] = 3 * values["v"]
    grads = {"J": 1.0}
    grads["v"] = grads["J"] * 3
    grads["a"] = grads["v"] * 1
    grads["u"] = grads["v"] * 1
    grads["b"] = grads["u"] * c
    grads["c"] = grads["u"] * b
    return {"J": values["J"], "dJ_da": grads["a"], "dJ_db": grads["b"], "dJ_dc": grads["c"]}
'''),
    Variant("central_differences_on_a_flat_view", '''
def numerical_gradient(f, x, h=1e-4):
    shape = np.shape(x)
    flat = np.array(x, dtype=np.float64).reshape(-1)
    gradient = np.empty_like(flat)
    for i in range(flat.size):
        step = np.zeros_like(flat)
        step[i] = h
        gradient[i] = (f((flat + step).reshape(shape)) - f((flat - step).reshape(shape))) / (2 * h)
    return gradient.reshape(shape)
'''),
    Variant("tapes_in_float32_with_watch_lists", '''
def tape_gradient(f, x):
    x = tf.convert_to_tensor(np.asarray(x), dtype=tf.float32)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch([x])
        y = f(x)
    (gradient,) = tape.gradient(y, [x])
    return np.asarray(gradient)


def persistent_gradients(f, g, x):
    x = tf.convert_to_tensor(np.asarray(x), dtype=tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        outputs = [f(x), g(x)]
    gradients = tuple(np.asarray(tape.gradient(y, x)) for y in outputs)
    del tape
    return gradients
'''),
    Variant("second_derivative_in_float32", '''
def second_derivative(f, x):
    x = tf.Variable(float(x), dtype=tf.float32)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = f(x)
        dy_dx = inner.gradient(y, x)
    return float(outer.gradient(dy_dx, x).numpy())
'''),
]
