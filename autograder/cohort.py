"""``autograder grade-cohort``: grade a whole cohort on Dask's distributed scheduler into nbgrader's gradebook.

Two layouts:

- an nbgrader course (a folder with nbgrader_config.py): ``submitted/<student>/<assignment>/
  <notebook>.ipynb``, assignments already in the gradebook (``nbgrader generate_assignment``);
- a folder of pytest-path submissions, ``<student>/NN_topic/module.py`` (``--course`` names the
  course whose gradebook receives the grades; the assignment is the topic folder).

The workers are Dask workers: by default an embedded ``LocalCluster`` of one single-threaded
worker process per core; with ``scheduler="tcp://host:8786"`` the workers of an existing
cluster (``dask scheduler`` / ``dask worker --nthreads 1``; every worker machine has this kit
installed). Each worker imports Keras once (:class:`autograder.cohort_worker.GraderPlugin`) and
grades one submission per task, every submission in its own sandboxed child, exactly like
``autograder grade``.

This process (the client) alone touches the course: it reads each submission (refusing links
anywhere in it), sends its content to the cluster, and writes what comes back: first the
autograded notebook (atomically), then the gradebook, in one transaction per submission. A
submission is done once committed; a rerun skips done ones (unless ``force``) and grades the
rest, so a client killed at any point loses nothing and duplicates nothing. A worker that dies
mid-submission has it rescheduled by Dask on another worker, and its answer is committed once;
a submission on which ``distributed.scheduler.allowed-failures`` + 1 workers died is recorded
as failed (0 points, flagged for a person in the Formgrader) and not retried by later runs
(``retry_failed`` does). Every exchange with the cluster has a timeout, a watchdog restarts a
worker whose submission ran past ``time_limit``, and a run that makes no progress at all for
``stall_limit`` seconds stops with what it has committed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from autograder import gradebook as books
from autograder.cohort_queue import AssignmentQueue

NOTEBOOK, FOLDER = "notebook", "folder"
LEVELS = {"none": 0, "partial": 1, "full": 2}
EXCHANGE_TIMEOUT = 60.0  # seconds for one exchange with the scheduler (connect, fetch, restart)
POLL_SECONDS = 0.05  # how often the client looks for finished submissions
WORKERS_REFRESH_SECONDS = 1.0  # how often it asks the scheduler which workers it has


class CohortError(RuntimeError):
    """The cohort cannot be graded as asked (not a submission's fault)."""


@dataclass
class Job:
    student: str
    assignment: str
    kind: str
    path: Path
    timestamp: object = None
    refused: str | None = None  # why it is graded 0 without running (a link in it, too many files)

    @property
    def name(self) -> str:
        return f"{self.student}/{self.assignment}"

    def message(self, spec: dict, seed, key: str) -> dict:
        """What crosses to a worker: the submission's content, read here with every check."""
        from autograder.cohort_notebooks import (MAX_MODULE_BYTES, MAX_NOTEBOOK_BYTES, Unreadable,
                                                 read_regular_file)

        if self.kind == NOTEBOOK:
            path, limit = self.path / f"{spec['notebook']}.ipynb", MAX_NOTEBOOK_BYTES
        else:
            path, limit = self.path, MAX_MODULE_BYTES
        refused, content = self.refused, None
        if refused is None:
            try:
                content = read_regular_file(path, limit)
            except Unreadable as error:
                refused = f"could not be read: {error}"
        return {"key": key, "student": self.student, "assignment": self.assignment, "kind": self.kind,
                "name": path.name, "content": content, "refused": refused, "spec": spec, "seed": seed}


@dataclass
class Summary:
    graded: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    killed_workers: list[str] = field(default_factory=list)
    isolation: dict = field(default_factory=dict)
    workers: int = 0
    scheduler: str = ""
    seconds: float = 0.0
    startup_seconds: float = 0.0  # until every worker had imported Keras and answered
    seed: int | None = None  # every submission of the run is graded with it

    def as_dict(self) -> dict:
        return {"graded": self.graded, "skipped": self.skipped, "failed": self.failed,
                "timed_out": self.timed_out, "unreadable": self.unreadable, "refused": self.refused,
                "killed_workers": self.killed_workers, "isolation": self.isolation,
                "workers": self.workers, "scheduler": self.scheduler, "seconds": self.seconds,
                "startup_seconds": self.startup_seconds, "seed": self.seed}


# -- discovery ---------------------------------------------------------------------------------

def _is_course(path: Path) -> bool:
    return (path / "nbgrader_config.py").is_file()


def _entries(folder: Path, refused: list[str], label: str) -> list[Path]:
    """Sub-folders of ``folder``; a link among them is refused (named in ``refused``), never followed."""
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            refused.append(f"{label}/{entry.name}: a symbolic link, so it was not graded")
        elif entry.is_dir():
            found.append(entry)
    return found


def discover(path: Path, course: Path | None, assignments: list[str] | None):
    """``(course root, course directory, [Job], [refused])`` for the cohort at ``path``."""
    from autograder.cohort_notebooks import submission_links
    from grimoire.topics import FOLDER_PATTERN, module_name

    path = Path(path).absolute()
    if not path.is_dir():
        raise CohortError(f"{path} is not a folder")
    path = path.resolve()
    if _is_course(path) and course is None:
        course = path
    if course is None:
        raise CohortError(f"{path} is not an nbgrader course (no nbgrader_config.py): "
                          "pass --course COURSE for the gradebook that receives the grades")
    course = Path(course).resolve()
    if not _is_course(course):
        raise CohortError(f"{course} is not an nbgrader course (no nbgrader_config.py)")
    try:
        coursedir = books.course_directory(course)
    except Exception as error:  # noqa: BLE001  (the instructor's config: say so in one line)
        raise CohortError(f"{course}/nbgrader_config.py could not be loaded: {error}") from None
    jobs, refused = [], []
    if path == course:
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, ".", "."))
        for student in _entries(submitted, refused, submitted.name):
            for folder in sorted(student.iterdir()):
                if assignments and folder.name not in assignments:
                    continue
                if not (folder.is_symlink() or folder.is_dir()):
                    continue
                reason = submission_links(folder)
                timestamp = None if reason else books.submission_timestamp(coursedir, folder)
                jobs.append(Job(student.name, folder.name, NOTEBOOK, folder, timestamp, reason))
        return course, coursedir, jobs, refused
    for student in _entries(path, refused, path.name):
        for folder in sorted(student.iterdir()):
            if not FOLDER_PATTERN.match(folder.name) or (assignments and folder.name not in assignments):
                continue
            if not (folder.is_symlink() or folder.is_dir()):
                continue
            jobs.append(Job(student.name, folder.name, FOLDER, folder / f"{module_name(folder.name)}.py",
                            refused=submission_links(folder)))
    return course, coursedir, jobs, refused


