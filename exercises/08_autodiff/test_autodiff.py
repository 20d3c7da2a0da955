# The visible checks of 08 · Automatic differentiation: by hand, by differences, by tape (`make feedback TOPIC=08_autodiff` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for automatic differentiation. Run them with `pytest exercises/08_autodiff`."""

import numpy as np
import pytest
import tensorflow as tf

from autodiff import backprop_by_hand, numerical_gradient, persistent_gradients, second_derivative, tape_gradient
from grimoire.teach import Mismatch, call_or_not_started, expect_value


def as_array(value):
    return value.numpy() if tf.is_tensor(value) else value


@pytest.mark.task("backprop_by_hand")
def test_backprop_by_hand_on_the_course_example():
    got = call_or_not_started(backprop_by_hand, 5.0, 3.0, 2.0)
    expect_value("sorted(backprop_by_hand(5.0, 3.0, 2.0))", sorted(got) if type(got) is dict else got,
                 ["J", "dJ_da", "dJ_db", "dJ_dc"], concept="a dict with the keys J, dJ_da, dJ_db and dJ_dc")
    expect_value("backprop_by_hand(5.0, 3.0, 2.0)['J']", got["J"], 33.0,
                 concept="forward: u = b * c = 6, v = a + u = 11, J = 3 * v = 33")
    expect_value("backprop_by_hand(5.0, 3.0, 2.0)['dJ_da']", got["dJ_da"], 3.0,
                 concept="dJ/da = dJ/dv * dv/da = 3 * 1")


@pytest.mark.task("backprop_by_hand")
def test_backprop_by_hand_multiplies_local_derivatives_along_each_path():
    got = call_or_not_started(backprop_by_hand, 1.0, 2.0, -4.0)
    expect_value("backprop_by_hand(1.0, 2.0, -4.0)['dJ_db']", got["dJ_db"], -12.0,
                 concept="dJ/db = dJ/dv * dv/du * du/db = 3 * 1 * c = 3 * (-4)")
    expect_value("backprop_by_hand(1.0, 2.0, -4.0)['dJ_dc']", got["dJ_dc"], 6.0,
                 concept="dJ/dc = dJ/dv * dv/du * du/dc = 3 * 1 * b = 3 * 2: each factor of u = b * c "
                         "has the other factor as its local derivative")


@pytest.mark.task("numerical_gradient")
def test_numerical_gradient_of_a_cube_is_central():
    # For x**3 the central difference is exactly 3 x**2 + h**2; a forward one is off by about 3 x h.
    got = call_or_not_started(numerical_gradient, lambda x: np.sum(x ** 3), np.array([1.0, -2.0, 0.5]), h=0.1)
    expect_value("numerical_gradient(lambda x: np.sum(x ** 3), [1, -2, 0.5], h=0.1)", got,
                 np.array([3.01, 12.01, 0.76]), atol=1e-9,
                 concept="(f(x + h e_i) - f(x - h e_i)) / (2 h) = 3 x_i**2 + h**2 for a cube: nudge each "
                         "element alone, both ways, with the h given (a forward difference gives "
                         "3 x**2 + 3 x h + h**2)")


@pytest.mark.task("numerical_gradient")
def test_numerical_gradient_keeps_the_shape_and_leaves_x_alone():
    x = np.array([[1, 2], [3, -1]])  # integers, (2, 2)
    weights = np.array([[1.0, -2.0], [0.5, 3.0]])
    got = call_or_not_started(numerical_gradient, lambda v: np.sum(weights * v) + np.sum(v) ** 2, x)
    expect_value("numerical_gradient(lambda v: sum(w * v) + sum(v)**2, integer x of shape (2, 2))", got,
                 weights + 2 * x.sum(), atol=1e-6,
                 concept="one partial derivative per element, in the shape of x, in floats: work on a "
                         "float copy (an integer array cannot hold x + h)")
    expect_value("x after numerical_gradient(f, x)", x, np.array([[1, 2], [3, -1]]),
                 concept="the caller's x must be left as it was: nudge a copy, or put each element back")


@pytest.mark.task("tape_gradient")
def test_tape_gradient_of_a_sum_of_squares():
    got = call_or_not_started(tape_gradient, lambda x: tf.reduce_sum(x * x), np.array([1.0, -2.0, 3.0]))
    if got is None:
        raise Mismatch("tape_gradient(lambda x: reduce_sum(x * x), [1, -2, 3]) returned None; expected "
                       "[2, -4, 6]: a tape follows a constant only after tape.watch(x)")
    expect_value("tape_gradient(lambda x: reduce_sum(x * x), [1, -2, 3])", as_array(got),
                 np.array([2.0, -4.0, 6.0]), atol=1e-5,
                 concept="d/dx sum(x**2) = 2x: watch the constant, run f inside the tape's block")
    expect_value("type(tape_gradient(...))", type(got).__name__, "ndarray",
                 concept="return a NumPy array: .numpy() turns the tape's tensor into one")


@pytest.mark.task("second_derivative")
def test_second_derivative_of_a_cube():
    got = call_or_not_started(second_derivative, lambda x: x * x * x + tf.sin(x), 0.5)
    expect_value("second_derivative(lambda x: x**3 + sin(x), 0.5)", got, 6 * 0.5 - np.sin(0.5), atol=1e-5,
                 concept="(x**3 + sin x)'' = 6x - sin x: the outer tape must record the inner "
                         "gradient, so compute it inside the outer tape's block")
    expect_value("type(second_derivative(...))", type(got).__name__, "float",
                 concept="return a Python float: float(tensor)")


@pytest.mark.task("persistent_gradients")
def test_persistent_gradients_of_two_functions():
    x = np.array([1.0, 2.0])
    got = call_or_not_started(persistent_gradients, lambda v: tf.reduce_sum(v * v),
                              lambda v: tf.reduce_sum(tf.sin(v)), x)
    expect_value("type(persistent_gradients(f, g, x))", type(got).__name__, "tuple",
                 concept="return the pair (df/dx, dg/dx)")
    df, dg = (as_array(part) for part in got)
    expect_value("persistent_gradients(sum(x**2), sum(sin x), [1, 2])[0]", df, 2 * x, atol=1e-5,
                 concept="df/dx = 2x alone: ask the persistent tape once per function")
    expect_value("persistent_gradients(sum(x**2), sum(sin x), [1, 2])[1]", dg, np.cos(x), atol=1e-5,
                 concept="dg/dx = cos x: record g under the same tape, inside its block")
