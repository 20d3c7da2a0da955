"""The self-checks' own scheduling on pytest-xdist workers (see ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import TOGETHER, ModuleFixturesTogether


def scope(nodeid: str) -> str:
    return ModuleFixturesTogether._split_scope(None, nodeid)


def test_a_module_with_shared_fixtures_is_one_unit_of_work_and_the_catalog_is_spread():
    assert scope("tests/test_cohort.py::test_a[x]") == scope("tests/test_cohort.py::test_b") == "tests/test_cohort.py"
    first = "tests/test_mistake_catalog.py::test_each_mistake[parameter_counting:a]"
    second = "tests/test_mistake_catalog.py::test_each_mistake[parameter_counting:b]"
    assert scope(first) != scope(second)


def test_every_module_kept_together_exists_and_holds_a_module_fixture():
    root = Path(__file__).resolve().parent.parent
    for module in TOGETHER:
        assert 'scope="module"' in (root / module).read_text(), module
