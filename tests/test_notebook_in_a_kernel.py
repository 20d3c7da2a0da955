"""The instructor notebook run cell by cell in a Jupyter kernel, as in JupyterLab or stock nbgrader.

Its graded cells call ``grade_task(topic, task, globals())``: the namespace also holds what the
locked cells imported for themselves: the kit's ``grimoire.teach`` (which the sandbox may not
read) and, in topic 12, ``tensorflow`` (which a fully-NumPy topic refuses). Neither is the
learner's: the reference solution must still earn every point there.
"""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from grimoire.topics import ROOT
from tests.helpers import TOPICS

TOPIC = next(t for t in TOPICS if t.folder.startswith("12_"))


def test_the_instructor_notebook_run_in_a_kernel_earns_every_point_of_its_graded_cells(tmp_path):
    notebook = nbformat.read(ROOT / "source" / TOPIC.folder / f"{TOPIC.folder}.ipynb", 4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    graded = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    earned = {c.metadata.nbgrader.grade_id: float(out["data"]["text/plain"])
              for c in graded for out in c.outputs if out.output_type == "execute_result"}
    printed = "".join(out.get("text", "") for c in graded for out in c.outputs)
    assert earned == {c.metadata.nbgrader.grade_id: float(c.metadata.nbgrader.points) for c in graded}, printed
    assert "could not be imported" not in printed