# -- writing results ---------------------------------------------------------------------------

def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(text)
    os.replace(scratch, path)


def _autograded_folder(coursedir, job: Job) -> Path:
    return Path(coursedir.format_path(coursedir.autograded_directory, job.student, job.assignment))


def _commit(gb, coursedir, spec: dict, job: Job, result: dict, flagged: bool = False) -> None:
    folder = _autograded_folder(coursedir, job)
    _write_atomic(folder / f"{spec['notebook']}.ipynb", result["autograded"])
    if job.kind == NOTEBOOK and job.refused is None:
        timestamp_file = job.path / "timestamp.txt"
        if timestamp_file.is_file() and not timestamp_file.is_symlink() and timestamp_file.stat().st_size < 1024:
            _write_atomic(folder / "timestamp.txt", timestamp_file.read_text(errors="replace"))
    books.commit_grades(gb, job.assignment, job.student, job.timestamp, result["scores"],
                        set(result["unanswered"]), flagged=flagged)


def _is_done(done: dict, job: Job, coursedir, spec: dict) -> bool:
    if job.student not in done:
        return False
    recorded = done[job.student]
    if job.timestamp is not None and (recorded is None or recorded.replace(tzinfo=None) < job.timestamp.replace(tzinfo=None)):
        return False  # submitted again since it was graded
    return (_autograded_folder(coursedir, job) / f"{spec['notebook']}.ipynb").is_file()


