"""``nbgrader autograde`` without trusting the student's kernel.

nbgrader's own autograde runs the whole submitted notebook in a kernel, then reads each graded
cell's output: a float is partial credit, and *no* float means full marks. A student cell can
therefore change the display formatter, silence outputs (``ast_node_interactivity``), replace
the grader's cache or reach the gradebook, all from inside that kernel.

:class:`SandboxedGrading` replaces nbgrader's ``Execute`` step (``nbgrader_config.py`` sets
``Autograde.autograde_preprocessors``). No cell of the submission is executed. The notebook has
already been sanitized by nbgrader (locked cells restored from the gradebook); the student's
solution cells are taken by ``grade_id`` exactly as ``autograder grade-cohort`` takes them,
graded by the same hidden checks in the same confined sandbox, and each graded cell receives
the check lines as its printed output plus its score as the ``execute_result`` nbgrader reads.
Every other code cell is left without output. So ``nbgrader autograde`` and ``grade-cohort``
give the same points for the same notebook.
"""

from __future__ import annotations

import nbformat
from nbformat import v4
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float


class SandboxedGrading(NbGraderPreprocessor):
    """Grade a sanitized submission through the kit's sandbox; nothing runs in a kernel."""

    call_timeout = Float(5.0, help="seconds one call into the submission may take").tag(config=True)

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook
        from nbgrader.coursedir import CourseDirectory

        from autograder.cohort_worker import _grade
        from autograder.gradebook import assignment_spec

        info = resources["nbgrader"]
        coursedir = CourseDirectory(config=self.config)
        with Gradebook(info["db_url"]) as gb:
            spec = assignment_spec(gb, info["assignment"], coursedir)
        job = {"student": info.get("student", ""), "assignment": info["assignment"], "kind": "notebook",
               "content": nbformat.writes(nb), "name": f"{info.get('notebook', spec['notebook'])}.ipynb",
               "spec": spec, "seed": None}
        result = _grade(job, {"call_timeout": self.call_timeout})
        scores, outputs = result.get("scores", {}), result.get("outputs", {})
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            cell.outputs = []
            cell.execution_count = None
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id not in spec["grade_cells"] or spec["grade_cells"][grade_id].get("task") is None:
                continue
            score = float(scores.get(grade_id, 0.0))
            text = outputs.get(grade_id) or f"{grade_id}: {score:g} points\n"
            cell.outputs = [
                v4.new_output("stream", name="stdout", text=text),
                v4.new_output("execute_result", data={"text/plain": repr(score)}, execution_count=1),
            ]
            cell.execution_count = 1
        if result.get("unreadable"):
            self.log.warning("%s: %s", info.get("student"), result["unreadable"])
        return nb, resources


def autograde_preprocessors() -> list:
    """nbgrader's autograde steps with ``Execute`` replaced by :class:`SandboxedGrading`."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern,
                                        LimitOutput, SaveAutoGrades)

    return [SandboxedGrading, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
            AssignLatePenalties, CheckCellMetadata]


__all__ = ["SandboxedGrading", "autograde_preprocessors"]
