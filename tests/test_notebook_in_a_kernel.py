"""The instructor notebook run cell by cell in a Jupyter kernel, as in JupyterLab or stock nbgrader.

Its graded cells call ``grade_task(topic, task, globals())``. Topic 01 never imports TensorFlow
before its first graded cell, so that cell imports it: nothing may reach stderr (nbgrader gives
0 to a cell with stderr output). The namespace also holds what the locked cells imported for
themselves (the kit's ``grimoire.teach``, which the sandbox may not read; in other topics
``keras`` or ``tensorflow``, which a fully-NumPy topic refuses): none of it is the learner's.
"""

from __future__ import annotations

import types

import nbformat
from nbclient import NotebookClient

from autograder.notebook import module_source
from grimoire.topics import ROOT


def test_the_instructor_notebook_run_in_a_kernel_earns_every_point_of_its_graded_cells(tmp_path):
    folder = "01_parameter_counting"
    notebook = nbformat.read(ROOT / "source" / folder / f"{folder}.ipynb", 4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    graded = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    earned = {c.metadata.nbgrader.grade_id: float(out["data"]["text/plain"])
              for c in graded for out in c.outputs if out.output_type == "execute_result"}
    printed = "".join(out.get("text", "") for c in graded for out in c.outputs)
    assert earned == {c.metadata.nbgrader.grade_id: float(c.metadata.nbgrader.points) for c in graded}, printed
    assert [out for c in graded for out in c.outputs if out.get("name") == "stderr"] == []


def test_the_rebuilt_module_keeps_the_tasks_and_what_they_use_never_the_locked_cells_imports(tmp_path):
    import keras
    import numpy as np

    import grimoire.teach

    namespace = {"__name__": "__main__", "np": np, "keras": keras, "teach": grimoire.teach,
                 "expect_call": grimoire.teach.expect_call, "SCALE": 2}
    cells = tmp_path / "cells.py"  # a file, so that inspect finds each function's source
    cells.write_text("def helper(x):\n    return np.asarray(x) * SCALE\n\n\n"
                     "def task(x):\n    return helper(x)\n\n\n"
                     "def visible_helper():\n    return keras.ops.zeros(1)\n")
    exec(compile(cells.read_text(), str(cells), "exec"), namespace)
    for name in ("helper", "task", "visible_helper"):  # as if defined in a notebook cell
        namespace[name].__module__ = "__main__"
    source = module_source(namespace, {"task"})
    assert "import numpy as np" in source and "def helper" in source and "def task" in source
    assert "SCALE = 2" in source
    assert "keras" not in source and "grimoire" not in source and "visible_helper" not in source
    module = types.ModuleType("rebuilt")
    exec(source, module.__dict__)
    assert module.task([1, 2]).tolist() == [2, 4]