class BadAnswer(ValueError):
    """A worker's answer that cannot be committed (too large, not JSON, wrong shape)."""


def decode_answer(blob, spec: dict) -> dict:
    """A worker's answer, checked before anything of it is trusted: size first, then shape.

    Scores are clamped to each cell's maximum: no answer, whatever a worker sends, can give a
    cell more than its points.
    """
    from autograder.cohort_worker import MAX_ANSWER_BYTES

    if not isinstance(blob, (bytes, bytearray)):
        raise BadAnswer(f"the worker answered {type(blob).__name__}, not bytes")
    if len(blob) > MAX_ANSWER_BYTES:
        raise BadAnswer(f"the worker's answer is {len(blob) // 1024**2} MiB, over the "
                        f"{MAX_ANSWER_BYTES // 1024**2} MiB cap")
    try:
        answer = json.loads(blob)
    except (ValueError, RecursionError) as error:
        raise BadAnswer(f"the worker's answer is not JSON ({type(error).__name__})") from None
    if not isinstance(answer, dict) or answer.get("status") not in ("graded", "failed"):
        raise BadAnswer("the worker's answer has no status")
    if answer["status"] == "failed":
        answer["error"] = str(answer.get("error", ""))[:4000]
        return answer
    cells = {name: cell for name, cell in spec["grade_cells"].items() if cell["task"]}
    scores = answer.get("scores")
    if not isinstance(scores, dict) or not set(scores) <= set(cells):
        raise BadAnswer("the worker's answer scores cells the assignment does not have")
    clean = {}
    for name, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BadAnswer(f"the worker's answer scores {name} with {value!r}")
        clean[name] = float(min(max(value, 0.0), cells[name]["max_score"]))
    unanswered = answer.get("unanswered", [])
    if not isinstance(unanswered, list) or not set(map(str, unanswered)) <= set(spec["solution_cells"]):
        raise BadAnswer("the worker's answer names unknown solution cells")
    if not isinstance(answer.get("autograded"), str):
        raise BadAnswer("the worker's answer has no autograded notebook")
    unreadable = answer.get("unreadable")
    answer.update(scores=clean, unanswered=[str(u) for u in unanswered],
                  unreadable=None if unreadable is None else str(unreadable)[:4000])
    return answer


def _failed_result(spec: dict, note: str) -> dict:
    """0 on every graded cell, the released notebook with ``note``: a submission recorded as failed."""
    from autograder.cohort_notebooks import autograded_notebook
    from autograder.notebook import task_feedback

    outputs = {name: task_feedback(cell["task"], 0, cell["max_score"], [], [note])
               for name, cell in spec["grade_cells"].items() if cell["task"]}
    return {"scores": {name: 0.0 for name in outputs}, "unanswered": [],
            "autograded": autograded_notebook(None, spec, outputs, note)}


# -- the cluster -------------------------------------------------------------------------------

def call_with_timeout(function, seconds: float, what: str):
    """``function()`` in a helper thread; CohortError when it takes more than ``seconds``.

    For the Dask calls that have no timeout of their own: no exchange may hang the run.
    """
    box: dict = {}

    def target():
        try:
            box["value"] = function()
        except BaseException as error:  # noqa: BLE001  (re-raised in the caller)
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True, name=f"grade-cohort: {what}")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise CohortError(f"{what} did not answer within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


@contextlib.contextmanager
def cluster(scheduler: str | None, workers: int, startup_limit: float, exchange_timeout: float):
    """A connected ``distributed.Client``: to ``scheduler``, or to an embedded LocalCluster."""
    import dask
    from distributed import Client, LocalCluster

    # Dask's worker processes are daemons by default, and a daemon may not start the sandbox's
    # children; one task at a time per worker thread, so that a worker that dies takes no
    # queued classmate's submission down with it (each death counts against a task).
    dask.config.set({"distributed.worker.daemon": False,
                     "distributed.scheduler.worker-saturation": 1.0})
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    local = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout=exchange_timeout, set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise CohortError(f"no Dask scheduler answered at {scheduler} within "
                                  f"{exchange_timeout:g} s ({error})") from None
        else:
            local = call_with_timeout(
                lambda: LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     dashboard_address=None, silence_logs=logging.CRITICAL),
                startup_limit, "starting the local Dask cluster")
            client = Client(local, timeout=exchange_timeout, set_as_default=False)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                call_with_timeout(lambda: client.close(timeout=exchange_timeout), exchange_timeout + 5,
                                  "closing the Dask client")
    finally:
        if local is not None:
            with contextlib.suppress(Exception):
                call_with_timeout(lambda: local.close(timeout=exchange_timeout), exchange_timeout + 5,
                                  "stopping the local Dask cluster")


