"""Mistakes learners make when writing a simple RNN and its backward pass by hand, and correct
versions written differently."""

from dataclasses import replace

from tests.catalog import Mistake, Variant

STEP_ZERO = "rnn_step_from_a_zero_state_matches_keras"
STEP_STATE = "rnn_step_carries_the_previous_state_like_keras"
STEP = (STEP_ZERO, STEP_STATE)
BATCHED = ("rnn_forward_last_state_matches_keras", "rnn_forward_returns_every_state_with_return_sequences")
FORWARD = BATCHED + ("rnn_forward_runs_a_single_sequence",)
SHAPE = "gradient_norms_have_one_entry_per_step_and_end_at_sqrt_units"
TAPE = "gradient_norms_match_a_gradient_tape"

MISTAKES = [
    # -- rnn_step ---------------------------------------------------------------------------
    Mistake("step_forgets_the_recurrence", '''
def rnn_step(x_t, h_prev, kernel, recurrent_kernel, bias):
    return np.tanh(x_t @ kernel + bias)
''', kills=(STEP_STATE,) + FORWARD + (TAPE,)),
    Mistake("transposed_recurrent_kernel", '''
def rnn_step(x_t, h_prev, kernel, recurrent_kernel, bias):
    return np.tanh(x_t @ kernel + h_prev @ recurrent_kernel.T + bias)
''', kills=(STEP_STATE,) + FORWARD + (TAPE,)),
    Mistake("textbook_order_weights_times_inputs", '''
def rnn_step(x_t, h_prev, kernel, recurrent_kernel, bias):
    return np.tanh((kernel.T @ x_t.T + recurrent_kernel @ h_prev.T).T + bias)
''', kills=(STEP_STATE,) + FORWARD + (TAPE,)),
    Mistake("no_tanh", '''
def rnn_step(x_t, h_prev, kernel, recurrent_kernel, bias):
    return x_t @ kernel + h_prev @ recurrent_kernel + bias
''', kills=STEP + FORWARD + (TAPE,)),
    Mistake("bias_added_to_both_products", '''
def rnn_step(x_t, h_prev, kernel, recurrent_kernel, bias):
    return np.tanh((x_t @ kernel + bias) + (h_prev @ recurrent_kernel + bias))
''', kills=STEP + FORWARD + (TAPE,)),
    Mistake("step_delegated_to_keras", '''
def rnn_step(x_t, h_prev, kernel, recurrent_kernel, bias):
    import keras
    cell = keras.layers.SimpleRNNCell(recurrent_kernel.shape[0], dtype=str(x_t.dtype))
    cell.build((None, kernel.shape[0]))
    cell.set_weights([kernel, recurrent_kernel, bias])
    return np.asarray(cell(x_t, [h_prev])[1][0])
''', kills=STEP, visible=False, delegates=True, concept="Keras"),
    # -- rnn_forward ------------------------------------------------------------------------
    Mistake("forward_restarts_from_zero_at_every_step", '''
def rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    single = x_seq.ndim == 2
    batch = x_seq[None] if single else x_seq
    zeros = np.zeros((batch.shape[0], recurrent_kernel.shape[0]))
    states = np.stack([rnn_step(batch[:, t], zeros, kernel, recurrent_kernel, bias)
                       for t in range(batch.shape[1])], axis=1)
    result = states if return_sequences else states[:, -1]
    return result[0] if single else result
''', kills=FORWARD + (TAPE,)),
    Mistake("return_sequences_stacked_time_first", '''
def rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    single = x_seq.ndim == 2
    batch = x_seq[None] if single else x_seq
    h = np.zeros((batch.shape[0], recurrent_kernel.shape[0]))
    states = []
    for t in range(batch.shape[1]):
        h = rnn_step(batch[:, t], h, kernel, recurrent_kernel, bias)
        states.append(h)
    if return_sequences:
        return np.array(states)[:, 0] if single else np.array(states)
    return h[0] if single else h
''', kills=("rnn_forward_returns_every_state_with_return_sequences",)),
    Mistake("return_sequences_ignored", '''
def rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    single = x_seq.ndim == 2
    batch = x_seq[None] if single else x_seq
    h = np.zeros((batch.shape[0], recurrent_kernel.shape[0]))
    for t in range(batch.shape[1]):
        h = rnn_step(batch[:, t], h, kernel, recurrent_kernel, bias)
    return h[0] if single else h


def hidden_state_gradient_norms(x_seq, kernel, recurrent_kernel, bias):
    states, h = [], np.zeros(recurrent_kernel.shape[0])
    for x_t in x_seq:
        h = rnn_step(x_t, h, kernel, recurrent_kernel, bias)
        states.append(h)
    gradient, norms = np.ones_like(h), [np.sqrt(h.size)]
    for t in range(len(states) - 2, -1, -1):
        gradient = (gradient * (1 - states[t + 1] ** 2)) @ recurrent_kernel.T
        norms.append(np.linalg.norm(gradient))
    return np.array(norms[::-1])
''', kills=("rnn_forward_returns_every_state_with_return_sequences", "rnn_forward_runs_a_single_sequence")),
    Mistake("batched_input_only", '''
def rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    h = np.zeros((x_seq.shape[0], recurrent_kernel.shape[0]))
    states = []
    for t in range(x_seq.shape[1]):
        h = rnn_step(x_seq[:, t, :], h, kernel, recurrent_kernel, bias)
        states.append(h)
    return np.stack(states, axis=1) if return_sequences else h


def hidden_state_gradient_norms(x_seq, kernel, recurrent_kernel, bias):
    states = rnn_forward(x_seq[None], kernel, recurrent_kernel, bias, return_sequences=True)[0]
    gradient, norms = np.ones(states.shape[-1]), [np.sqrt(states.shape[-1])]
    for t in range(len(states) - 2, -1, -1):
        gradient = (gradient * (1 - states[t + 1] ** 2)) @ recurrent_kernel.T
        norms.append(np.linalg.norm(gradient))
    return np.array(norms[::-1])
''', kills=("rnn_forward_runs_a_single_sequence",)),
    Mistake("loops_over_the_batch_instead_of_time", '''
def rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    single = x_seq.ndim == 2
    batch = x_seq[None] if single else x_seq
    h = np.zeros((batch.shape[0], recurrent_kernel.shape[0]))
    states = []
    for x_t in batch:
        h = rnn_step(x_t, h, kernel, recurrent_kernel, bias)
        states.append(h)
    result = np.stack(states, axis=1) if return_sequences else h
    return result[0] if single else result
''', kills=BATCHED),
    Mistake("forward_delegated_to_keras", '''
def rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    import keras
    layer = keras.layers.SimpleRNN(recurrent_kernel.shape[0], return_sequences=return_sequences,
                                   dtype=str(x_seq.dtype))
    layer.build((None, None, kernel.shape[0]))
    layer.set_weights([kernel, recurrent_kernel, bias])
    single = x_seq.ndim == 2
    out = np.asarray(layer(x_seq[None] if single else x_seq))
    return out[0] if single else out
''', kills=FORWARD, visible=False, delegates=True, concept="Keras"),
    # -- hidden_state_gradient_norms --------------------------------------------------------
    Mistake("gradient_skips_the_tanh_derivative", '''
def hidden_state_gradient_norms(x_seq, kernel, recurrent_kernel, bias):
    states = rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=True)
    gradient, norms = np.ones(states.shape[-1]), [np.sqrt(states.shape[-1])]
    for t in range(len(states) - 2, -1, -1):
        gradient = gradient @ recurrent_kernel.T
        norms.append(np.linalg.norm(gradient))
    return np.array(norms[::-1])
''', kills=(TAPE,)),
    Mistake("gradient_uses_the_derivative_of_the_wrong_step", '''
def hidden_state_gradient_norms(x_seq, kernel, recurrent_kernel, bias):
    states = rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=True)
    gradient, norms = np.ones(states.shape[-1]), [np.sqrt(states.shape[-1])]
    for t in range(len(states) - 2, -1, -1):
        gradient = (gradient * (1 - states[t] ** 2)) @ recurrent_kernel.T
        norms.append(np.linalg.norm(gradient))
    return np.array(norms[::-1])
''', kills=(TAPE,)),
    Mistake("gradient_through_the_untransposed_recurrent_kernel", '''
def hidden_state_gradient_norms(x_seq, kernel, recurrent_kernel, bias):
    states = rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=True)
    gradient, norms = np.ones(states.shape[-1]), [np.sqrt(states.shape[-1])]
    for t in range(len(states) - 2, -1, -1):
        gradient = (gradient * (1 - states[t + 1] ** 2)) @ recurrent_kernel
        norms.append(np.linalg.norm(gradient))
    return np.array(norms[::-1])
''', kills=(TAPE,)),
    Mistake("norms_returned_last_step_first", '''
def hidden_state_gradient_norms(x_seq, kernel, recurrent_kernel, bias):
    states = rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=True)
    gradient, norms = np.ones(states.shape[-1]), [np.sqrt(states.shape[-1])]
    for t in range(len(states) - 2, -1, -1):
        gradient = (gradient * (1 - states[t + 1] ** 2)) @ recurrent_kernel.T
        norms.append(np.linalg.norm(gradient))
    return np.array(norms)
''', kills=(SHAPE, TAPE)),
    Mistake("norms_of_the_preactivation_gradients", '''
def hidden_state_gradient_norms(x_seq, kernel, recurrent_kernel, bias):
    states = rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=True)
    delta = 1 - states[-1] ** 2  # d sum(h_T) / d z_T
    norms = [np.linalg.norm(delta)]
    for t in range(len(states) - 2, -1, -1):
        delta = (delta @ recurrent_kernel.T) * (1 - states[t] ** 2)
        norms.append(np.linalg.norm(delta))
    return np.array(norms[::-1])
''', kills=(SHAPE, TAPE)),
    Mistake("returns_the_gradient_vectors_not_their_norms", '''
def hidden_state_gradient_norms(x_seq, kernel, recurrent_kernel, bias):
    states = rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=True)
    gradient, gradients = np.ones(states.shape[-1]), [np.ones(states.shape[-1])]
    for t in range(len(states) - 2, -1, -1):
        gradient = (gradient * (1 - states[t + 1] ** 2)) @ recurrent_kernel.T
        gradients.append(gradient)
    return np.array(gradients[::-1])
''', kills=(SHAPE, TAPE)),
    Mistake("gradients_by_a_gradient_tape", '''
def hidden_state_gradient_norms(x_seq, kernel, recurrent_kernel, bias):
    import tensorflow as tf
    h = tf.zeros((1, recurrent_kernel.shape[0]), dtype=tf.float64)
    states = []
    with tf.GradientTape() as tape:
        tape.watch(h)
        for x_t in x_seq:
            h = tf.tanh(x_t[None] @ kernel + h @ recurrent_kernel + bias)
            states.append(h)
        total = tf.reduce_sum(states[-1])
    return np.array([float(tf.norm(g)) for g in tape.gradient(total, states)])
''', kills=(SHAPE, TAPE), visible=False, delegates=True, concept="Keras"),
]

