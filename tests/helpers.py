"""Shared helpers of the kit's self-checks: building submissions, running visible tests."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from grimoire.authoring import make_stub
from grimoire.topics import ROOT, Topic, load_topic, topic_folders


def _selected_topics() -> list[Topic]:
    """Every topic; ``GRIMOIRE_TOPICS=01,03`` narrows a development run (CI never sets it)."""
    only = [p for p in os.environ.get("GRIMOIRE_TOPICS", "").split(",") if p]
    folders = topic_folders(ROOT / "solutions")
    return [load_topic(f) for f in folders if not only or f.name.startswith(tuple(only))]


TOPICS: list[Topic] = _selected_topics()


def solution_source(topic: Topic) -> str:
    return (ROOT / "solutions" / topic.folder / f"{topic.module}.py").read_text()


def stub_source(topic: Topic) -> str:
    return make_stub(solution_source(topic))


def patched_source(topic: Topic, code: str) -> str:
    """The reference solution with ``code`` appended: its definitions replace the reference's."""
    return solution_source(topic) + "\n\n# --- replaced for this test ---\n" + code.strip() + "\n"


def write_submission(root: Path, sources: dict[str, str]) -> Path:
    """A folder laid out like exercises/: ``{topic folder: module source}``."""
    for folder, source in sources.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / f"{folder[3:]}.py").write_text(source)
    return root


def run_visible_tests(topic: Topic, source: str, workdir: Path, first_failure: bool = False) -> dict[str, str]:
    """Run a topic's visible tests in this process against ``source``: {test: "" or failure}.

    The module is imported under its real name for the duration, as pytest would find it.
    ``first_failure``: stop at the first test that fails (enough to know that they caught it).
    """
    module_file = workdir / f"{topic.module}.py"
    module_file.write_text(source)
    saved = sys.modules.pop(topic.module, None)
    results = {}
    try:
        spec = importlib.util.spec_from_file_location(topic.module, module_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[topic.module] = module
        spec.loader.exec_module(module)
        tests_file = ROOT / "solutions" / topic.folder / f"test_{topic.module}.py"
        spec = importlib.util.spec_from_file_location(f"visible_{topic.module}", tests_file)
        tests = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tests)
        for name in dir(tests):
            if name.startswith("test_"):
                try:
                    getattr(tests, name)()
                    results[name] = ""
                except Exception as error:  # noqa: BLE001  (a failure of any kind is a result)
                    results[name] = f"{type(error).__name__}: {error}"
                    if first_failure:
                        break
    finally:
        sys.modules.pop(topic.module, None)
        if saved is not None:
            sys.modules[topic.module] = saved
    return results


def failed_checks(report: dict, module: str) -> set[str]:
    return {c["name"] for c in report["topics"][module]["checks"] if not c["passed"]}


def all_checks(report: dict, module: str) -> set[str]:
    return {c["name"] for c in report["topics"][module]["checks"]}
