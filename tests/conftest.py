"""Fixtures of the kit's self-checks. Keras is imported once, quietly, in each process that runs tests."""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadScopeScheduling

from grimoire.quiet import import_keras


def pytest_configure(config):
    """Import Keras before any test module is collected, except in pytest-xdist's controller:
    it only hands tests to its workers, and its import would compete with theirs for the cores."""
    if getattr(config, "workerinput", None) is None and config.getoption("numprocesses", None):
        return
    import_keras()


# Modules whose tests share module-scoped fixtures (a course, a Dask cluster, a generation): all
# their tests run on one pytest-xdist worker, so that each fixture is set up once per run. Every
# other test is its own unit of work (the mistake catalog spreads over every worker).
TOGETHER = (
    "tests/test_cohort.py",
    "tests/test_dask_cohort.py",
    "tests/test_generated_files.py",
    "tests/test_nbgrader_round_trip.py",
    "tests/test_student_loop.py",
    "tests/test_workspace.py",
)


class ModuleFixturesTogether(LoadScopeScheduling):
    """Keep each module of TOGETHER on one worker; spread every other test.

    pytest-xdist's own ``--dist loadgroup`` marks a group by appending ``@group`` to node ids,
    which pytest 9 silently drops: every worker then set up its own copy of each module fixture
    (a cohort graded twice, two Dask clusters started). This scheduler groups by module path,
    which needs no change to node ids; the largest groups are handed out first.
    """

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return module if module in TOGETHER else nodeid


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist; absent under -p no:xdist
def pytest_xdist_make_scheduler(config, log):
    return ModuleFixturesTogether(config, log)


@pytest.fixture(scope="session")
def grade():
    """``grade(folder, topics=None, seed=..., checks=None)`` -> report, with a fixed seed by default."""
    from autograder.engine import grade as run_grade
    from autograder.sandbox import warm_up

    warm_up()

    def run(folder, topics=None, seed=20261125, checks=None):
        return run_grade(folder, topics=topics, seed=seed, checks=checks)

    return run
