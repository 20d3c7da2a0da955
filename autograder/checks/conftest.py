"""Hidden checks run with the grading plugin: `pytest autograder/checks --submission DIR`."""

from autograder.pytest_plugin import *  # noqa: F401,F403  (fixtures, options and hooks)
