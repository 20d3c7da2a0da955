"""What a Dask worker of ``grade-cohort`` runs: import Keras once, then grade one submission per task.

:class:`GraderPlugin` prepares every worker that joins the cluster (including one a nanny
restarts): it starts the sandbox's fork server and imports Keras, once per worker process. A
task, :func:`grade_job`, receives the submission's *content* (read by the client, which alone
touches the course folder), grades it through :func:`autograder.engine.grade` exactly like
``autograder grade`` (every submission in its own sandboxed child, with the isolation of
:mod:`autograder.isolation`) and returns plain data as one size-capped JSON blob. It never
touches the gradebook; only the client writes.

A worker grades one submission at a time even when it has several threads (pytest and the
sandbox are per process), and tells the client when it starts one (an event on the
``grimoire-cohort`` topic): the client's watchdog measures the per-submission time limit from there.
"""

from __future__ import annotations

import gc
import json
import math
import multiprocessing
import os
import tempfile
import threading
import time
import traceback
from pathlib import Path

from grimoire.topics import module_name

try:
    from distributed import WorkerPlugin
except ImportError:  # the module is also used without Dask (tests of its pure functions)
    WorkerPlugin = object

EVENT_TOPIC = "grimoire-cohort"
MAX_ANSWER_BYTES = 32 * 1024**2  # what a worker may send back for one submission
MAX_MESSAGE_CHARS = 2000  # one check's message in the feedback
MAX_OUTPUT_CHARS = 20000  # one graded cell's printed feedback
MAX_NOTE_CHARS = 4000

_prepare_lock = threading.Lock()
_grading_lock = threading.Lock()
_prepared = False


def isolation() -> dict:
    """``autograder.isolation.describe()`` on this machine (``level`` "none" where it is missing)."""
    try:
        from autograder.isolation import describe
    except ImportError:  # an older kit: children, time and memory limits only
        return {"level": "none", "mechanisms": ["child process", "time limits", "resource limits"],
                "missing": ["autograder.isolation is not available on this machine"]}
    try:
        return dict(describe())
    except Exception as error:  # noqa: BLE001  (a broken probe is no isolation, not a crash)
        return {"level": "none", "mechanisms": [], "missing": [f"isolation probe failed: {error}"]}


def _allow_children() -> None:
    """Dask starts worker processes as daemons; the sandbox needs to start children of its own."""
    process = multiprocessing.current_process()
    if process.daemon:
        process._config["daemon"] = False  # noqa: SLF001  (multiprocessing has no public setter here)


def prepare() -> None:
    """Start the fork server and import Keras, once per process (idempotent, thread-safe)."""
    global _prepared
    with _prepare_lock:
        if _prepared:
            return
        _allow_children()
        from autograder.sandbox import warm_up
        from grimoire.quiet import import_keras

        warm_up()
        import_keras()
        from autograder import engine  # noqa: F401  (imported once, before the heap is frozen)

        isolation()  # probed once here, not in the middle of a submission
        gc.collect()
        gc.freeze()  # TensorFlow's objects stay out of every later collection (pytest runs a few)
        _prepared = True


class GraderPlugin(WorkerPlugin):
    """Registered by the client: every worker (and every restarted one) is prepared on joining."""

    name = "tf-grimoire-grader"

    def setup(self, worker=None):
        prepare()


def worker_report() -> dict:
    """What the client asks each worker before grading: its process and isolation."""
    prepare()
    return {"pid": os.getpid(), "isolation": isolation()}


def _announce(key: str) -> None:
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return  # not inside a Dask worker (a direct call)
    try:
        worker.log_event(EVENT_TOPIC, {"key": key, "worker": worker.address, "pid": os.getpid(),
                                       "started": time.time()})
    except Exception:  # noqa: BLE001  (the watchdog then counts from submission time)
        pass


def grade_job(job: dict, options: dict) -> bytes:
    """A Dask task: grade one submission; the answer is UTF-8 JSON of at most MAX_ANSWER_BYTES."""
    prepare()
    with _grading_lock:
        _announce(job.get("key", ""))
        result = {"student": job["student"], "assignment": job["assignment"], "status": "graded",
                  "isolation": isolation().get("level", "none")}
        try:
            result.update(_grade(job, options))
        except Exception as error:  # noqa: BLE001  (a grader fault: reported, never committed)
            result["status"] = "failed"
            result["error"] = shorten(f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=4)}",
                                      MAX_NOTE_CHARS)
        return encode_answer(result, job["spec"])


