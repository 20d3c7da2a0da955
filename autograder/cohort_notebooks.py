"""From a submitted notebook to a module, and from a grade report to the autograded notebook.

Cells are identified by ``grade_id`` against the gradebook's record of the assignment (the
``spec``, built by :func:`autograder.gradebook.assignment_spec`), never by the flags a student
could edit in the cell's metadata:

- the locked set-up cells come from the gradebook (what the instructor wrote), never from the
  submission;
- the student's code is every cell whose ``grade_id`` names a solution cell (whatever its cell
  type: nbgrader retypes it back to code) plus every code cell the gradebook does not know (a
  cell the student added, split off or duplicated: nbgrader's kernel would run those too);
- the cells the gradebook records as locked (visible checks, graded cells, demonstration) are
  never taken, whatever the submission did to them.

Of the student's code only what a kernel's namespace would keep is taken, like
:func:`autograder.notebook.module_source`: imports, assignments, functions and classes, each
wrapped so that an exception at import costs only that statement. Expression statements (scratch
calls, prints, ``sys.exit(0)``) are left out. A cell that does not parse is left out and named in
the feedback.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import stat
import uuid
from pathlib import Path

import nbformat
from nbformat import v4

MAX_NOTEBOOK_BYTES = 20 * 1024**2
MAX_MODULE_BYTES = 2 * 1024**2
KEPT_STATEMENTS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                   ast.Assign, ast.AnnAssign, ast.AugAssign)


MAX_DEPTH = 64  # a notebook's JSON is a few levels deep; 100k-deep nesting is an attack
MAX_ENTRIES = 2000  # files and folders in one submission folder


class Unreadable(Exception):
    """The submission's file could not be used; the message is for the learner."""


def submission_links(folder: Path, limit: int = MAX_ENTRIES) -> str | None:
    """Why ``folder`` (a submission) may not be graded: a symbolic link in it, or too many files.

    Nothing is followed: the folder itself, every file and every sub-folder is looked at with
    ``lstat``. ``None`` when the submission is fine.
    """
    try:
        if os.path.islink(folder):
            return f"{folder.name} is a symbolic link; submissions may not contain links"
        pending, seen = [folder], 0
        while pending:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    seen += 1
                    if seen > limit:
                        return f"{folder.name} holds more than {limit} files and folders"
                    if entry.is_symlink():
                        where = Path(entry.path).relative_to(folder.parent)
                        return f"{where} is a symbolic link; submissions may not contain links"
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
    except OSError as error:
        return f"{folder.name} could not be read ({error.strerror or error})"
    return None


def read_regular_file(path: Path, limit: int) -> str:
    """The text of ``path`` if it is a plain file (not a link) of at most ``limit`` bytes."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise Unreadable(f"{path.name} was not submitted") from None
    except OSError as error:
        raise Unreadable(f"{path.name} could not be read ({error.strerror or error})") from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise Unreadable(f"{path.name} is not a plain file (a link?), so it was not graded")
    if info.st_size > limit:
        raise Unreadable(f"{path.name} is {info.st_size // 1024**2} MiB, more than the "
                         f"{limit // 1024**2} MiB a submission may be")
    try:
        with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise Unreadable(f"{path.name} could not be read ({error.strerror or error})") from None
    if len(data) > limit:
        raise Unreadable(f"{path.name} is more than the {limit // 1024**2} MiB a submission may be")
    return data.decode("utf-8", errors="replace")


def _depth(data, limit: int) -> int:
    """How deeply ``data`` nests (iteratively: no recursion on a hostile document)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return deepest