# The real cause of each mistake, in words every message of the checks it fails must hold.
CONCEPTS = {
    "step_forgets_the_recurrence": "recurrence",
    "transposed_recurrent_kernel": "transposed recurrent kernel",
    "textbook_order_weights_times_inputs": "transposed recurrent kernel",
    "no_tanh": "tanh",
    "bias_added_to_both_products": "bias",
    "forward_restarts_from_zero_at_every_step": "recurrence",
    "return_sequences_stacked_time_first": "axis 1",
    "return_sequences_ignored": "every step",
    "batched_input_only": "single sequence",
    "loops_over_the_batch_instead_of_time": "x_seq[:, t]",
    "gradient_skips_the_tanh_derivative": "1 - tanh^2",
    "gradient_uses_the_derivative_of_the_wrong_step": "1 - h_t^2",
    "gradient_through_the_untransposed_recurrent_kernel": "transpose",
    "norms_returned_last_step_first": "time order",
    "norms_of_the_preactivation_gradients": "pre-activation",
    "returns_the_gradient_vectors_not_their_norms": "np.linalg.norm",
}
MISTAKES = [replace(m, concept=m.concept or CONCEPTS[m.name]) for m in MISTAKES]

VARIANTS = [
    Variant("einsum_and_a_preallocated_sequence", '''
def rnn_step(x_t, h_prev, kernel, recurrent_kernel, bias):
    z = np.einsum("bd,du->bu", x_t, kernel) + np.einsum("bv,vu->bu", h_prev, recurrent_kernel)
    return np.tanh(z + bias)


def rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    batch = x_seq if x_seq.ndim == 3 else x_seq.reshape((1,) + x_seq.shape)
    states = np.zeros(batch.shape[:2] + (recurrent_kernel.shape[0],))
    h = np.zeros_like(states[:, 0])
    for t in range(batch.shape[1]):
        h = rnn_step(batch[:, t], h, kernel, recurrent_kernel, bias)
        states[:, t] = h
    out = states if return_sequences else states[:, -1]
    return out.reshape(out.shape[1:]) if x_seq.ndim == 2 else out
'''),
    Variant("time_major_transpose_and_a_jacobian_product", '''
def rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    batch = x_seq if x_seq.ndim == 3 else x_seq[np.newaxis]
    h = np.zeros((batch.shape[0], recurrent_kernel.shape[0]), dtype=x_seq.dtype)
    states = []
    for x_t in np.transpose(batch, (1, 0, 2)):
        h = rnn_step(x_t, h, kernel, recurrent_kernel, bias)
        states.append(h)
    out = np.transpose(np.array(states), (1, 0, 2)) if return_sequences else states[-1]
    return out if x_seq.ndim == 3 else out[0]


def hidden_state_gradient_norms(x_seq, kernel, recurrent_kernel, bias):
    states = rnn_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=True)
    units = states.shape[1]
    jacobian = np.eye(units)  # d h_T / d h_t, accumulated as a full matrix
    norms = [np.linalg.norm(np.ones(units) @ jacobian)]
    for t in range(len(states) - 1, 0, -1):
        step = recurrent_kernel * (1 - states[t] ** 2)  # d h_t / d h_{t-1}, as h_{t-1} -> h_t
        jacobian = step @ jacobian
        norms.append(np.linalg.norm(np.ones(units) @ jacobian.T))
    return np.array(norms)[::-1]
'''),
    Variant("backward_pass_with_its_own_forward_pass", '''
def hidden_state_gradient_norms(x_seq, kernel, recurrent_kernel, bias):
    h = np.zeros(recurrent_kernel.shape[0])
    states = []
    for x_t in x_seq:
        h = np.tanh(x_t @ kernel + h @ recurrent_kernel + bias)
        states.append(h)
    norms = np.empty(len(states))
    upstream = np.ones_like(h)
    for t in reversed(range(len(states))):
        norms[t] = np.sqrt(np.sum(upstream ** 2))
        if t > 0:
            upstream = recurrent_kernel @ (upstream * (1 - states[t] ** 2))
    return norms
'''),
]