def prepare_workers(client, startup_limit: float) -> dict[str, dict]:
    """Wait for a worker, prepare every worker (Keras imported once each); their reports by address."""
    from autograder.cohort_worker import GraderPlugin, worker_report

    try:
        call_with_timeout(lambda: client.wait_for_workers(1, timeout=startup_limit), startup_limit + 10,
                          "waiting for a Dask worker")
    except (TimeoutError, CohortError):
        raise CohortError(f"no Dask worker joined the scheduler within {startup_limit:g} s") from None
    try:
        call_with_timeout(lambda: client.register_plugin(GraderPlugin()), startup_limit,
                          "preparing the Dask workers (importing Keras)")
    except CohortError:
        raise
    except Exception:  # noqa: BLE001  (see below)
        # The scheduler stores the plugin for every worker that joins, then sends it to each
        # worker it knows; one that died or is being restarted fails that broadcast, and the
        # scheduler drops the connection. Nothing is lost: every task prepares its worker
        # itself (grade_job), and so does the report asked for next, from the live workers.
        pass
    reports = call_with_timeout(lambda: client.run(worker_report, on_error="return"), startup_limit,
                                "asking the Dask workers for their isolation")
    good = {address: r for address, r in reports.items() if isinstance(r, dict)}
    if not good:
        raise CohortError(f"no Dask worker could be prepared: {next(iter(reports.values()), 'none answered')}")
    return good


def weakest_isolation(reports: list[dict]) -> dict:
    weakest = min((r["isolation"] for r in reports), key=lambda i: LEVELS.get(i.get("level"), 0))
    missing = sorted({m for r in reports for m in r["isolation"].get("missing", [])})
    return {**weakest, "missing": missing, "workers": len(reports)}


def isolation_refusal(isolation: dict, where: str) -> str:
    missing = "; ".join(isolation.get("missing", [])) or "unknown"
    return (f"grade-cohort grades other people's work and needs full isolation of learner code, "
            f"but {where} gives {isolation.get('level', 'none')!r} isolation (missing: {missing}). "
            "Pass --allow-weak-isolation to grade anyway; the summary will say which isolation was in force")


# -- the whole run -----------------------------------------------------------------------------

def _gradebook(coursedir, course: Path):
    """The course's gradebook, opened; CohortError (one line) when there is none."""
    url = coursedir.db_url
    if url.startswith("sqlite:///"):
        database = Path(url.removeprefix("sqlite:///"))
        if not database.is_file():
            raise CohortError(f"{course} has no gradebook ({database} does not exist): run "
                              "`nbgrader generate_assignment ASSIGNMENT` in the course first")
    try:
        return books.open_gradebook(coursedir)
    except Exception as error:  # noqa: BLE001  (alembic, a locked or corrupt file: say it in one line)
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CohortError(f"the gradebook {url} could not be opened: {type(error).__name__}: {first}") from None