def parse_notebook(text: str, name: str) -> nbformat.NotebookNode:
    """The notebook in ``text``; Unreadable ("could not be read: ...") when it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise Unreadable(f"{name} could not be read: not valid notebook JSON ({error})") from None
    except (RecursionError, MemoryError):
        raise Unreadable(f"{name} could not be read: its JSON is nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise Unreadable(f"{name} could not be read: not a notebook (no list of cells)")
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise Unreadable(f"{name} could not be read: its JSON is nested more than {MAX_DEPTH} levels deep")
    try:
        return nbformat.reads(text, as_version=4)
    except Exception:  # noqa: BLE001  (odd but usable: keep what looks like cells)
        cells = [c for c in data["cells"] if isinstance(c, dict)]
        try:
            return nbformat.from_dict({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
        except Exception:  # noqa: BLE001
            raise Unreadable(f"{name} could not be read: its cells are not notebook cells") from None


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return parse_notebook(read_regular_file(path, MAX_NOTEBOOK_BYTES), path.name)


def _grade_id(cell) -> str | None:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def _cell_text(cell) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def student_cells(notebook, spec: dict) -> list[tuple[str, str]]:
    """``[(label, source)]`` of the student's code cells, in notebook order."""
    solutions = set(spec["solution_cells"])
    known = set(spec["source_cells"])
    taken = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if not isinstance(cell, dict):
            continue
        grade_id = _grade_id(cell)
        if grade_id in solutions:
            taken.append((f"your cell for {grade_id}", _cell_text(cell)))
        elif cell.get("cell_type") == "code" and grade_id not in known:
            taken.append((f"your added cell #{index + 1}", _cell_text(cell)))
    return taken


