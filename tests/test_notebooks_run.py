"""Every instructor notebook runs top to bottom, and its visible checks pass on the solutions.

The cells run in this process, one namespace per notebook as in a kernel (the graded cells,
whose hidden call runs at autograde time, are skipped; ``test_notebook_in_a_kernel.py`` runs
one notebook in a real kernel, graded cells included). A visible check that uses a helper of
its test file must find that helper in the notebook too.
"""

from __future__ import annotations

import contextlib
import io

import nbformat
import pytest

from grimoire.topics import ROOT
from tests.helpers import TOPICS


@pytest.mark.parametrize("topic", TOPICS, ids=[t.folder for t in TOPICS])
def test_the_instructor_notebook_runs_top_to_bottom_with_every_visible_check_passing(topic, tmp_path, monkeypatch):
    notebook = nbformat.read(ROOT / "source" / topic.folder / f"{topic.folder}.ipynb", 4)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__main__"}
    printed = io.StringIO()
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("grade"):
            continue
        with contextlib.redirect_stdout(printed):
            try:
                exec(compile(cell.source, f"<{topic.folder} cell {meta.get('grade_id')}>", "exec"), namespace)
            except Exception as error:
                pytest.fail(f"cell {meta.get('grade_id')} raised {type(error).__name__}: {error}")
    for task in topic.tasks:
        assert f"{task.name}: the visible checks pass" in printed.getvalue()
