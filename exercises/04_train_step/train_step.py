# 04 · Taking control of fit(): write your code at each TODO, then check it with `make feedback TOPIC=04_train_step`
# (`make watch` checks it on every save; `make reset TOPIC=04_train_step` starts over, keeping a copy).
"""Taking control of fit(): a model that writes its own training step.

``model.fit`` is a loop: for every batch it calls ``model.train_step(batch)`` and records what
comes back. Override ``train_step`` and you decide what one step does (the forward pass, the
loss, the gradients, the update, the metrics) while keeping everything else ``fit`` gives you:
epochs, batching, callbacks, the progress bar, ``history``. ``evaluate`` calls ``test_step``
the same way.
"""

import keras
import tensorflow as tf


def small_classifier(model_class=keras.Model, seed=0, features=4, classes=3):
    """A functional classifier with BatchNormalization and Dropout, the same for the same seed.

    ``small_classifier(CustomFitModel)`` and ``small_classifier(keras.Model)`` start from
    identical weights, so the two can be trained side by side and compared.
    """
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((features,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    hidden = keras.layers.BatchNormalization()(hidden)
    hidden = keras.layers.Dropout(0.25)(hidden)
    outputs = keras.layers.Dense(classes, activation="softmax")(hidden)
    return model_class(inputs, outputs)


class CustomFitModel(keras.Model):
    """A Keras model with a hand-written ``train_step`` (and ``test_step``).

    Build it like any functional model, ``CustomFitModel(inputs, outputs)``; compile it with any
    optimizer, loss and metrics; ``fit`` it. With the same seed and ``shuffle=False`` it must end
    with the same weights and the same ``history`` as a plain ``keras.Model``.

    >>> model = small_classifier(CustomFitModel)
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=3, verbose=0)
    >>> sorted(history.history)
    ['accuracy', 'loss']
    """

    def train_step(self, data):
        """Train on one batch; return ``{metric name: value}`` for ``fit`` to record.

        ``data`` is one batch as ``fit`` hands it over: ``(x, y)``, or ``(x, y, sample_weight)``
        when ``fit`` was given sample weights. One step:

        1. the forward pass in *training mode* (Dropout drops, BatchNormalization uses and updates
           batch statistics), recorded by a ``tf.GradientTape``;
        2. the compiled loss, sample weights and regularization included: ``self.compute_loss``;
        3. the gradients of the loss with respect to ``self.trainable_variables``, applied by the
           compiled optimizer;
        4. every metric in ``self.metrics`` updated: after ``compile`` their names are
           ``['loss', 'compile_metrics']``, the loss tracker (update it with the loss) and one
           container of the compiled metrics (update it with ``y``, the predictions and
           ``sample_weight``);
        5. the metrics' results returned, by name.
        """
        # TODO: your code here (the docstring above says what it should do)
        raise NotImplementedError("train_step is not implemented yet")

    def test_step(self, data):
        """Evaluate one batch: like ``train_step`` without the tape, the gradients and the update.

        ``data`` is ``(x, y)`` or ``(x, y, sample_weight)``, as in ``train_step``. The forward
        pass runs in *inference mode* (no dropout, BatchNormalization's moving statistics used
        and left alone); the loss (sample weights included) and the metrics are updated and
        returned as in ``train_step``. ``evaluate`` calls it for every batch.
        """
        # TODO: your code here (the docstring above says what it should do)
        raise NotImplementedError("test_step is not implemented yet")
