"""Mistakes learners make when counting parameters, and correct answers written differently."""

from dataclasses import replace

from tests.catalog import Mistake, Variant

MISTAKES = [
    Mistake("dense_forgets_the_bias", '''
def dense_params(input_dim, units, use_bias=True):
    return input_dim * units
''', kills=("dense_params_matches_keras_with_bias",)),
    Mistake("dense_always_adds_a_bias", '''
def dense_params(input_dim, units, use_bias=True):
    return input_dim * units + units
''', kills=("dense_params_matches_keras_without_bias",)),
    Mistake("dense_returns_a_float", '''
def dense_params(input_dim, units, use_bias=True):
    return float(input_dim * units + (units if use_bias else 0))
''', kills=("dense_params_matches_keras_with_bias", "dense_params_matches_keras_without_bias")),
    Mistake("conv_ignores_input_channels", '''
def conv2d_params(in_channels, filters, kernel_size, use_bias=True):
    height, width = as_pair(kernel_size)
    return height * width * filters + (filters if use_bias else 0)
''', kills=("conv2d_params_matches_keras_for_square_kernels",)),
    Mistake("conv_squares_the_first_side_of_a_rectangular_kernel", '''
def conv2d_params(in_channels, filters, kernel_size, use_bias=True):
    side = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
    return side * side * in_channels * filters + (filters if use_bias else 0)
''', kills=("conv2d_params_matches_keras_for_rectangular_kernels",)),
    Mistake("conv_counts_a_bias_per_weight_position", '''
def conv2d_params(in_channels, filters, kernel_size, use_bias=True):
    height, width = as_pair(kernel_size)
    return height * width * in_channels * filters + (height * width * filters if use_bias else 0)
''', kills=("conv2d_params_matches_keras_for_square_kernels",)),
    Mistake("conv_ignores_use_bias", '''
def conv2d_params(in_channels, filters, kernel_size, use_bias=True):
    height, width = as_pair(kernel_size)
    return height * width * in_channels * filters + filters
''', kills=("conv2d_params_matches_keras_without_bias",), visible=False),
    Mistake("lstm_forgets_the_recurrent_weights", '''
def lstm_params(input_dim, units, use_bias=True):
    return 4 * (input_dim * units + (units if use_bias else 0))
''', kills=("lstm_params_matches_keras",)),
    Mistake("lstm_counts_one_gate", '''
def lstm_params(input_dim, units, use_bias=True):
    return units * (input_dim + units) + (units if use_bias else 0)
''', kills=("lstm_params_matches_keras", "lstm_params_matches_keras_without_bias")),
    Mistake("lstm_ignores_use_bias", '''
def lstm_params(input_dim, units, use_bias=True):
    return 4 * (units * (input_dim + units) + units)
''', kills=("lstm_params_matches_keras_without_bias",), visible=False),
    Mistake("batchnorm_calls_everything_trainable", '''
def batchnorm_params(features):
    return 4 * features, 0
''', kills=("batchnorm_params_splits_trainable_like_keras",)),
    Mistake("batchnorm_returns_a_list", '''
def batchnorm_params(features):
    return [2 * features, 2 * features]
''', kills=("batchnorm_params_splits_trainable_like_keras",)),
    Mistake("hard_coded_answers_from_the_docstrings", '''
def dense_params(input_dim, units, use_bias=True):
    return 7850 if use_bias else 2048


def lstm_params(input_dim, units, use_bias=True):
    return 2480
''', kills=("dense_params_matches_keras_with_bias", "dense_params_matches_keras_without_bias",
            "lstm_params_matches_keras", "lstm_params_matches_keras_without_bias"), visible=False),
    # Handing the count to Keras: the grader gives no point to a task that imports it (OWN_WORK).
    Mistake("dense_asks_keras_to_count", '''
def dense_params(input_dim, units, use_bias=True):
    import keras
    layer = keras.layers.Dense(units, use_bias=use_bias)
    layer.build((None, input_dim))
    return layer.count_params()
''', kills=("dense_params_matches_keras_with_bias", "dense_params_matches_keras_without_bias"),
        delegates=True, concept="Keras"),
    Mistake("conv_asks_keras_through_dunder_import", '''
def conv2d_params(in_channels, filters, kernel_size, use_bias=True):
    layers = __import__("keras").layers
    layer = layers.Conv2D(filters, kernel_size, use_bias=use_bias)
    layer.build((None, 32, 32, in_channels))
    return layer.count_params()
''', kills=("conv2d_params_matches_keras_for_square_kernels",
            "conv2d_params_matches_keras_for_rectangular_kernels",
            "conv2d_params_matches_keras_without_bias"), delegates=True, concept="Keras"),
    Mistake("lstm_asks_keras_through_importlib", '''
import importlib


def lstm_params(input_dim, units, use_bias=True):
    layer = importlib.import_module("keras").layers.LSTM(units, use_bias=use_bias)
    layer.build((None, None, input_dim))
    return layer.count_params()
''', kills=("lstm_params_matches_keras", "lstm_params_matches_keras_without_bias"),
        delegates=True, concept="Keras"),
    Mistake("batchnorm_asks_keras_through_sys_modules", '''
import sys


def batchnorm_params(features):
    keras = sys.modules["keras"]
    layer = keras.layers.BatchNormalization()
    layer.build((None, features))
    return (sum(int(w.numpy().size) for w in layer.trainable_weights),
            sum(int(w.numpy().size) for w in layer.non_trainable_weights))
''', kills=("batchnorm_params_splits_trainable_like_keras",), delegates=True, concept="Keras"),
]


# The real cause of each mistake, in words every message of the checks it fails must hold.
CONCEPTS = {
    'dense_forgets_the_bias': 'biases',
    'dense_always_adds_a_bias': 'no bias',
    'dense_returns_a_float': 'an int',
    'conv_ignores_input_channels': 'input channels',
    'conv_squares_the_first_side_of_a_rectangular_kernel': 'rectangular',
    'conv_counts_a_bias_per_weight_position': 'one bias per filter',
    'conv_ignores_use_bias': 'no bias',
    'lstm_forgets_the_recurrent_weights': 'recurrent',
    'lstm_counts_one_gate': '4 gates',
    'lstm_ignores_use_bias': 'no bias',
    'batchnorm_calls_everything_trainable': 'moving mean',
    'batchnorm_returns_a_list': 'tuple',
    'hard_coded_answers_from_the_docstrings': 'weights',
}
MISTAKES = [replace(m, concept=m.concept or CONCEPTS[m.name]) for m in MISTAKES]

VARIANTS = [    Variant("numpy_integers_and_explicit_gates", '''
import numpy as np


def lstm_params(input_dim, units, use_bias=True):
    gates = ["input", "forget", "candidate", "output"]
    total = np.int64(0)
    for _ in gates:
        total += units * input_dim + units * units + (units if use_bias else 0)
    return total


def conv2d_params(in_channels, filters, kernel_size, use_bias=True):
    height, width = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size
    return int(np.prod([height, width, in_channels, filters])) + int(use_bias) * filters
'''),
]
