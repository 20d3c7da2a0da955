"""The real nbgrader loop in a temporary course: generate, submit, autograde, feedback, export.

Three students per topic: the instructor notebook (every point), the untouched release (none),
and the release with every test cell blanked (none: nbgrader restores the test cells, hidden
calls included, from its gradebook).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grimoire.topics import ROOT
from tests.helpers import TOPICS

# One pure-Python topic and, when present, one whose task is a Keras class (rebuilt from a cell).
ROUND_TRIP = [t for t in TOPICS if t.folder.startswith(("01_", "03_"))]
NBGRADER = str(Path(sys.executable).with_name("nbgrader"))


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    # nbgrader runs `alembic` and kernels by name: the environment's bin/ must come first.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([NBGRADER, *args], cwd=course, capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stderr[-4000:]}"
    return result


def blank_test_cells(notebook):
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and not meta.get("solution") and meta.get("locked"):
            cell.source = ""
    return notebook


# Cells a student adds to the untouched release: in nbgrader's own kernel each of them earned full
# marks (a graded cell with no float output gets max points) or changed a classmate's grade.
KERNEL_TRICKS = {
    "formatter": "get_ipython().display_formatter.formatters['text/plain'].for_type(float, lambda v, p, c: p.text('ok'))",
    "quiet": "get_ipython().ast_node_interactivity = 'none'",
    "cache": "import autograder.notebook as grading\ngrading.grade_task = lambda *args, **kwargs: None",
    "gradebook": ("import glob, sqlite3\n"
                  "for path in glob.glob('../../../gradebook.db') + glob.glob('../../gradebook.db'):\n"
                  "    db = sqlite3.connect(path)\n"
                  "    db.execute('UPDATE grade SET manual_score = 0, auto_score = 0')\n"
                  "    db.commit()"),
}


def with_trick(notebook, code: str):
    first_code = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells.insert(first_code + 1, nbformat.v4.new_code_cell(code))
    return notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for topic in ROUND_TRIP:
        shutil.copytree(ROOT / "source" / topic.folder, course / "source" / topic.folder)
    nbgrader(course, "generate_assignment", "*", "--force")  # one nbgrader process for every topic
    for topic in ROUND_TRIP:
        name = f"{topic.folder}.ipynb"
        students = {
            "instructor": nbformat.read(course / "source" / topic.folder / name, 4),
            "untouched": nbformat.read(course / "release" / topic.folder / name, 4),
            "blanked": blank_test_cells(nbformat.read(course / "release" / topic.folder / name, 4)),
        }
        for trick, code in KERNEL_TRICKS.items():
            students[trick] = with_trick(nbformat.read(course / "release" / topic.folder / name, 4), code)
        for student, notebook in students.items():
            folder = course / "submitted" / student / topic.folder
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / name)
    nbgrader(course, "autograde", "*", "--create")
    nbgrader(course, "generate_feedback", "*")
    nbgrader(course, "export", "--to", "grades.csv")
    return course


def scores(course: Path) -> dict[tuple[str, str], tuple[float, float]]:
    with open(course / "grades.csv") as handle:
        return {(row["assignment"], row["student_id"]): (float(row["score"]), float(row["max_score"]))
                for row in csv.DictReader(handle)}


@pytest.mark.parametrize("topic", ROUND_TRIP, ids=[t.folder for t in ROUND_TRIP])
def test_the_instructor_notebook_earns_every_point(course, topic):
    score, max_score = scores(course)[(topic.folder, "instructor")]
    assert score == max_score > 0


@pytest.mark.parametrize("topic", ROUND_TRIP, ids=[t.folder for t in ROUND_TRIP])
@pytest.mark.parametrize("student", ["untouched", "blanked"])
def test_a_release_without_answers_earns_nothing_even_with_its_tests_blanked(course, topic, student):
    score, max_score = scores(course)[(topic.folder, student)]
    assert (score, max_score > 0) == (0.0, True)


@pytest.mark.parametrize("topic", ROUND_TRIP, ids=[t.folder for t in ROUND_TRIP])
@pytest.mark.parametrize("trick", list(KERNEL_TRICKS))
def test_a_student_cell_cannot_fake_a_grade_because_no_cell_runs_in_a_kernel(course, topic, trick):
    """nbgrader autograde grades through the sandbox (nbgrader_config.py): stub code earns 0."""
    score, max_score = scores(course)[(topic.folder, trick)]
    assert (score, max_score > 0) == (0.0, True)
    assert scores(course)[(topic.folder, "instructor")][0] == max_score  # the classmate keeps theirs


@pytest.mark.parametrize("topic", ROUND_TRIP, ids=[t.folder for t in ROUND_TRIP])
def test_feedback_teaches_without_showing_a_hidden_assertion(course, topic):
    html = next((course / "feedback" / "untouched" / topic.folder).glob("*.html")).read_text()
    assert "not started yet" in html
    check_module = (ROOT / "autograder" / "checks" / f"test_{topic.folder}.py").read_text()
    for marker in ("expect(submission", "def test_", "keras_count", "oracle"):
        if marker in check_module:
            assert marker not in html

