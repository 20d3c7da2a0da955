"""``autograder grade-cohort``: grade a whole cohort in parallel into nbgrader's gradebook.

Two layouts:

- an nbgrader course (a folder with nbgrader_config.py): ``submitted/<student>/<assignment>/
  <notebook>.ipynb``, assignments already in the gradebook (``nbgrader generate_assignment``);
- a folder of pytest-path submissions, ``<student>/NN_topic/module.py`` (``--course`` names the
  course whose gradebook receives the grades; the assignment is the topic folder).

One worker process per core imports Keras once and grades one submission at a time (every
submission still runs in its own sandboxed child, under a wall-time limit per call and per
submission and a memory cap). Workers return plain data; this process alone writes: first the
autograded notebook (atomically), then the gradebook, in one transaction per submission. A
submission is done once committed; a rerun skips done ones (unless ``force``) and grades the rest.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from autograder import gradebook as books

NOTEBOOK, FOLDER = "notebook", "folder"


class CohortError(RuntimeError):
    """The cohort cannot be graded as asked (not a submission's fault)."""


@dataclass
class Job:
    student: str
    assignment: str
    kind: str
    path: Path
    timestamp: object = None

    def message(self, spec: dict, seed) -> dict:
        path = self.path / f"{spec['notebook']}.ipynb" if self.kind == NOTEBOOK else self.path
        return {"student": self.student, "assignment": self.assignment, "kind": self.kind,
                "path": str(path), "spec": spec, "seed": seed}


@dataclass
class Summary:
    graded: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"graded": self.graded, "skipped": self.skipped, "failed": self.failed,
                "timed_out": self.timed_out, "unreadable": self.unreadable, "seconds": self.seconds}


# -- discovery ---------------------------------------------------------------------------------

def _is_course(path: Path) -> bool:
    return (path / "nbgrader_config.py").is_file()


def _students(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))


def discover(path: Path, course: Path | None, assignments: list[str] | None):
    """``(course root, kind, [Job])`` for the cohort at ``path``."""
    from grimoire.topics import FOLDER_PATTERN, module_name

    path = path.resolve()
    if _is_course(path) and course is None:
        course = path
    if course is None:
        raise CohortError(f"{path} is not an nbgrader course (no nbgrader_config.py): "
                          "pass --course COURSE for the gradebook that receives the grades")
    course = course.resolve()
    coursedir = books.course_directory(course)
    jobs = []
    if path == course:
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, ".", "."))
        for student in _students(submitted):
            for folder in sorted(p for p in student.iterdir() if p.is_dir() and not p.is_symlink()):
                if assignments and folder.name not in assignments:
                    continue
                jobs.append(Job(student.name, folder.name, NOTEBOOK, folder,
                                books.submission_timestamp(coursedir, folder)))
        return course, coursedir, jobs
    for student in _students(path):
        for folder in sorted(p for p in student.iterdir() if p.is_dir() and FOLDER_PATTERN.match(p.name)):
            if assignments and folder.name not in assignments:
                continue
            jobs.append(Job(student.name, folder.name, FOLDER, folder / f"{module_name(folder.name)}.py"))
    return course, coursedir, jobs


# -- the worker pool ---------------------------------------------------------------------------

class _Worker:
    def __init__(self, context, options: dict):
        from autograder import cohort_worker

        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=cohort_worker.serve, args=(theirs, options))
        self.process.start()
        theirs.close()
        self.ready = False
        self.job: Job | None = None
        self.deadline = time.monotonic() + options["startup_limit"]

    def stop(self) -> None:
        for kill in (lambda: os.killpg(self.process.pid, signal.SIGKILL), self.process.kill):
            try:
                kill()
            except (ProcessLookupError, PermissionError, OSError):
                pass
        self.process.join(timeout=10)
        self.connection.close()


class Pool:
    """``workers`` grading processes; ``run(jobs)`` yields ``(job, result or None, status)``."""

    def __init__(self, workers: int, options: dict):
        self.context = multiprocessing.get_context("spawn")
        self.options = options
        self.workers = [_Worker(self.context, options) for _ in range(workers)]
        self.failed_starts = 0

    def close(self) -> None:
        for worker in self.workers:
            if worker.process.is_alive():
                try:
                    worker.connection.send(None)
                except OSError:
                    pass
        for worker in self.workers:
            worker.process.join(timeout=5)
            worker.stop()

    def _replace(self, worker: _Worker) -> None:
        if not worker.ready:
            self.failed_starts += 1
            if self.failed_starts > 2 * len(self.workers):
                raise CohortError("the grading workers could not start (see their stderr)")
        worker.stop()
        self.workers[self.workers.index(worker)] = _Worker(self.context, self.options)

    def run(self, jobs: list[Job], message):
        queue = deque(jobs)
        limit = self.options["time_limit"]
        while queue or any(w.job for w in self.workers):
            for worker in self.workers:
                if worker.ready and worker.job is None and queue:
                    worker.job = queue.popleft()
                    worker.deadline = time.monotonic() + limit
                    worker.connection.send(message(worker.job))
            now = time.monotonic()
            timeout = max(0.0, min(w.deadline for w in self.workers) - now) if self.workers else None
            ready = wait([w.connection for w in self.workers] + [w.process.sentinel for w in self.workers],
                         timeout=min(timeout, 1.0))
            for worker in list(self.workers):
                if worker.connection in ready or worker.process.sentinel in ready:
                    try:
                        answer = worker.connection.recv() if worker.connection.poll() else None
                    except (EOFError, OSError):
                        answer = None
                    if answer is None:
                        job, worker.job = worker.job, None
                        self._replace(worker)
                        if job is not None:
                            yield job, None, "failed"
                        elif not queue:
                            pass
                        continue
                    if "ready" in answer:
                        worker.ready = True
                        worker.deadline = float("inf")
                        continue
                    job, worker.job = worker.job, None
                    worker.deadline = float("inf")
                    yield job, answer, answer.get("status", "failed")
                elif time.monotonic() > worker.deadline:
                    job, worker.job = worker.job, None
                    self._replace(worker)
                    if job is not None:
                        yield job, None, "timed out"


