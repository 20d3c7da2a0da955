# The visible checks of 04 · Taking control of fit() (`make feedback TOPIC=04_train_step` runs them).
# Grading uses other, hidden checks, so changing this file changes only your own feedback.
"""Visible tests for the custom train_step. Run them with `pytest exercises/04_train_step`.

Each test builds the same small model twice with the same seed, once as a plain keras.Model and
once as your CustomFitModel, and lets Keras' own step show what yours should do.
"""

import inspect

import keras
import numpy as np
import pytest

from grimoire.teach import Mismatch, call_or_not_started, expect_value
from train_step import CustomFitModel, small_classifier


@pytest.mark.task("CustomFitModel")
def test_train_step_and_test_step_are_your_own_not_keras_built_in_ones():
    """The rule of this topic, checked in your code: both steps are written in your class."""
    model = small_classifier(CustomFitModel)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    call_or_not_started(model.train_step, (np.zeros((2, 4), "float32"), np.array([0, 1])))

    def names(code):  # the names and strings a function's code uses, nested functions included
        found = set(code.co_names)
        for constant in code.co_consts:
            if inspect.iscode(constant):
                found |= names(constant)
            elif isinstance(constant, str):
                found.add(constant)
        return found

    rule = ("the grader gives no point to a CustomFitModel whose steps are Keras' own: write "
            "train_step and test_step in your class, without super().train_step or the backend trainer")
    for method in ("train_step", "test_step"):
        owner = next(klass for klass in CustomFitModel.__mro__ if method in vars(klass))
        if owner.__module__.startswith("keras"):
            raise Mismatch(f"CustomFitModel.{method} is Keras' own (inherited from {owner.__name__}); "
                           f"expected a {method} written in your class: {rule}")
        used = names(vars(owner)[method].__code__)
        if ("super" in used and used & {"train_step", "test_step"}) or any("Trainer" in n for n in used):
            raise Mismatch(f"CustomFitModel.{method} calls Keras' built-in step (super() or the "
                           f"backend trainer); expected the step written out: {rule}")


@pytest.mark.task("CustomFitModel")
def test_one_train_step_moves_the_weights_exactly_like_keras_own_step():
    x = np.linspace(-2, 2, 32, dtype="float32").reshape(8, 4)
    y = np.array([0, 1, 2, 0, 1, 2, 2, 1])
    model = small_classifier(CustomFitModel)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    call_or_not_started(model.train_step, (x, y))
    expected = small_classifier(keras.Model)
    expected.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    expected.train_step((x, y))
    for mine, theirs in zip(model.layers, expected.layers):
        for got, want in zip(mine.trainable_weights, theirs.trainable_weights):
            expect_value(f"model.train_step((x, y)); then the {type(mine).__name__} layer's {got.name}",
                         got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6,
                         concept="inside a tf.GradientTape: y_pred = self(x, training=True) and "
                                 "self.compute_loss(...); then tape.gradient and self.optimizer.apply")


@pytest.mark.task("CustomFitModel")
def test_batchnorm_learns_its_statistics_only_in_training_mode():
    x = np.linspace(-2, 2, 32, dtype="float32").reshape(8, 4)
    y = np.array([0, 1, 2, 0, 1, 2, 2, 1])
    model = small_classifier(CustomFitModel)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    call_or_not_started(model.train_step, (x, y))
    expected = small_classifier(keras.Model)
    expected.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    expected.train_step((x, y))
    norm = model.layers[2]  # Input, Dense, BatchNormalization, Dropout, Dense
    expect_value("model.train_step((x, y)); BatchNormalization's moving_mean",
                 norm.moving_mean.numpy(), expected.layers[2].moving_mean.numpy(), rtol=1e-5, atol=1e-6,
                 concept="only self(x, training=True) makes BatchNormalization use this batch's "
                         "statistics and move its moving mean towards them (and makes Dropout drop)")


