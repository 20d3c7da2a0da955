"""Mistakes learners make when writing an LSTM step by hand, and correct steps written differently."""

from dataclasses import replace

from tests.catalog import Mistake, Variant

STEP = ("lstm_step_cell_state_matches_keras", "lstm_step_hidden_state_matches_keras")
FORWARD = ("lstm_forward_last_state_matches_keras", "lstm_forward_returns_every_step_with_return_sequences")

MISTAKES = [
    Mistake("gate_order_i_f_o_c", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    i, f, o, g = np.split(z, 4, axis=-1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t
''', kills=STEP + FORWARD),
    Mistake("gate_order_f_i_c_o", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    f, i, g, o = np.split(z, 4, axis=-1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t
''', kills=STEP + FORWARD),
    Mistake("tanh_on_the_forget_gate", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c_t = np.tanh(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t
''', kills=STEP),
    Mistake("tanh_on_every_gate", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c_t = np.tanh(f) * c_prev + np.tanh(i) * np.tanh(g)
    return np.tanh(o) * np.tanh(c_t), c_t
''', kills=STEP + FORWARD),
    Mistake("hidden_state_without_tanh_of_the_cell", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * c_t, c_t
''', kills=("lstm_step_hidden_state_matches_keras",) + FORWARD),
    Mistake("cell_update_forgets_the_old_cell", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c_t = sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t
''', kills=STEP + FORWARD),
    Mistake("gates_ignore_the_previous_hidden_state", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = x_t @ kernel + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t
''', kills=STEP + FORWARD),
    Mistake("bias_added_to_both_products", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = (x_t @ kernel + bias) + (h_prev @ recurrent_kernel + bias)
    i, f, g, o = np.split(z, 4, axis=-1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t
''', kills=STEP + FORWARD),
    Mistake("bias_left_out", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = x_t @ kernel + h_prev @ recurrent_kernel
    i, f, g, o = np.split(z, 4, axis=-1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t
''', kills=STEP + FORWARD),
    Mistake("textbook_order_weights_times_inputs", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = kernel @ x_t + recurrent_kernel @ h_prev + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t
''', kills=("lstm_step_returns_the_pair_h_c",) + STEP + FORWARD),
    Mistake("returns_c_before_h", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return c_t, sigmoid(o) * np.tanh(c_t)
''', kills=STEP),
    Mistake("returns_only_the_hidden_state", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t)
''', kills=("lstm_step_returns_the_pair_h_c",) + STEP),
    Mistake("returns_a_list_of_h_and_c", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return [sigmoid(o) * np.tanh(c_t), c_t]
''', kills=("lstm_step_returns_the_pair_h_c",)),
    Mistake("return_sequences_still_returns_the_last_state", '''
def lstm_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    units = recurrent_kernel.shape[0]
    h = c = np.zeros((x_seq.shape[0], units))
    for t in range(x_seq.shape[1]):
        h, c = lstm_step(x_seq[:, t], h, c, kernel, recurrent_kernel, bias)
    return h
''', kills=("lstm_forward_returns_every_step_with_return_sequences",)),
    Mistake("stacks_the_sequence_time_first", '''
def lstm_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    units = recurrent_kernel.shape[0]
    h = c = np.zeros((x_seq.shape[0], units))
    outputs = []
    for t in range(x_seq.shape[1]):
        h, c = lstm_step(x_seq[:, t], h, c, kernel, recurrent_kernel, bias)
        outputs.append(h)
    return np.array(outputs) if return_sequences else h
''', kills=("lstm_forward_returns_every_step_with_return_sequences",)),
    Mistake("states_are_not_carried_between_steps", '''
def lstm_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    zeros = np.zeros((x_seq.shape[0], recurrent_kernel.shape[0]))
    outputs = [lstm_step(x_seq[:, t], zeros, zeros, kernel, recurrent_kernel, bias)[0]
               for t in range(x_seq.shape[1])]
    return np.stack(outputs, axis=1) if return_sequences else outputs[-1]
''', kills=FORWARD),
    Mistake("only_the_hidden_state_is_carried", '''
def lstm_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    units = recurrent_kernel.shape[0]
    h = np.zeros((x_seq.shape[0], units))
    outputs = []
    for t in range(x_seq.shape[1]):
        h, _ = lstm_step(x_seq[:, t], h, np.zeros_like(h), kernel, recurrent_kernel, bias)
        outputs.append(h)
    return np.stack(outputs, axis=1) if return_sequences else h
''', kills=FORWARD),
    Mistake("loops_over_the_batch_instead_of_time", '''
def lstm_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    units = recurrent_kernel.shape[0]
    h = c = np.zeros((x_seq.shape[0], units))
    outputs = []
    for x_t in x_seq:
        h, c = lstm_step(x_t, h, c, kernel, recurrent_kernel, bias)
        outputs.append(h)
    return np.stack(outputs, axis=1) if return_sequences else h
''', kills=FORWARD),
    # Handing the gates to Keras: the grader gives no point to a task that imports it (OWN_WORK).
    Mistake("forward_runs_a_keras_lstm_holding_the_weights", '''
def lstm_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    import keras
    layer = keras.layers.LSTM(recurrent_kernel.shape[0], return_sequences=return_sequences,
                              dtype=str(x_seq.dtype))
    layer.build((None, None, kernel.shape[0]))
    layer.set_weights([kernel, recurrent_kernel, bias])
    return np.asarray(layer(x_seq))
''', kills=FORWARD, delegates=True, concept="Keras"),
    Mistake("step_runs_a_keras_lstm_cell_through_importlib", '''
import importlib


def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    keras = importlib.import_module("keras")
    cell = keras.layers.LSTMCell(h_prev.shape[-1], dtype=str(x_t.dtype))
    cell.build((None, kernel.shape[0]))
    cell.set_weights([kernel, recurrent_kernel, bias])
    h_t, (_, c_t) = cell(x_t, [h_prev, c_prev])
    return np.asarray(h_t), np.asarray(c_t)
''', kills=("lstm_step_returns_the_pair_h_c",) + STEP, delegates=True, concept="Keras"),
]


# The real cause of each mistake, in words every message of the checks it fails must hold.
CONCEPTS = {
    'gate_order_i_f_o_c': 'order',
    'gate_order_f_i_c_o': 'order',
    'tanh_on_the_forget_gate': 'sigmoid',
    'tanh_on_every_gate': 'sigmoid',
    'hidden_state_without_tanh_of_the_cell': 'tanh(c_t)',
    'cell_update_forgets_the_old_cell': 'c_prev',
    'gates_ignore_the_previous_hidden_state': 'h_prev',
    'bias_added_to_both_products': 'bias',
    'bias_left_out': 'bias',
    'textbook_order_weights_times_inputs': 'x_t @ kernel',
    'returns_c_before_h': '(h_t, c_t)',
    'returns_only_the_hidden_state': '(h_t, c_t)',
    'returns_a_list_of_h_and_c': 'tuple',
    'return_sequences_still_returns_the_last_state': 'every step',
    'stacks_the_sequence_time_first': 'axis 1',
    'states_are_not_carried_between_steps': 'zero',
    'only_the_hidden_state_is_carried': 'zero cell state',
    'loops_over_the_batch_instead_of_time': 'x_seq[:, t]',
}
MISTAKES = [replace(m, concept=m.concept or CONCEPTS[m.name]) for m in MISTAKES]

VARIANTS = [
    Variant("one_gate_at_a_time_with_slices", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    units = h_prev.shape[-1]
    gates = {}
    for index, name in enumerate(["input", "forget", "candidate", "output"]):
        block = slice(index * units, (index + 1) * units)
        z = x_t @ kernel[:, block] + h_prev @ recurrent_kernel[:, block] + bias[block]
        gates[name] = np.tanh(z) if name == "candidate" else sigmoid(z)
    c_t = gates["forget"] * c_prev + gates["input"] * gates["candidate"]
    h_t = gates["output"] * np.tanh(c_t)
    return h_t, c_t
'''),
    Variant("einsum_and_a_tanh_sigmoid", '''
def my_sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    units = h_prev.shape[-1]
    z = np.einsum("bd,dk->bk", x_t, kernel) + np.einsum("bu,uk->bk", h_prev, recurrent_kernel) + bias
    z = z.reshape(z.shape[0], 4, units)
    i, f, o = my_sigmoid(z[:, 0]), my_sigmoid(z[:, 1]), my_sigmoid(z[:, 3])
    c_t = f * c_prev + i * np.tanh(z[:, 2])
    return o * np.tanh(c_t), c_t
'''),
    Variant("concatenated_input_and_state_in_float64", '''
def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    xh = np.concatenate([x_t, h_prev], axis=-1).astype(np.float64)
    weights = np.concatenate([kernel, recurrent_kernel], axis=0).astype(np.float64)
    z = xh @ weights + bias.astype(np.float64)
    u = h_prev.shape[-1]
    i, f, g, o = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
    c_t = sigmoid(f) * c_prev.astype(np.float64) + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t


def lstm_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    batch, time, _ = x_seq.shape
    units = recurrent_kernel.shape[0]
    states = np.zeros((batch, time, units))
    h = c = np.zeros((batch, units))
    for t in range(time):
        h, c = lstm_step(x_seq[:, t, :], h, c, kernel, recurrent_kernel, bias)
        states[:, t, :] = h
    return states if return_sequences else states[:, -1, :]
'''),
    Variant("time_major_loop_with_a_transpose", '''
def lstm_forward(x_seq, kernel, recurrent_kernel, bias, return_sequences=False):
    units = recurrent_kernel.shape[0]
    state = (np.zeros((x_seq.shape[0], units), x_seq.dtype),) * 2
    hidden = []
    for x_t in np.transpose(x_seq, (1, 0, 2)):
        state = lstm_step(x_t, *state, kernel, recurrent_kernel, bias)
        hidden.append(state[0])
    hidden = np.transpose(np.array(hidden), (1, 0, 2))
    return hidden if return_sequences else hidden[:, -1]
'''),
]