# -- writing results ---------------------------------------------------------------------------

def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(text)
    os.replace(scratch, path)


def _autograded_folder(coursedir, job: Job) -> Path:
    return Path(coursedir.format_path(coursedir.autograded_directory, job.student, job.assignment))


def _commit(gb, coursedir, spec: dict, job: Job, result: dict) -> None:
    folder = _autograded_folder(coursedir, job)
    _write_atomic(folder / f"{spec['notebook']}.ipynb", result["autograded"])
    if job.kind == NOTEBOOK:
        timestamp_file = job.path / "timestamp.txt"
        if timestamp_file.is_file() and not timestamp_file.is_symlink() and timestamp_file.stat().st_size < 1024:
            _write_atomic(folder / "timestamp.txt", timestamp_file.read_text(errors="replace"))
    books.commit_grades(gb, job.assignment, job.student, job.timestamp, result["scores"],
                        set(result["unanswered"]))


def _is_done(done: dict, job: Job, coursedir, spec: dict) -> bool:
    if job.student not in done:
        return False
    recorded = done[job.student]
    if job.timestamp is not None and (recorded is None or recorded.replace(tzinfo=None) < job.timestamp.replace(tzinfo=None)):
        return False  # submitted again since it was graded
    return (_autograded_folder(coursedir, job) / f"{spec['notebook']}.ipynb").is_file()


# -- the whole run -----------------------------------------------------------------------------

def grade_cohort(path: Path, course: Path | None = None, assignments: list[str] | None = None,
                 workers: int | None = None, force: bool = False, time_limit: float = 300.0,
                 call_timeout: float = 5.0, seed: int | None = None, progress: bool = True,
                 log=print) -> Summary:
    """Grade every submission under ``path`` that is not yet done; returns the summary."""
    started = time.monotonic()
    course, coursedir, jobs = discover(Path(path), course, assignments)
    summary = Summary()
    specs: dict[str, dict] = {}
    with books.open_gradebook(coursedir) as gb:
        todo = []
        done_by_assignment = {}
        for job in jobs:
            if job.assignment not in specs:
                try:
                    specs[job.assignment] = books.assignment_spec(gb, job.assignment, coursedir)
                except books.MissingEntry as error:
                    raise CohortError(f"{error}: run `nbgrader generate_assignment {job.assignment}` "
                                      "in the course first") from None
                done_by_assignment[job.assignment] = books.done_submissions(gb, specs[job.assignment])
            if not force and _is_done(done_by_assignment[job.assignment], job, coursedir, specs[job.assignment]):
                summary.skipped += 1
            else:
                todo.append(job)
        gb.db.commit()  # end the read transaction: nothing is held while workers grade
        if todo:
            _run(todo, specs, gb, coursedir, summary, workers, time_limit, call_timeout, seed, progress, log)
    summary.seconds = time.monotonic() - started
    return summary


def _run(todo, specs, gb, coursedir, summary, workers, time_limit, call_timeout, seed, progress, log):
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    count = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    options = {"call_timeout": call_timeout, "time_limit": time_limit, "startup_limit": 600.0}
    pool = Pool(count, options)
    columns = [TextColumn("[bold]grading[/bold] {task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    bar = Progress(*columns, disable=not progress, transient=False)
    try:
        with bar:
            task = bar.add_task(f"{len(todo)} submissions on {count} workers", total=len(todo))
            for job, result, status in pool.run(todo, lambda j: j.message(specs[j.assignment], seed)):
                name = f"{job.student}/{job.assignment}"
                if status == "graded":
                    _commit(gb, coursedir, specs[job.assignment], job, result)
                    summary.graded += 1
                    if result.get("unreadable"):
                        summary.unreadable.append(f"{name}: {result['unreadable']}")
                elif status == "timed out":
                    summary.timed_out.append(name)
                else:
                    detail = (result or {}).get("error", "the grading worker died")
                    summary.failed.append(f"{name}: {detail.splitlines()[0] if detail else ''}")
                bar.advance(task)
    finally:
        pool.close()
