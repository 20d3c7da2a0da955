"""A grading worker: imports Keras once, then grades one submission per request.

It runs in its own process group, so the parent can stop it together with its fork server and
the sandboxed children (one per submission) in one signal. It never touches the gradebook: it
returns plain data (scores, the feedback text, the autograded notebook) and the parent writes.
Only the sandboxed child runs the learner's code; this process computes every verdict.
"""

from __future__ import annotations

import gc
import os
import signal
import tempfile
import traceback
from pathlib import Path

from grimoire.topics import module_name


def serve(connection, options: dict) -> None:
    """Entry point of a worker process (``multiprocessing`` spawn target)."""
    os.setpgrp()
    try:
        from autograder.sandbox import warm_up
        from grimoire.quiet import import_keras

        warm_up()
        import_keras()
        from autograder import engine  # noqa: F401  (imported once, before the heap is frozen)

        gc.collect()
        gc.freeze()  # TensorFlow's objects stay out of every later collection (pytest runs a few)
        connection.send({"ready": os.getpid()})
        while True:
            try:
                job = connection.recv()
            except (EOFError, OSError):
                break
            if job is None:
                break
            connection.send(grade_job(job, options))
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.killpg(0, signal.SIGKILL)  # this worker, its fork server, any child still running


def grade_job(job: dict, options: dict) -> dict:
    result = {"student": job["student"], "assignment": job["assignment"], "status": "graded"}
    try:
        result.update(_grade(job, options))
    except Exception as error:  # noqa: BLE001  (a grader fault: reported, never committed)
        result["status"] = "failed"
        result["error"] = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=4)[-2000:]}"
    return result


def _grade(job: dict, options: dict) -> dict:
    from autograder.cohort_notebooks import (MAX_MODULE_BYTES, Unreadable, autograded_notebook,
                                             module_from_cells, read_notebook, read_regular_file,
                                             student_cells, unanswered_cells)
    from autograder.engine import GraderError, grade
    from autograder.notebook import task_feedback, task_result

    spec = job["spec"]
    topic = spec["topic"]
    module = module_name(topic)
    path = Path(job["path"])
    notebook, source, notes, fatal = None, None, [], None
    try:
        if job["kind"] == "notebook":
            notebook = read_notebook(path)
            source, notes = module_from_cells(spec["setup"], student_cells(notebook, spec))
        else:
            source = read_regular_file(path, MAX_MODULE_BYTES)
    except Unreadable as error:
        fatal = str(error)
    report = None
    if fatal is None:
        with tempfile.TemporaryDirectory(prefix="grimoire-cohort-") as scratch:
            folder = Path(scratch) / topic
            folder.mkdir()
            (folder / f"{module}.py").write_text(source)
            try:
                report = grade(Path(scratch), topics=[topic], seed=job.get("seed"),
                               timeout=options.get("call_timeout"))
            except GraderError:
                raise
    scores, outputs, checks = {}, {}, {}
    for name, cell in spec["grade_cells"].items():
        task = cell["task"]
        if task is None:
            continue
        if report is None:
            outputs[name] = task_feedback(task, 0, cell["max_score"], [], [fatal])
            scores[name] = 0.0
            continue
        score, max_score, lines = task_result(report, topic, task)
        if max_score == 0:
            continue  # no hidden check grades this cell: left for a person (needs_manual_grade)
        scores[name] = float(min(score, cell["max_score"]))
        outputs[name] = task_feedback(task, score, max_score, lines, notes)
        checks[task] = [{k: c[k] for k in ("name", "passed", "points", "max_points", "message")}
                        for c in report["topics"][module]["checks"] if c["task"] == task]
    note = "" if fatal is None else fatal
    if job["kind"] == "folder" and fatal is None:
        note = f"graded from your file {topic}/{module}.py"
    text = autograded_notebook(notebook, spec, outputs, note)
    return {
        "scores": scores,
        "checks": checks,
        "unanswered": sorted(unanswered_cells(notebook, spec)) if notebook is not None else [],
        "autograded": text,
        "unreadable": fatal,
        "seed": report["seed"] if report else None,
    }