def _without_magics(source: str) -> str:
    return "\n".join("# " + line if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def _guarded(statement: ast.stmt) -> ast.stmt:
    handler = ast.ExceptHandler(type=ast.Name("Exception", ast.Load()), name=None, body=[ast.Pass()])
    return ast.Try(body=[statement], handlers=[handler], orelse=[], finalbody=[])


def module_from_cells(setup: list[str], cells: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """The module source and notes for the learner (cells left out and why)."""
    future, body, notes = [], [], []
    for label, source in cells:
        try:
            tree = ast.parse(_without_magics(source))
        except (RecursionError, MemoryError):
            notes.append(f"{label} is nested too deeply to read, so it was left out")
            continue
        except (SyntaxError, ValueError) as error:
            line = f" (line {error.lineno})" if getattr(error, "lineno", None) else ""
            notes.append(f"{label} has a syntax error{line}, so it was left out: {error.msg if hasattr(error, 'msg') else error}")
            continue
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                future.append(node)
            elif isinstance(node, KEPT_STATEMENTS):
                body.append(_guarded(node))
    student = ast.unparse(ast.fix_missing_locations(ast.Module(body=body, type_ignores=[])))
    head = ast.unparse(ast.Module(body=future, type_ignores=[])) if future else ""
    parts = [head, "# --- set-up cells (from the gradebook) ---", *setup,
             "# --- the student's code ---", student]
    return "\n\n".join(p for p in parts if p) + "\n", notes


# -- the autograded notebook ---------------------------------------------------------------

def _meta_for(name: str, spec: dict) -> dict:
    cell = spec["source_cells"][name]
    grade = spec["grade_cells"].get(name)
    meta = {"grade": grade is not None, "grade_id": name, "locked": cell["locked"],
            "schema_version": 3, "solution": name in spec["solution_cells"]}
    if grade is not None:
        meta["points"] = grade["max_score"]
    if cell.get("checksum"):
        meta["checksum"] = cell["checksum"]
    return meta


def _set_type(cell, cell_type: str):
    cell["cell_type"] = cell_type
    if cell_type == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def _clean_cell(cell) -> nbformat.NotebookNode:
    cell_type = cell.get("cell_type") if cell.get("cell_type") in ("code", "markdown", "raw") else "code"
    clean = {"cell_type": cell_type, "metadata": {}, "source": _cell_text(cell)}
    if cell_type == "code":
        clean.update(outputs=[], execution_count=None)
    meta = cell.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("nbgrader"), dict):
        clean["metadata"]["nbgrader"] = copy.deepcopy(meta["nbgrader"])
    return nbformat.from_dict(clean)


def _source_cell(name: str, spec: dict):
    data = spec["source_cells"][name]
    cell = nbformat.from_dict({"cell_type": data["cell_type"], "metadata": {}, "source": data["source"] or ""})
    _set_type(cell, data["cell_type"])
    return cell


def autograded_notebook(notebook, spec: dict, outputs: dict[str, str], note: str = "") -> str:
    """The notebook nbgrader would write under autograded/: sanitized, graded cells' outputs set.

    ``notebook`` is the submission (None when it could not be read: the release is used).
    ``outputs`` maps a graded cell's grade_id to the text it prints (the check lines, the score).
    """
    base = notebook if notebook is not None else spec.get("release")
    cells = [_clean_cell(c) for c in (base or {}).get("cells", []) if isinstance(c, dict)]
    # DeduplicateIds: the last cell with a grade_id keeps it, earlier copies become plain cells.
    seen = set()
    for cell in reversed(cells):
        grade_id = _grade_id(cell)
        if grade_id is None:
            continue
        if grade_id in seen or grade_id not in spec["source_cells"]:
            cell["metadata"].pop("nbgrader", None)
        else:
            seen.add(grade_id)
    # OverwriteCells: the gradebook's metadata, and its source for locked cells.
    for cell in cells:
        grade_id = _grade_id(cell)
        if grade_id is None:
            continue
        source = spec["source_cells"][grade_id]
        if cell["cell_type"] != source["cell_type"]:
            _set_type(cell, source["cell_type"])
        if source["locked"] and grade_id not in spec["solution_cells"]:
            cell["source"] = source["source"] or ""
        cell["metadata"]["nbgrader"] = _meta_for(grade_id, spec)
    # Put back every graded cell the submission lost, after its task's solution cell.
    for name in spec["grade_cells"]:
        if name in seen:
            continue
        cell = _source_cell(name, spec)
        cell["metadata"]["nbgrader"] = _meta_for(name, spec)
        cell["source"] = "# This cell was missing from the submission; the grader put it back.\n" + cell["source"]
        task = spec["grade_cells"][name].get("task")
        where = next((i for i, c in enumerate(cells) if _grade_id(c) == task), None)
        cells.insert(len(cells) if where is None else where + 1, cell)
    if note:
        cells.insert(0, nbformat.from_dict({"cell_type": "markdown", "metadata": {}, "source": f"**Grader:** {note}"}))
    for cell in cells:
        grade_id = _grade_id(cell)
        if grade_id in outputs and cell["cell_type"] == "code":
            cell["outputs"] = [v4.new_output("stream", name="stdout", text=outputs[grade_id])]
    used = set()
    for cell in cells:
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or cell_id in used or not (1 <= len(cell_id) <= 64):
            cell["id"] = uuid.uuid4().hex[:8]
        used.add(cell["id"])
    result = v4.new_notebook(cells=cells)
    result.metadata["kernelspec"] = spec.get("kernelspec") or {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    result.metadata["language_info"] = {"name": "python"}
    nbformat.validate(result)
    return nbformat.writes(result)


def unanswered_cells(notebook, spec: dict) -> set[str]:
    """Solution cells submitted exactly as released (nbgrader's "No response." comment)."""
    from nbgrader.utils import compute_checksum

    unanswered = set()
    for cell in notebook.get("cells", []):
        grade_id = _grade_id(cell) if isinstance(cell, dict) else None
        checksum = spec["source_cells"].get(grade_id, {}).get("checksum") if grade_id else None
        if grade_id not in spec["solution_cells"] or not checksum:
            continue
        clean = _clean_cell(cell)
        _set_type(clean, spec["source_cells"][grade_id]["cell_type"])
        clean["metadata"]["nbgrader"] = _meta_for(grade_id, spec)
        try:
            if compute_checksum(clean) == checksum:
                unanswered.add(grade_id)
        except Exception:  # noqa: BLE001
            pass
    return unanswered
