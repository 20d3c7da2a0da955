"""The pytest side of grading: options, the ``submission`` and ``rng`` fixtures, verdict capture.

Loaded by ``autograder/checks/conftest.py``, so an instructor can run the hidden checks with
plain pytest (``pytest autograder/checks --submission solutions``) and see pass/fail, while
``autograder grade`` runs the same checks and turns them into points.
"""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import numpy as np
import pytest

from autograder import own_work, sandbox
from autograder.api import CheckFailed
from autograder.determinism import private_keras_random
from autograder.locate import find_module
from grimoire.topics import module_name

SEED_ENV_HELP = "seed for the randomized checks (default: a fresh random seed, printed)"


def pytest_addoption(parser):
    group = parser.getgroup("autograder")
    group.addoption("--submission", default=None, help="folder laid out like exercises/")
    group.addoption("--seed", type=int, default=None, help=SEED_ENV_HELP)
    group.addoption("--seeds", default=None,
                    help="comma-separated seeds: every randomized check runs once per seed (self-checks)")
    group.addoption("--check-timeout", type=float, default=sandbox.DEFAULT_TIMEOUT,
                    help="seconds one call into the submission may take")
    group.addoption("--pictures", default=None,
                    help="folder where checks may draw what they compared when they fail")


def pytest_configure(config):
    config.addinivalue_line("markers", "task(name): the task (function or class) a hidden check grades")
    config.addinivalue_line("markers", "points(n): the points a hidden check is worth")
    if config.getoption("--seed") is None:
        config.option.seed = random.SystemRandom().randrange(2**31)
    sandbox.warm_up()
    private_keras_random()  # reference models seeded alike whatever other threads draw


def pytest_report_header(config):
    return f"autograder: submission={config.getoption('--submission')} seed={config.option.seed}"


def topic_of(path: str | Path) -> str:
    """``.../test_01_parameter_counting.py`` -> ``01_parameter_counting``."""
    return Path(path).stem.removeprefix("test_")


@pytest.fixture(scope="module")
def submission(request):
    """The learner's module for this check file, served by a sandboxed child process."""
    root = request.config.getoption("--submission")
    if root is None:
        raise pytest.UsageError("--submission DIR is required to run the hidden checks")
    topic = topic_of(request.module.__file__)
    module = module_name(topic)
    path, refusal = find_module(Path(root), topic, module)
    rules = getattr(request.module, "OWN_WORK", {})
    tasks = {mark.args[0] for value in vars(request.module).values()  # every task, selected or not
             for mark in getattr(value, "pytestmark", []) if mark.name == "task"}
    with sandbox.Sandbox(module, path, timeout=request.config.getoption("--check-timeout"),
                         block_frameworks=own_work.blocks_frameworks(rules, tasks),
                         refusal=refusal) as box:
        box.own_work = own_work.violations(box.source if path is not None else None, rules)
        yield box


def _task_of(item):
    marker = item.get_closest_marker("task")
    return marker.args[0] if marker else None


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """A task whose code breaks its topic's own-work rule fails every check, with the rule."""
    box = pyfuncitem.funcargs.get("submission")
    if box is not None and box.module_path is None:  # nothing to call: no oracle work either
        raise CheckFailed(f"{box.module_name}.py could not be graded: "
                          f"{box.refusal or 'it was not submitted'}")
    broken = getattr(box, "own_work", {}).get(_task_of(pyfuncitem))
    if broken:
        raise CheckFailed(broken)
    return None


@pytest.fixture
def pictures(request):
    """A folder for pictures of failed comparisons (next to the report), or None."""
    folder = request.config.getoption("--pictures")
    if folder is None:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_generate_tests(metafunc):
    seeds = metafunc.config.getoption("--seeds", default=None)
    if seeds and "check_seed" in metafunc.fixturenames:
        values = [int(s) for s in seeds.split(",") if s.strip()]
        metafunc.parametrize("check_seed", values, ids=[f"seed{v}" for v in values], indirect=True)


@pytest.fixture
def check_seed(request):
    """The seed of this run of a check: ``--seed``, or one of ``--seeds``."""
    return getattr(request, "param", request.config.option.seed)


@pytest.fixture
def rng(request, check_seed):
    """A NumPy generator seeded from the run's seed and the check's name (reproducible)."""
    return np.random.default_rng([check_seed, zlib.crc32(request.node.originalname.encode())])


@pytest.fixture(scope="module")
def scenario_memo():
    """The shared scenarios of one check file, by (name, seed): see ``shared_scenario``."""
    return {}


@pytest.fixture
def shared_scenario(scenario_memo, check_seed):
    """``shared_scenario(name, make)``: a scenario several checks of a file read, made once per seed.

    ``make(rng)`` runs the first time a check asks for ``name`` under this check's seed, with a
    generator seeded from that seed and the name; every later check of the file gets the same
    result. A check that reads a shared scenario runs once per seed like any randomized check
    (``--seeds``), so the catalog proves its catches under every seed too.
    """
    def get(name: str, make):
        key = (name, check_seed)
        if key not in scenario_memo:
            scenario_memo[key] = make(np.random.default_rng([check_seed, zlib.crc32(name.encode())]))
        return scenario_memo[key]

    return get


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    task = item.get_closest_marker("task")
    points = item.get_closest_marker("points")
    if not report.user_properties or report.when == "setup":
        report.user_properties = [
            ("topic", topic_of(item.path)),
            ("task", task.args[0] if task else None),
            ("points", points.args[0] if points else 0),
        ]
    if call.excinfo is not None and report.failed:
        error = call.excinfo.value
        if isinstance(error, AssertionError):
            message = str(error) or "a check failed"
            grader_fault = False
        else:
            message = f"the grader itself failed in this check ({type(error).__name__}: {error})"
            grader_fault = True
        report.user_properties.append(("message", message))
        report.user_properties.append(("grader_fault", grader_fault))