@pytest.mark.task("CustomFitModel")
def test_sample_weights_arrive_as_a_third_element_of_the_batch():
    x = np.linspace(-2, 2, 32, dtype="float32").reshape(8, 4)
    y = np.array([0, 1, 2, 0, 1, 2, 2, 1])
    weights = np.array([1.0, 0.0, 2.0, 0.0, 1.0, 0.0, 3.0, 0.0], dtype="float32")
    model = small_classifier(CustomFitModel)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    try:
        call_or_not_started(model.train_step, (x, y, weights))
    except ValueError as error:
        raise Mismatch(f"model.train_step((x, y, sample_weight)) raised ValueError: {error}; "
                       "use keras.utils.unpack_x_y_sample_weight(data), which accepts "
                       "(x, y) and (x, y, sample_weight)") from None
    expected = small_classifier(keras.Model)
    expected.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    expected.train_step((x, y, weights))
    got, want = model.layers[-1].kernel.numpy(), expected.layers[-1].kernel.numpy()
    expect_value("model.train_step((x, y, sample_weight)); the last Dense kernel", got, want,
                 rtol=1e-5, atol=1e-6,
                 concept="pass sample_weight to self.compute_loss: an example of weight 0 must not "
                         "pull on the weights, one of weight 3 pulls three times as hard")


@pytest.mark.task("CustomFitModel")
def test_train_step_returns_the_running_loss_and_every_compiled_metric():
    x = np.linspace(-2, 2, 32, dtype="float32").reshape(8, 4)
    y = np.array([0, 1, 2, 0, 1, 2, 2, 1])
    logs = {}
    for model_class in (CustomFitModel, keras.Model):  # yours first: a stub stops at once
        model = small_classifier(model_class)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        call_or_not_started(model.train_step, (x[:4], y[:4]))  # fit: one call per batch...
        last = call_or_not_started(model.train_step, (x[4:], y[4:]))  # ...and history keeps the last
        flat = {}  # like fit, flatten the compiled metrics' own dict into the logs
        for key, value in last.items():
            flat.update(value if isinstance(value, dict) else {key: value})
        logs[model_class] = {key: float(value) for key, value in flat.items()}
    got, want = logs[CustomFitModel], logs[keras.Model]
    expect_value("sorted(model.train_step(batch))", sorted(got), sorted(want),
                 concept="fit records what train_step returns: {metric.name: metric.result()} for "
                         "every metric in self.metrics, the 'loss' tracker included")
    for key, value in want.items():
        expect_value(f"model.train_step(second batch)[{key!r}]", got[key], value, rtol=1e-5,
                     concept="compute_loss does not update the 'loss' tracker: call its "
                             "update_state(loss); update the other metrics with (y, y_pred, "
                             "sample_weight) and return their result(), the mean over both batches")


@pytest.mark.task("CustomFitModel")
def test_test_step_scores_like_keras_and_leaves_the_model_alone():
    x = np.linspace(-2, 2, 32, dtype="float32").reshape(8, 4)
    y = np.array([0, 1, 2, 0, 1, 2, 2, 1])
    logs, weights = {}, {}
    for model_class in (CustomFitModel, keras.Model):  # yours first: a stub stops at once
        model = small_classifier(model_class)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        call_or_not_started(model.test_step, (x[:4], y[:4]))  # evaluate: one call per batch
        last = call_or_not_started(model.test_step, (x[4:], y[4:]))
        flat = {}  # like evaluate, flatten the compiled metrics' own dict into the logs
        for key, value in last.items():
            flat.update(value if isinstance(value, dict) else {key: value})
        logs[model_class] = {key: float(value) for key, value in flat.items()}
        weights[model_class] = {f"the {type(layer).__name__} layer's {variable.name}": variable.numpy()
                                for layer in model.layers for variable in layer.weights}
    concept = ("test_step: y_pred = self(x, training=False), the loss and the metrics updated and "
               "returned as in train_step, and no gradient step")
    for key, value in logs[keras.Model].items():
        expect_value(f"model.test_step(second batch)[{key!r}]", logs[CustomFitModel].get(key), value,
                     rtol=1e-5, concept=concept)
    for name, value in weights[keras.Model].items():
        expect_value(f"model.test_step(...) twice; then {name}", weights[CustomFitModel][name], value,
                     concept=concept)
