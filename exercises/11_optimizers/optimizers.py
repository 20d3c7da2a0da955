# 11 · Optimizers: SGD with momentum, RMSProp, Adam: write your code at each TODO, then check it with `make feedback TOPIC=11_optimizers`
# (`make watch` checks it on every save; `make reset TOPIC=11_optimizers` starts over, keeping a copy).
"""One update step of SGD with momentum, RMSProp and Adam, in NumPy, exactly as Keras does it.

An optimizer moves a parameter against its gradient. The three here differ in what they
remember between steps (their **state**, or "slots" in Keras): SGD with momentum keeps a
velocity, RMSProp a running average of squared gradients, Adam both a first moment ``m`` and a
second moment ``v``. Each function takes the parameter, its gradient and the state, and returns
the new parameter and the new state, so that a loop of your steps follows
``keras.optimizers.SGD``, ``RMSprop`` and ``Adam`` step for step:

    velocity = np.zeros_like(param)
    for grad in gradients:
        param, velocity = sgd_step(param, grad, velocity, learning_rate=0.1, momentum=0.9)

Every argument that is an array has the parameter's shape; work element by element, NumPy only.
"""

import numpy as np


def sgd_step(param, grad, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    """One step of ``keras.optimizers.SGD``; return ``(new_param, new_velocity)``.

    Keras' convention, for every ``momentum`` (0 included): the velocity points *downhill*,

        velocity ← momentum * velocity - learning_rate * grad
        param    ← param + velocity

    With ``nesterov=True`` the parameter takes the step it would take after looking one step
    ahead, ``param ← param + momentum * velocity - learning_rate * grad`` with the velocity
    already updated (the velocity itself is updated the same way).

    >>> sgd_step(np.array([1.0]), np.array([1.0]), np.array([0.0]), learning_rate=0.1, momentum=0.9)
    (array([0.9]), array([-0.1]))
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("sgd_step is not implemented yet")


def rmsprop_step(param, grad, average_square, learning_rate=0.001, rho=0.9, epsilon=1e-7):
    """One step of ``keras.optimizers.RMSprop`` (no momentum, not centered).

    Keep a running average of the squared gradient, then divide the step by its square root,
    so every parameter moves by about ``learning_rate`` whatever the scale of its gradient.
    Keras puts ``epsilon`` **inside** the square root:

        average_square ← rho * average_square + (1 - rho) * grad**2
        param          ← param - learning_rate * grad / sqrt(average_square + epsilon)

    Return ``(new_param, new_average_square)``.

    >>> rmsprop_step(np.array([1.0]), np.array([2.0]), np.array([0.0]), learning_rate=0.1, rho=0.75, epsilon=0.0)
    (array([0.8]), array([1.]))
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("rmsprop_step is not implemented yet")


def adam_step(param, grad, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Step number ``step`` (counting from 1) of ``keras.optimizers.Adam``; return ``(param, m, v)``.

    ``m`` and ``v`` are running averages of the gradient and of its square. They start at 0,
    so early on they are too small; Adam corrects that bias with the factors ``1 - beta**step``.
    Keras folds the correction into the learning rate and keeps ``epsilon`` outside it:

        m     ← beta_1 * m + (1 - beta_1) * grad
        v     ← beta_2 * v + (1 - beta_2) * grad**2
        alpha = learning_rate * sqrt(1 - beta_2**step) / (1 - beta_1**step)
        param ← param - alpha * m / (sqrt(v) + epsilon)      (the new m and v)

    Return the new ``m`` and ``v`` *uncorrected*: they are what Keras stores and what the next
    step starts from.

    >>> adam_step(np.array([1.0]), np.array([0.5]), np.array([0.0]), np.array([0.0]), step=1, learning_rate=0.1, epsilon=0.0)
    (array([0.9]), array([0.05]), array([0.00025]))
    """
    # TODO: your code here (the docstring above says what it should do)
    raise NotImplementedError("adam_step is not implemented yet")