def grade_cohort(path: Path, course: Path | None = None, assignments: list[str] | None = None,
                 workers: int | None = None, force: bool = False, time_limit: float = 300.0,
                 call_timeout: float = 5.0, seed: int | None = None, progress: bool = True,
                 log=print, scheduler: str | None = None, allow_weak_isolation: bool = False,
                 retry_failed: bool = False, startup_limit: float = 600.0,
                 stall_limit: float | None = None, exchange_timeout: float = EXCHANGE_TIMEOUT,
                 watchdog: bool = False) -> Summary:
    """Grade every submission under ``path`` that is not yet done; returns the summary."""
    from autograder.cohort_worker import isolation

    started = time.monotonic()
    course, coursedir, jobs, refused = discover(Path(path), course, assignments)
    # One seed for the whole run: every learner gets the same draws (and a worker computes each
    # check's Keras answer once, see autograder.oracle); the summary names it, so that any
    # grade of the run can be reproduced with `autograder grade --seed`.
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    summary = Summary(refused=refused, scheduler=scheduler or "embedded LocalCluster", seed=seed)
    if not scheduler:  # the workers will be on this machine: refuse before starting any
        summary.isolation = isolation()
        if summary.isolation.get("level") != "full" and not allow_weak_isolation:
            raise CohortError(isolation_refusal(summary.isolation, "this machine"))
    specs: dict[str, dict] = {}
    with _gradebook(coursedir, course) as gb:
        todo = []
        done_by_assignment = {}
        for job in jobs:
            if job.assignment not in specs:
                try:
                    specs[job.assignment] = books.assignment_spec(gb, job.assignment, coursedir)
                except books.MissingEntry as error:
                    raise CohortError(f"{error}: run `nbgrader generate_assignment {job.assignment}` "
                                      "in the course first") from None
                done_by_assignment[job.assignment] = books.done_submissions(
                    gb, specs[job.assignment], flagged_done=not retry_failed)
            if not force and _is_done(done_by_assignment[job.assignment], job, coursedir, specs[job.assignment]):
                summary.skipped += 1
            else:
                todo.append(job)
        gb.db.commit()  # end the read transaction: nothing is held while workers grade
        if todo:
            count = max(1, min(workers or os.cpu_count() or 1, len(todo)))
            run = _Run(todo, specs, gb, coursedir, summary, seed=seed, time_limit=time_limit,
                       call_timeout=call_timeout, startup_limit=startup_limit,
                       stall_limit=stall_limit or (time_limit + startup_limit),
                       exchange_timeout=exchange_timeout, allow_weak=allow_weak_isolation)
            with cluster(scheduler, count, startup_limit, exchange_timeout) as client:
                run.go(client, progress, watchdog)
                summary.startup_seconds = run.ready_at - started
    summary.seconds = time.monotonic() - started
    return summary


