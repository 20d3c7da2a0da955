"""Derived files: fresh, complete in all four forms, and free of solutions and hidden checks.

Everything is judged on one fresh generation (in a temporary folder) and on what git has
committed: a learner's edits in exercises/ or release/ are theirs, never a failure here.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from grimoire.authoring import BEGIN_SOLUTION, END_SOLUTION
from grimoire.generate import render, stale_files
from grimoire.topics import ROOT
from tests.helpers import TOPICS, solution_source

STUDENT_TREES = ("exercises", "release")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """Every topic generated once into a temporary folder, release notebooks included."""
    out = tmp_path_factory.mktemp("generated")
    render(out)
    return out


def test_generated_files_are_up_to_date(fresh):
    assert stale_files(ROOT, fresh) == [], "run `make generate` and commit the result"


@pytest.mark.parametrize("topic", TOPICS, ids=[t.folder for t in TOPICS])
def test_every_topic_exists_in_all_four_forms_under_one_number(topic, fresh):
    expected = [
        fresh / "exercises" / topic.folder / f"{topic.module}.py",
        fresh / "exercises" / topic.folder / f"test_{topic.module}.py",
        ROOT / "solutions" / topic.folder / f"{topic.module}.py",
        fresh / "source" / topic.folder / f"{topic.folder}.ipynb",
        fresh / "release" / topic.folder / f"{topic.folder}.ipynb",
        ROOT / "autograder" / "checks" / f"test_{topic.folder}.py",
    ]
    assert [str(p) for p in expected if not p.is_file()] == []


def test_a_release_folder_holds_nothing_but_its_notebook(fresh):
    for folder in (fresh / "release").iterdir():
        assert sorted(p.name for p in folder.iterdir()) == [f"{folder.name}.ipynb"]


def _solution_lines(source: str) -> list[str]:
    """Substantial lines inside solution regions (short or generic lines are skipped)."""
    lines, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped in (BEGIN_SOLUTION, END_SOLUTION):
            inside = stripped == BEGIN_SOLUTION
        elif inside and len(stripped) > 25 and not stripped.startswith("#"):
            lines.append(stripped)
    return lines


def _student_texts(fresh):
    for tree in STUDENT_TREES:
        for path in sorted((fresh / tree).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".ipynb", ".md", ".json"}:
                text = path.read_text()
                if path.suffix == ".ipynb":
                    text = "\n".join(cell.source for cell in nbformat.reads(text, 4).cells)
                yield path.relative_to(fresh), text


def _shown_on_purpose(topic) -> str:
    """What the author chose to show: the lesson (topic.toml) and the visible tests."""
    folder = ROOT / "solutions" / topic.folder
    return (folder / "topic.toml").read_text() + (folder / f"test_{topic.module}.py").read_text()


def test_no_solution_marker_hidden_check_or_solution_line_reaches_a_student_file(fresh):
    """Solution lines reach students only where the author wrote them into a lesson or test.

    A lesson may show an idiom on purpose (``with tf.GradientTape() as tape:``); any other
    solution line in a stub or a release notebook is a leak of the generator.
    """
    solution_lines = {t.folder: [line for line in _solution_lines(solution_source(t))
                                 if line not in _shown_on_purpose(t)] for t in TOPICS}
    leaks = []
    for path, text in _student_texts(fresh):
        if re.search(r"BEGIN (SOLUTION|HIDDEN TESTS)|END (SOLUTION|HIDDEN TESTS)", text):
            leaks.append(f"{path}: solution or hidden-test marker")
        if "grade_task(" in text or "autograder.checks" in text:
            leaks.append(f"{path}: a hidden check")
        topic = path.parts[1] if len(path.parts) > 2 else None
        for line in solution_lines.get(topic, []):
            if line in text:
                leaks.append(f"{path}: solution line {line!r}")
    assert leaks == []


def test_the_source_notebook_keeps_solutions_and_hidden_calls_for_nbgrader(fresh):
    for topic in TOPICS:
        notebook = nbformat.read(fresh / "source" / topic.folder / f"{topic.folder}.ipynb", 4)
        graded = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
        solutions = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
        assert len(graded) == len(solutions) == len(topic.tasks)
        assert all("grade_task(" in c.source and "BEGIN HIDDEN TESTS" in c.source for c in graded)
        info = json.loads((fresh / "exercises" / topic.folder / "topic.json").read_text())
        assert sum(c.metadata.nbgrader.points for c in graded) == sum(t["points"] for t in info["tasks"]) > 0


def test_every_task_has_a_hint_and_a_visible_test():
    from grimoire.authoring import read_visible_tests

    for topic in TOPICS:
        tests_file = ROOT / "solutions" / topic.folder / f"test_{topic.module}.py"
        visible = read_visible_tests(tests_file.read_text(), topic.module, str(tests_file))
        for task in topic.tasks:
            assert task.hints, f"{topic.folder}: {task.name} has no hint"
            assert visible.by_task.get(task.name), f"{topic.folder}: {task.name} has no visible test"

