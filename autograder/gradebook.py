"""nbgrader's gradebook, read and written the way ``nbgrader autograde`` does, one transaction each.

``nbgrader autograde`` creates the student and the submission (timestamp from
``timestamp.txt``), then :class:`~nbgrader.preprocessors.SaveAutoGrades` sets each grade cell's
``auto_score`` and ``needs_manual_grade`` (True only when a manual score exists or no auto score
could be given) and each solution cell's ``auto_comment`` ("No response." when the cell is
unchanged). Here all of that happens in ONE transaction per submission, written by the parent
process alone: a submission is either fully graded in the gradebook or not there at all, so a
run killed at any point loses nothing and a rerun duplicates nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

from nbgrader import utils
from nbgrader.api import (Comment, Grade, Gradebook, MissingEntry, Student, SubmittedAssignment,
                          SubmittedNotebook)
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import OperationalError
from traitlets.config.loader import Config, PyFileConfigLoader

GRADED_SUFFIX = "_graded"


def course_directory(root: Path) -> CourseDirectory:
    """nbgrader's own view of the course at ``root`` (its nbgrader_config.py applied)."""
    config = Config()
    config_file = root / "nbgrader_config.py"
    if config_file.is_file():
        config = PyFileConfigLoader(config_file.name, path=str(root)).load_config()
    return CourseDirectory(config=config, root=str(root.resolve()))


def open_gradebook(coursedir: CourseDirectory) -> Gradebook:
    return Gradebook(coursedir.db_url, coursedir.course_id)


def assignment_spec(gb: Gradebook, assignment: str, coursedir: CourseDirectory) -> dict:
    """What grading needs to know of an assignment, as plain data (it crosses to the workers).

    Everything comes from the gradebook (filled by ``nbgrader generate_assignment``); the order
    of the locked set-up cells comes from the source notebook.
    """
    import nbformat

    record = gb.find_assignment(assignment)
    if len(record.notebooks) != 1:
        raise MissingEntry(f"assignment {assignment} has {len(record.notebooks)} notebooks; "
                           "grade-cohort grades assignments of exactly one notebook")
    notebook = record.notebooks[0]
    source_cells = {c.name: {"cell_type": c.cell_type, "locked": bool(c.locked), "source": c.source or "",
                             "checksum": c.checksum} for c in notebook.source_cells}
    solution_cells = [c.name for c in notebook.solution_cells]
    grade_cells = {}
    for cell in notebook.grade_cells:
        task = cell.name.removesuffix(GRADED_SUFFIX) if cell.name.endswith(GRADED_SUFFIX) else None
        grade_cells[cell.name] = {"max_score": float(cell.max_score), "task": task}
    source_path = Path(coursedir.format_path(coursedir.source_directory, ".", assignment)) / f"{notebook.name}.ipynb"
    release_path = Path(coursedir.format_path(coursedir.release_directory, ".", assignment)) / f"{notebook.name}.ipynb"
    order = []
    if source_path.is_file():
        order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nbformat.read(source_path, 4).cells]
    first_solution = min((order.index(n) for n in solution_cells if n in order), default=len(order))
    setup_names = [n for n in order[:first_solution] if n in source_cells and source_cells[n]["locked"]
                   and source_cells[n]["cell_type"] == "code" and n not in grade_cells]
    if not order and "setup" in source_cells:
        setup_names = ["setup"]
    release = nbformat.read(release_path, 4) if release_path.is_file() else None
    return {
        "assignment": assignment,
        "notebook": notebook.name,
        "topic": assignment,
        "source_cells": source_cells,
        "solution_cells": solution_cells,
        "grade_cells": grade_cells,
        "setup": [source_cells[n]["source"] for n in setup_names],
        "release": release,
        "kernelspec": None,
    }


def submission_timestamp(coursedir: CourseDirectory, path: Path):
    """The submission's timestamp.txt as nbgrader reads it, or None (absent, empty or invalid)."""
    try:
        return coursedir.get_existing_timestamp(str(path))
    except Exception:  # noqa: BLE001  (nbgrader calls self.fail on an invalid one)
        return None


