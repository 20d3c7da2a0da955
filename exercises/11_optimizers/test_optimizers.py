# The visible checks of 11 · Optimizers: SGD with momentum, RMSProp, Adam (`make feedback TOPIC=11_optimizers` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for the optimizers. Run them with `pytest exercises/11_optimizers`."""

import numpy as np
import pytest

from grimoire.quiet import import_keras
from grimoire.teach import Mismatch, call_or_not_started, expect_value
from optimizers import adam_step, rmsprop_step, sgd_step


@pytest.mark.task("sgd_step")
def test_plain_sgd_steps_against_the_gradient():
    got = call_or_not_started(sgd_step, np.array([1.0, -2.0]), np.array([0.5, -1.0]), np.zeros(2),
                              learning_rate=0.1)
    expect_value("type(sgd_step(...))", type(got).__name__, "tuple", concept="return the pair (new_param, new_velocity)")
    expect_value("sgd_step(param=[1, -2], grad=[0.5, -1], velocity=[0, 0], learning_rate=0.1)", got,
                 (np.array([0.95, -1.9]), np.array([-0.05, 0.1])),
                 concept="with momentum=0 the velocity is 0 * velocity - 0.1 * grad = [-0.05, 0.1] (Keras' "
                         "convention: it points downhill) and the parameter becomes param + velocity")


@pytest.mark.task("sgd_step")
def test_three_momentum_steps_from_one_match_keras_0_439():
    param, velocity = np.array([1.0]), np.array([0.0])
    for _ in range(3):
        param, velocity = call_or_not_started(sgd_step, param, np.array([1.0]), velocity,
                                              learning_rate=0.1, momentum=0.9)
    expect_value("three sgd_step calls from param=1 with grad=1, learning_rate=0.1, momentum=0.9 (param)",
                 param, np.array([0.439]),
                 concept="velocities -0.1, -0.19, -0.271 (momentum * velocity - 0.1 * grad), each added to the "
                         "parameter: 1 - 0.1 - 0.19 - 0.271 = 0.439, as keras.optimizers.SGD gives")
    expect_value("... and the velocity after them", velocity, np.array([-0.271]),
                 concept="Keras' velocity points downhill: momentum * velocity - learning_rate * grad")


@pytest.mark.task("sgd_step")
def test_nesterov_momentum_looks_one_step_ahead():
    keras = import_keras()
    rng = np.random.default_rng(4)
    start, grads = rng.normal(size=3), [rng.normal(size=3) for _ in range(3)]
    variable = keras.Variable(start.copy(), dtype="float64")
    optimizer = keras.optimizers.SGD(learning_rate=0.5, momentum=0.5, nesterov=True)  # both exact in float32
    param, velocity = start, np.zeros(3)
    for grad in grads:
        optimizer.apply([grad], [variable])
        param, velocity = call_or_not_started(sgd_step, param, grad, velocity, learning_rate=0.5, momentum=0.5,
                                              nesterov=True)
    expect_value("three sgd_step(..., learning_rate=0.5, momentum=0.5, nesterov=True) calls (param)", param,
                 np.asarray(variable.numpy()),
                 concept="with nesterov=True the parameter moves by momentum * new_velocity - learning_rate * "
                         "grad, like keras.optimizers.SGD(nesterov=True)")


@pytest.mark.task("rmsprop_step")
def test_rmsprop_divides_by_the_root_of_the_average_square():
    got = call_or_not_started(rmsprop_step, np.array([1.0, 1.0]), np.array([2.0, -4.0]), np.zeros(2),
                              learning_rate=0.1, rho=0.75, epsilon=0.0)
    expect_value("type(rmsprop_step(...))", type(got).__name__, "tuple",
                 concept="return the pair (new_param, new_average_square)")
    expect_value("rmsprop_step(param=[1, 1], grad=[2, -4], average_square=[0, 0], learning_rate=0.1, rho=0.75, "
                 "epsilon=0)", got, (np.array([0.8, 1.2]), np.array([1.0, 4.0])),
                 concept="average_square = 0.75 * 0 + 0.25 * grad**2 = [1, 4]; the step is 0.1 * grad / "
                         "sqrt(average_square) = [0.2, -0.2]: the same size whatever the gradient's scale")


@pytest.mark.task("rmsprop_step")
def test_rmsprop_puts_epsilon_inside_the_square_root():
    got = call_or_not_started(rmsprop_step, np.array([0.0]), np.array([2.0]), np.array([0.0]),
                              learning_rate=1.0, rho=0.75, epsilon=3.0)
    expect_value("rmsprop_step(param=[0], grad=[2], average_square=[0], learning_rate=1, rho=0.75, epsilon=3)[0]",
                 got[0] if type(got) is tuple else got, np.array([-1.0]),
                 concept="Keras divides by sqrt(average_square + epsilon) = sqrt(1 + 3) = 2, epsilon inside "
                         "the square root (sqrt(1) + 3 = 4 would be the other placement)")


@pytest.mark.task("adam_step")
def test_adam_first_step_moves_by_about_the_learning_rate():
    got = call_or_not_started(adam_step, np.array([1.0, 1.0]), np.array([0.5, -20.0]), np.zeros(2), np.zeros(2),
                              step=1, learning_rate=0.1, epsilon=0.0)
    expect_value("type(adam_step(...))", type(got).__name__, "tuple", concept="return (new_param, new_m, new_v)")
    if len(got) != 3:
        raise Mismatch(f"adam_step(...) returned a tuple of {len(got)}; expected 3: (new_param, new_m, new_v)")
    expect_value("adam_step(param=[1, 1], grad=[0.5, -20], m=0, v=0, step=1, learning_rate=0.1, epsilon=0)[0]",
                 got[0], np.array([0.9, 1.1]),
                 concept="at step 1 the bias correction makes the step learning_rate * sign(grad), whatever the "
                         "gradient's size: alpha = 0.1 * sqrt(1 - 0.999) / (1 - 0.9), m = 0.1 * grad, "
                         "sqrt(v) = sqrt(0.001) * |grad|")
    expect_value("adam_step(...)[1:] (m, v)", (got[1], got[2]), (np.array([0.05, -2.0]), np.array([0.00025, 0.4])),
                 concept="m = 0.9 * 0 + 0.1 * grad and v = 0.999 * 0 + 0.001 * grad**2, returned uncorrected")


@pytest.mark.task("adam_step")
def test_adam_follows_keras_for_five_steps():
    keras = import_keras()
    rng = np.random.default_rng(9)
    start, grads = rng.normal(size=4), [rng.normal(size=4) for _ in range(5)]
    variable = keras.Variable(start.copy(), dtype="float64")
    optimizer = keras.optimizers.Adam(learning_rate=0.25, beta_1=0.75, beta_2=0.96875, epsilon=0.5)
    param, m, v = start, np.zeros(4), np.zeros(4)
    for step, grad in enumerate(grads, start=1):
        optimizer.apply([grad], [variable])
        param, m, v = call_or_not_started(adam_step, param, grad, m, v, step, learning_rate=0.25, beta_1=0.75,
                                          beta_2=0.96875, epsilon=0.5)
    expect_value("five adam_step calls, steps 1 to 5, epsilon=0.5 (param)", param, np.asarray(variable.numpy()),
                 concept="keras.optimizers.Adam: alpha = learning_rate * sqrt(1 - beta_2**step) / "
                         "(1 - beta_1**step), then param - alpha * m / (sqrt(v) + epsilon), epsilon outside the "
                         "correction; m and v are carried uncorrected")
