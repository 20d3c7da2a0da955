"""Notebooks show the one line; nbgrader's feedback wraps; instructor commands work as written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from traitlets.config.loader import PyFileConfigLoader

from grimoire.authoring import read_visible_tests, split_module
from grimoire.generate import check_points
from grimoire.notebook import build_notebook
from grimoire.topics import ROOT, load_topic

TOPIC = load_topic(ROOT / "solutions" / "01_parameter_counting")
WRONG_DENSE = "def dense_params(input_dim, units, use_bias=True):\n    return input_dim * units\n"


def _instructor_notebook():
    solutions = ROOT / "solutions" / TOPIC.folder
    source = (solutions / f"{TOPIC.module}.py").read_text()
    parts = split_module(source, [t.name for t in TOPIC.tasks], TOPIC.folder)
    tests = read_visible_tests((solutions / f"test_{TOPIC.module}.py").read_text(), TOPIC.module, TOPIC.folder)
    points = check_points(ROOT / "autograder" / "checks" / f"test_{TOPIC.folder}.py")
    return build_notebook(TOPIC, parts, tests, points)


def test_a_failing_visible_check_shows_its_message_alone_in_a_notebook():
    from nbclient import NotebookClient

    notebook = _instructor_notebook()
    cells = {c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells}
    cells["dense_params"].source = WRONG_DENSE
    notebook.cells = [cells["setup"], cells["dense_params"], cells["dense_params_visible"]]
    NotebookClient(notebook, timeout=120, allow_errors=True, kernel_name="python3").execute()
    errors = [o for o in notebook.cells[-1].outputs if o.output_type == "error"]
    assert len(errors) == 1, notebook.cells[-1].outputs
    shown = "\n".join(errors[0].traceback)
    assert "dense_params(784, 10) returned 7840; expected 7850" in shown
    assert len(errors[0].traceback) == 1 and "teach.py" not in shown and "Traceback" not in shown


def _course_config() -> dict:
    return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()


def test_feedback_html_lets_long_check_lines_wrap(tmp_path):
    preprocessors = _course_config().GenerateFeedback.preprocessors
    wrapping = [p for p in preprocessors if getattr(p, "__name__", "").startswith("Wrapping")]
    assert wrapping and any(getattr(p, "__name__", "") == "GetGrades" for p in preprocessors)
    _, resources = wrapping[0]().preprocess(nbformat.v4.new_notebook(), {"config_dir": str(tmp_path)})
    assert "pre-wrap" in "".join(resources["inlining"]["css"])


def test_nbgrader_finds_alembic_without_an_activated_venv(tmp_path):
    """README: `.venv/bin/nbgrader generate_assignment 01_... --force` (it creates gradebook.db)."""
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "source" / TOPIC.folder, tmp_path / "source" / TOPIC.folder)
    nbgrader = Path(sys.executable).with_name("nbgrader")
    bare = {"HOME": os.environ.get("HOME", str(tmp_path)), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([str(nbgrader), "generate_assignment", TOPIC.folder, "--force"],
                            cwd=tmp_path, env=bare, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "release" / TOPIC.folder / f"{TOPIC.folder}.ipynb").is_file()
    assert (tmp_path / "gradebook.db").is_file()


def test_make_reset_without_a_topic_says_what_to_type_and_exits_2():
    result = subprocess.run(["make", "-s", "reset"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "make reset TOPIC=" in result.stderr
