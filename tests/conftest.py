"""Fixtures of the kit's self-checks. Keras is imported once, quietly, for the whole run."""

from __future__ import annotations

import pytest

from grimoire.quiet import import_keras

import_keras()


@pytest.fixture(scope="session")
def grade():
    """``grade(folder, topics=None, seed=..., checks=None)`` -> report, with a fixed seed by default."""
    from autograder.engine import grade as run_grade
    from autograder.sandbox import warm_up

    warm_up()

    def run(folder, topics=None, seed=20261125, checks=None):
        return run_grade(folder, topics=topics, seed=seed, checks=checks)

    return run