def shorten(text, limit: int) -> str:
    text = text if isinstance(text, str) else str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 40]} ... [{len(text) - limit + 40} characters cut]"


def encode_answer(result: dict, spec: dict) -> bytes:
    """``result`` as JSON bytes; a result too large loses its notebook copy, then its details."""
    data = json.dumps(result).encode()
    if len(data) <= MAX_ANSWER_BYTES or result.get("status") != "graded":
        return data[:MAX_ANSWER_BYTES] if len(data) > MAX_ANSWER_BYTES else data
    from autograder.cohort_notebooks import autograded_notebook

    note = "your notebook was too large to copy into the feedback; the released notebook shows your scores"
    outputs = result.get("outputs", {})
    result = {**result, "autograded": autograded_notebook(None, spec, outputs, note), "checks": {}}
    data = json.dumps(result).encode()
    if len(data) <= MAX_ANSWER_BYTES:
        return data
    return json.dumps({k: result[k] for k in ("student", "assignment", "isolation")}
                      | {"status": "failed", "error": "the grading answer was too large"}).encode()


def _grade(job: dict, options: dict) -> dict:
    from autograder.cohort_notebooks import (Unreadable, autograded_notebook, module_from_cells,
                                             parse_notebook, student_cells, unanswered_cells)
    from autograder.engine import grade
    from autograder.notebook import task_feedback, task_result

    spec = job["spec"]
    topic = spec["topic"]
    module = module_name(topic)
    notebook, source, notes, fatal = None, None, [], job.get("refused")
    if fatal is None:
        content = job.get("content")
        try:
            if not isinstance(content, str):
                raise Unreadable(f"{job.get('name', 'the submission')} could not be read")
            if job["kind"] == "notebook":
                notebook = parse_notebook(content, job.get("name", f"{spec['notebook']}.ipynb"))
                source, notes = module_from_cells(spec["setup"], student_cells(notebook, spec))
            else:
                source = content
        except Unreadable as error:
            fatal = str(error)
        except (RecursionError, MemoryError, ValueError, TypeError, KeyError, AttributeError) as error:
            notebook, fatal = None, f"{job.get('name', 'the submission')} could not be read ({type(error).__name__})"
    report = None
    if fatal is None:
        with tempfile.TemporaryDirectory(prefix="grimoire-cohort-") as scratch:
            folder = Path(scratch) / topic
            folder.mkdir()
            (folder / f"{module}.py").write_text(source)
            report = grade(Path(scratch), topics=[topic], seed=job.get("seed"),
                           timeout=options.get("call_timeout"))
    scores, outputs, checks = {}, {}, {}
    notes = [shorten(n, MAX_NOTE_CHARS) for n in notes]
    for name, cell in spec["grade_cells"].items():
        task = cell["task"]
        if task is None:
            continue
        if report is None:
            outputs[name] = shorten(task_feedback(task, 0, cell["max_score"], [], [fatal]), MAX_OUTPUT_CHARS)
            scores[name] = 0.0
            continue
        score, max_score, lines = task_result(report, topic, task)
        if max_score == 0:
            continue  # no hidden check grades this cell: left for a person (needs_manual_grade)
        scores[name] = float(min(score, cell["max_score"]))
        lines = [shorten(line, MAX_MESSAGE_CHARS) for line in lines]
        outputs[name] = shorten(task_feedback(task, score, max_score, lines, notes), MAX_OUTPUT_CHARS)
        checks[task] = [{k: (shorten(c[k], MAX_MESSAGE_CHARS) if k == "message" else c[k])
                         for k in ("name", "passed", "points", "max_points", "message")}
                        for c in report["topics"][module]["checks"] if c["task"] == task]
    note = "" if fatal is None else shorten(fatal, MAX_NOTE_CHARS)
    if job["kind"] == "folder" and fatal is None:
        note = f"graded from your file {topic}/{module}.py"
    text = autograded_notebook(notebook, spec, outputs, note)
    return {
        "scores": {k: v for k, v in scores.items() if math.isfinite(v)},
        "checks": checks,
        "outputs": outputs,
        "unanswered": sorted(unanswered_cells(notebook, spec)) if notebook is not None else [],
        "autograded": text,
        "unreadable": fatal,
        "seed": report["seed"] if report else None,
    }
