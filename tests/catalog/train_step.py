"""Mistakes learners make writing train_step / test_step, and correct steps written differently.

Each entry's code is appended to the reference solution and subclasses its ``CustomFitModel``,
replacing ``train_step`` or ``test_step`` only.
"""

from dataclasses import replace

from tests.catalog import Mistake, Variant

ALL_CHECKS = (
    "trains_like_the_built_in_fit", "runs_the_forward_pass_in_training_mode",
    "records_the_running_loss_and_metrics", "weighs_the_loss_by_sample_weight",
    "uses_the_compiled_loss_optimizer_and_regularization", "test_step_evaluates_like_keras",
    "test_step_weighs_by_sample_weight", "test_step_leaves_the_model_unchanged",
)

MISTAKES = [
    Mistake("forgets_training_true", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {metric.name: metric.result() for metric in self.metrics}
''', kills=("runs_the_forward_pass_in_training_mode",)),
    Mistake("leaves_the_loss_tracker_to_compute_metrics", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
''', kills=("records_the_running_loss_and_metrics", "weighs_the_loss_by_sample_weight")),
    Mistake("ignores_sample_weight", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {metric.name: metric.result() for metric in self.metrics}
''', kills=("weighs_the_loss_by_sample_weight",)),
    Mistake("unpacks_data_as_x_y", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {metric.name: metric.result() for metric in self.metrics}
''', kills=("weighs_the_loss_by_sample_weight",)),
    Mistake("returns_only_the_batch_loss", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return {"loss": loss}
''', kills=("records_the_running_loss_and_metrics", "weighs_the_loss_by_sample_weight")),
    Mistake("never_applies_the_gradients", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        gradients = tape.gradient(loss, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {metric.name: metric.result() for metric in self.metrics}
''', kills=("trains_like_the_built_in_fit", "runs_the_forward_pass_in_training_mode",
            "uses_the_compiled_loss_optimizer_and_regularization")),
    Mistake("computes_the_loss_outside_the_tape", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {metric.name: metric.result() for metric in self.metrics}
''', kills=("trains_like_the_built_in_fit",)),
    Mistake("hard_codes_mean_squared_error", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = keras.losses.MeanSquaredError()(y, y_pred, sample_weight=sample_weight)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {metric.name: metric.result() for metric in self.metrics}
''', kills=("uses_the_compiled_loss_optimizer_and_regularization",)),
    Mistake("applies_the_loss_function_by_hand", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        loss_function = keras.losses.get(self.loss)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = keras.ops.mean(loss_function(y, y_pred))
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {metric.name: metric.result() for metric in self.metrics}
''', kills=("uses_the_compiled_loss_optimizer_and_regularization", "weighs_the_loss_by_sample_weight")),
    Mistake("scores_metrics_on_a_second_inference_pass", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        y_pred = self(x, training=False)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {metric.name: metric.result() for metric in self.metrics}
''', kills=("records_the_running_loss_and_metrics",)),
    Mistake("test_step_runs_in_training_mode", '''
class CustomFitModel(CustomFitModel):
    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {metric.name: metric.result() for metric in self.metrics}
''', kills=("test_step_evaluates_like_keras", "test_step_leaves_the_model_unchanged")),
    Mistake("test_step_trains_the_model", '''
class CustomFitModel(CustomFitModel):
    def test_step(self, data):
        return self.train_step(data)
''', kills=("test_step_evaluates_like_keras", "test_step_leaves_the_model_unchanged")),
    Mistake("test_step_leaves_the_loss_tracker_alone", '''
class CustomFitModel(CustomFitModel):
    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
''', kills=("test_step_evaluates_like_keras",)),
    Mistake("test_step_unpacks_data_as_x_y", '''
class CustomFitModel(CustomFitModel):
    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name != "loss":
                metric.update_state(y, y_pred)
            else:
                metric.update_state(loss)
        return {m.name: m.result() for m in self.metrics}
''', kills=("test_step_weighs_by_sample_weight",), visible=False),
    Mistake("forgets_sample_weight_in_the_metrics", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {metric.name: metric.result() for metric in self.metrics}
''', kills=("weighs_the_loss_by_sample_weight",), visible=False, concept="sample_weight"),
    Mistake("test_step_forgets_sample_weight_in_the_metrics", '''
class CustomFitModel(CustomFitModel):
    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {metric.name: metric.result() for metric in self.metrics}
''', kills=("test_step_weighs_by_sample_weight",), visible=False, concept="sample_weight"),
    # Keras' own steps: the grader gives CustomFitModel no point (OWN_WORK).
    Mistake("inherits_keras_own_steps", '''
class CustomFitModel(keras.Model):
    pass
''', kills=ALL_CHECKS, delegates=True, concept="train_step"),
    Mistake("calls_the_built_in_steps_through_super", '''
class CustomFitModel(keras.Model):
    def train_step(self, data):
        return super().train_step(data)

    def test_step(self, data):
        return super().test_step(data)
''', kills=ALL_CHECKS, delegates=True, concept="train_step"),
]


# The real cause of each mistake, in words every message of the checks it fails must hold.
CONCEPTS = {
    'forgets_training_true': 'training=True',
    'leaves_the_loss_tracker_to_compute_metrics': "'loss'",
    'ignores_sample_weight': 'sample_weight',
    'unpacks_data_as_x_y': 'unpack_x_y_sample_weight',
    'returns_only_the_batch_loss': 'metric',
    'never_applies_the_gradients': 'optimizer',
    'computes_the_loss_outside_the_tape': 'GradientTape',
    'hard_codes_mean_squared_error': 'compute_loss',
    'applies_the_loss_function_by_hand': 'compute_loss',
    'scores_metrics_on_a_second_inference_pass': 'y_pred',
    'test_step_runs_in_training_mode': 'training=False',
    'test_step_trains_the_model': 'gradients',
    'test_step_leaves_the_loss_tracker_alone': 'every metric',
    'test_step_unpacks_data_as_x_y': 'unpack_x_y_sample_weight',
}
MISTAKES = [replace(m, concept=m.concept or CONCEPTS[m.name]) for m in MISTAKES]

VARIANTS = [
    Variant("keras_io_guide_idiom", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and on what you pass to `fit()`.
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data

        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value. The loss function is configured in `compile()`.
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply(gradients, trainable_vars)

        # Update the metrics. Metrics are configured in `compile()`.
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)

        # Return a dict mapping metric names to current value.
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        for metric in self.metrics:
            if metric.name != "loss":
                metric.update_state(y, y_pred, sample_weight=sample_weight)
            else:
                metric.update_state(loss)
        return {m.name: m.result() for m in self.metrics}
'''),
    Variant("apply_gradients_and_compute_metrics", '''
class CustomFitModel(CustomFitModel):
    def _track_loss(self, x, loss):
        batch_size = tf.shape(tf.nest.flatten(x)[0])[0]
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=batch_size)

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        self._track_loss(x, loss)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._track_loss(x, loss)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
'''),
    Variant("get_metrics_result_after_updating_each_metric", '''
class CustomFitModel(CustomFitModel):
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            predictions = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=predictions, sample_weight=sample_weight)
        variables = self.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        loss_tracker, *others = sorted(self.metrics, key=lambda metric: metric.name != "loss")
        loss_tracker.update_state(loss)
        for metric in others:
            metric.update_state(y, predictions, sample_weight)
        return self.get_metrics_result()
'''),
]