class _Run:
    """One pass over the cluster: submit (a bounded window), watch, commit, in this thread only."""

    def __init__(self, todo, specs, gb, coursedir, summary, **options):
        self.todo, self.specs, self.gb, self.coursedir, self.summary = todo, specs, gb, coursedir, summary
        self.options = options
        self.started: dict[str, tuple[str, float]] = {}  # key -> (worker address, monotonic start)
        self.lock = threading.Lock()
        self.heartbeat = time.monotonic()
        self.finished = False
        self.ready_at = time.monotonic()
        self._alive: list[str] | None = None  # the workers the scheduler had when last asked
        self._alive_at = 0.0

    # events from the workers (called on the client's event-loop thread)
    def _on_event(self, event) -> None:
        message = event[1] if isinstance(event, tuple) and len(event) == 2 else event
        if isinstance(message, dict) and isinstance(message.get("key"), str):
            with self.lock:
                self.started[message["key"]] = (str(message.get("worker", "")), time.monotonic())

    def _watchdog(self) -> None:
        """Stops the whole process if this client's own loop stops turning (a hang in any call)."""
        limit = self.options["stall_limit"] + self.options["exchange_timeout"]
        while not self.finished:
            time.sleep(1.0)
            if not self.finished and time.monotonic() - self.heartbeat > limit:
                os.write(2, (f"\nautograder: grade-cohort made no progress for {limit:g} s and stopped; "
                             "every submission graded so far is committed: run it again to go on\n").encode())
                os._exit(3)

    def go(self, client, progress: bool, watchdog: bool) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        from autograder.cohort_worker import EVENT_TOPIC, grade_job

        options, summary = self.options, self.summary
        if watchdog:
            threading.Thread(target=self._watchdog, daemon=True, name="grade-cohort watchdog").start()
        reports = prepare_workers(client, options["startup_limit"])
        self.ready_at = time.monotonic()
        summary.isolation = weakest_isolation(list(reports.values()))
        summary.workers = len(reports)
        if summary.isolation.get("level") != "full" and not options["allow_weak"]:
            raise CohortError(isolation_refusal(summary.isolation, f"a worker of {summary.scheduler}"))
        client.subscribe_topic(EVENT_TOPIC, self._on_event)
        self.heartbeat = time.monotonic()

        queue = AssignmentQueue(self.todo, lambda job: job.assignment)
        inflight: dict[str, tuple[object, Job, str | None]] = {}  # key -> (future, job, the worker chosen for)
        window = max(1, summary.workers)
        columns = [TextColumn("[bold]grading[/bold] {task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
        bar = Progress(*columns, disable=not progress, transient=False)
        last_progress = time.monotonic()
        task_options = {"call_timeout": options["call_timeout"]}
        try:
            with bar:
                task = bar.add_task(f"{len(self.todo)} submissions on {summary.workers} Dask workers",
                                    total=len(self.todo))

                def fill_window() -> None:
                    # No more submissions on the cluster than workers. These tasks are never
                    # "root-ish" (each key is its own task group), so the scheduler's own queue
                    # does not hold them back: this window is what keeps a second task from
                    # waiting behind another on a worker, where that worker's death would cost it
                    # a try (each death counts against every task the worker held, and
                    # allowed-failures is small). Only a task Dask reschedules after a death can
                    # still land behind one. So a submission goes to an idle worker, and it is one
                    # of the assignment that worker holds (see autograder.cohort_queue). No worker
                    # restriction is set: the scheduler puts it on the idle worker anyway, and a
                    # restriction could pin it to a worker that is stopped or gone.
                    if not queue or len(inflight) >= window:
                        return
                    alive = self._workers(client, reports)
                    with self.lock:
                        busy = {self.started.get(key, (worker,))[0] for key, (_, _, worker) in inflight.items()}
                    idle = [w for w in alive if w not in busy]
                    while queue and len(inflight) < window:
                        worker = idle.pop(0) if idle else None
                        job = queue.take(worker)
                        key = f"grade-{job.assignment}-{job.student}-{uuid.uuid4().hex[:8]}"
                        message = job.message(self.specs[job.assignment], options["seed"], key)
                        future = client.submit(grade_job, message, task_options, key=key, pure=False)
                        inflight[key] = (future, job, worker)

                while queue or inflight:
                    self.heartbeat = time.monotonic()
                    fill_window()
                    done = [key for key, (future, _, _) in inflight.items() if future.done()]
                    finished = [(key, *inflight.pop(key)[:2]) for key in done]
                    fill_window()  # the next ones leave before the finished are committed
                    for key, future, job in finished:
                        self._settle(future, job)
                        with self.lock:
                            self.started.pop(key, None)
                        bar.advance(task)
                        last_progress = time.monotonic()
                    with self.lock:
                        for stale in [k for k in self.started if k not in inflight]:
                            del self.started[stale]  # an event that came after its answer
                        late = [(k, w) for k, (w, t) in self.started.items()
                                if k in inflight and time.monotonic() - t > options["time_limit"]]
                        if self.started:
                            last_progress = max(last_progress, max(t for _, t in self.started.values()))
                    for key, worker in late:
                        if not self._still_running(client, key, worker):
                            with self.lock:  # its worker died: Dask runs it again, a new event comes
                                if self.started.get(key, ("", 0))[0] == worker:
                                    del self.started[key]
                            continue
                        future, job, _ = inflight.pop(key)
                        with self.lock:
                            self.started.pop(key, None)
                        self._time_out(client, future, job, worker)
                        bar.advance(task)
                        last_progress = time.monotonic()
                    if inflight and time.monotonic() - last_progress > options["stall_limit"]:
                        left = len(inflight) + len(queue)
                        raise CohortError(
                            f"the Dask cluster made no progress for {options['stall_limit']:g} s "
                            f"({left} submissions left, {summary.graded} graded and committed); "
                            "check its workers and run grade-cohort again to go on")
                    if not done and not late:
                        # A poll, not distributed.wait: that needs a default client (this one is
                        # not, on purpose), and without one it returns at once: a busy loop that
                        # took a whole core from the workers.
                        time.sleep(POLL_SECONDS)
        finally:
            self.finished = True
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(EVENT_TOPIC)
            for future, _, _ in inflight.values():
                with contextlib.suppress(Exception):
                    future.cancel()

    def _workers(self, client, prepared: dict) -> list[str]:
        """The scheduler's workers, asked at most every WORKERS_REFRESH_SECONDS; else the prepared ones."""
        now = time.monotonic()
        if self._alive is None or now - self._alive_at > WORKERS_REFRESH_SECONDS:
            try:
                self._alive = sorted(client.scheduler_info(n_workers=-1).get("workers", {}))
            except Exception:  # noqa: BLE001  (no answer: the workers prepared at the start)
                self._alive = []
            self._alive_at = now
        return self._alive or sorted(prepared)

    def _settle(self, future, job: Job) -> None:
        from distributed.scheduler import KilledWorker

        summary, spec = self.summary, self.specs[job.assignment]
        timeout = self.options["exchange_timeout"]
        try:
            if future.status == "finished":
                answer = decode_answer(future.result(timeout=timeout), spec)
            elif future.status == "error":
                error = future.exception(timeout=timeout)
                if isinstance(error, KilledWorker):
                    tries = getattr(error, "allowed_failures", None)
                    tries = f"{tries + 1} tries" if isinstance(tries, int) else "every try"
                    note = (f"the grader could not grade this submission: every grading worker it ran on "
                            f"stopped ({tries}); it is recorded as 0 and left for a person to look at")
                    _commit(self.gb, self.coursedir, spec, job, _failed_result(spec, note), flagged=True)
                    summary.killed_workers.append(f"{job.name}: {tries}")
                    return
                summary.failed.append(f"{job.name}: {type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}")
                return
            else:
                summary.failed.append(f"{job.name}: the cluster dropped it ({future.status})")
                return
        except BadAnswer as error:
            summary.failed.append(f"{job.name}: {error}")
            return
        except Exception as error:  # noqa: BLE001  (a lost exchange: not graded, a rerun retries it)
            summary.failed.append(f"{job.name}: {type(error).__name__}: {error}"[:400])
            return
        finally:
            with contextlib.suppress(Exception):
                future.release()
        if answer["status"] != "graded":
            detail = answer.get("error", "") or "the grading worker failed"
            summary.failed.append(f"{job.name}: {detail.splitlines()[0]}")
            return
        level = answer.get("isolation", "none")
        if LEVELS.get(level, 0) < LEVELS["full"] and not self.options["allow_weak"]:
            summary.failed.append(f"{job.name}: graded on a worker with {level!r} isolation, so not recorded")
            return
        _commit(self.gb, self.coursedir, spec, job, answer)
        summary.graded += 1
        if answer.get("unreadable"):
            summary.unreadable.append(f"{job.name}: {answer['unreadable']}")

    def _still_running(self, client, key: str, worker: str) -> bool:
        """Whether the scheduler still has ``key`` on ``worker`` (True when it does not answer)."""
        try:
            processing = call_with_timeout(lambda: client.processing(workers=[worker]),
                                           self.options["exchange_timeout"], "asking the scheduler")
        except Exception:  # noqa: BLE001  (no answer: the time limit applies)
            return True
        return key in {str(k) for keys in (processing or {}).values() for k in keys}

    def _time_out(self, client, future, job: Job, worker: str) -> None:
        """Cancel the submission and restart the worker stuck in it (in the background)."""
        self.summary.timed_out.append(job.name)
        with contextlib.suppress(Exception):
            future.cancel()
        timeout = self.options["exchange_timeout"]

        def restart():
            try:
                client.restart_workers([worker], timeout=min(timeout, 20.0), raise_for_error=False)
            except Exception:  # noqa: BLE001  (no nanny: ask the worker to end itself)
                with contextlib.suppress(Exception):
                    client.run(os._exit, 1, workers=[worker], wait=False)

        if worker:
            threading.Thread(target=restart, daemon=True, name=f"restart {worker}").start()