def done_submissions(gb: Gradebook, spec: dict, flagged_done: bool = True) -> dict[str, object]:
    """``{student: timestamp}`` of the submissions whose every task cell has an auto score.

    A submission recorded as failed by :func:`commit_grades` (``flagged``: auto scores of 0 that
    still need a person) counts as done unless ``flagged_done`` is False (``--retry-failed``).
    """
    tasks = {n for n, c in spec["grade_cells"].items() if c["task"]}
    done = {}
    for submission in gb.find_assignment(spec["assignment"]).submissions:
        grades = [g for nb in submission.notebooks for g in nb.grades if g.cell.name in tasks]
        scored = {g.cell.name for g in grades if g.auto_score is not None}
        if not tasks <= scored:
            continue
        if not flagged_done and is_flagged(grades):
            continue
        done[submission.student_id] = submission.timestamp
    return done


def is_flagged(grades) -> bool:
    """Recorded as failed: every auto score set and still needing a person, none given yet."""
    grades = list(grades)
    return bool(grades) and all(g.auto_score is not None and g.needs_manual_grade and g.manual_score is None
                                for g in grades)


def _new_submission(gb: Gradebook, assignment: str, student_id: str) -> SubmittedAssignment:
    """``Gradebook.add_submission`` without its commit (the caller commits once)."""
    record, student = gb.find_assignment(assignment), gb.find_student(student_id)
    with gb.db.no_autoflush:
        submission = SubmittedAssignment(assignment=record, student=student)
        gb.db.add(submission)
        for notebook in record.notebooks:
            nb = SubmittedNotebook(notebook=notebook, assignment=submission)
            rows = [Grade(cell_id=c.id, notebook=nb) for c in notebook.grade_cells]
            rows += [Comment(cell_id=c.id, notebook=nb) for c in notebook.solution_cells]
            for task_cell in notebook.task_cells:
                rows += [Comment(cell_id=task_cell.id, notebook=nb), Grade(cell_id=task_cell.id, notebook=nb)]
            gb.db.add_all([nb, *rows])
    gb.db.flush()
    return submission


def commit_grades(gb: Gradebook, assignment: str, student_id: str, timestamp, scores: dict[str, float],
                  unanswered: set[str], retries: int = 20, flagged: bool = False) -> None:
    """Write one submission's grades in one transaction (retried while another writer holds the lock).

    ``scores`` maps a grade cell to its auto score (a grade cell not in it gets none and needs
    manual grading); ``unanswered`` names the solution cells left as released ("No response.").
    ``flagged``: the submission could not be graded (it stopped every worker it ran on): its
    scores are recorded and every grade cell is left needing a person.
    """
    for attempt in range(retries):
        try:
            _write(gb, assignment, student_id, timestamp, scores, unanswered, flagged)
            gb.db.commit()
            return
        except OperationalError:
            gb.db.rollback()
            if attempt == retries - 1:
                raise
            time.sleep(0.25 * (attempt + 1))
        except BaseException:
            gb.db.rollback()
            raise


def _write(gb, assignment, student_id, timestamp, scores, unanswered, flagged=False) -> None:
    db = gb.db
    if db.get(Student, student_id) is None:
        db.add(Student(id=student_id))
        db.flush()
    try:
        submission = gb.find_submission(assignment, student_id)
    except MissingEntry:
        submission = _new_submission(gb, assignment, student_id)
    if timestamp is not None:
        submission.timestamp = utils.parse_utc(timestamp)
    names = {cell.id: cell.name for nb in submission.assignment.notebooks
             for cell in [*nb.grade_cells, *nb.solution_cells, *nb.task_cells]}
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            name = names.get(grade.cell_id)
            grade.auto_score = scores.get(name)
            grade.needs_manual_grade = flagged or grade.manual_score is not None or grade.auto_score is None
        for comment in notebook.comments:
            comment.auto_comment = "No response." if names.get(comment.cell_id) in unanswered else None
