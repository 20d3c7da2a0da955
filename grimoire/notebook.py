"""The nbgrader instructor notebook of a topic, assembled from its authored files.

Cell by cell: the lesson's introduction; a locked set-up cell (imports, given helpers); then per
task its lesson, a solution cell (with the ``### BEGIN SOLUTION`` region), a locked cell of
visible checks, and a graded cell whose hidden part only calls :mod:`autograder.notebook`. The
release keeps that cell's comment and loses the call; nbgrader puts it back when it autogrades,
and nothing of the hidden checks' code is ever in a notebook.
"""

from __future__ import annotations

import re

import nbformat
from nbformat import v4

from grimoire.authoring import ModuleParts, VisibleTests, sentence
from grimoire.topics import Topic

USES_KERAS = re.compile(r"^\s*(import|from)\s+(keras|tensorflow)\b", re.MULTILINE)
QUIET_IMPORT = (
    "from grimoire.quiet import import_keras\n\n"
    "import_keras()  # imports TensorFlow without its start-up log lines\n"
)
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _meta(grade_id: str, *, solution=False, grade=False, locked=True, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _markdown(text: str, grade_id: str):
    return v4.new_markdown_cell(text, metadata=_meta(grade_id))


def _code(text: str, grade_id: str, **flags):
    return v4.new_code_cell(text, metadata=_meta(grade_id, **flags))


def visible_cell_source(task: str, tests: VisibleTests) -> str:
    parts = [f"# Visible checks for {task}: run this cell after yours. Grading uses other, hidden checks."]
    if tests.imports:
        parts.append(tests.imports)
    helpers = tests.helpers_for(task)
    if helpers:
        parts.append(helpers)
    for name, body in tests.by_task.get(task, []):
        parts.append(f"# {sentence(name)}\n{body}")
    parts.append(f'print("{task}: the visible checks pass")')
    return "\n\n".join(parts)


def graded_cell_source(topic: Topic, task: str, points: int) -> str:
    return (
        f"# {task}: {points} point{'s' if points != 1 else ''} from hidden checks, run when "
        "your notebook is graded.\n"
        "### BEGIN HIDDEN TESTS\n"
        "from autograder.notebook import grade_task\n"
        f'grade_task("{topic.folder}", "{task}", globals())\n'
        "### END HIDDEN TESTS"
    )


def build_notebook(topic: Topic, parts: ModuleParts, tests: VisibleTests,
                   points: dict[str, int]) -> nbformat.NotebookNode:
    title = f"# {topic.number} · {topic.title}\n\n{topic.introduction}"
    if topic.further_reading:
        title += "\n\n**Further reading:** " + ", ".join(topic.further_reading)
    cells = [_markdown(title, "introduction")]
    setup = parts.setup.strip() or "# Nothing to import for this topic."
    if USES_KERAS.search(setup):
        setup = QUIET_IMPORT + setup
    cells.append(_code(setup, "setup"))
    for task in topic.tasks:
        task_points = points.get(task.name, 0)
        heading = f"{task.lesson}\n\n*({task_points} point{'s' if task_points != 1 else ''})*"
        cells.append(_markdown(heading, f"{task.name}_lesson"))
        cells.append(_code(parts.tasks[task.name], task.name, solution=True, locked=False))
        cells.append(_code(visible_cell_source(task.name, tests), f"{task.name}_visible"))
        cells.append(_code(graded_cell_source(topic, task.name, task_points), f"{task.name}_graded",
                           grade=True, points=task_points))
    if topic.demonstration:
        cells.append(_markdown("## See it work\n\nRun this once your functions pass their checks.",
                               "demonstration_intro"))
        cells.append(_code(topic.demonstration, "demonstration"))
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = KERNELSPEC
    notebook.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{topic.number}-{index:02d}"
    return notebook
