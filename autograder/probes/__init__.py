"""Probes: grader-written code that runs inside the submission's child process.

Some topics cannot be checked by calling one function: a custom metric must be used inside
``model.fit``, a ``train_step`` must train a model. A probe is a function
``probe(module, *args, **kwargs)`` in ``autograder/probes/<topic module>.py`` that drives the
learner's module in the child and returns plain data (numbers, arrays, lists, dicts), which the
hidden check compares in the grader with an oracle. A probe never decides pass or fail.
"""
