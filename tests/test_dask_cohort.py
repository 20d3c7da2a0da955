"""`grade-cohort` on Dask, with real processes, and the cohort side of the integrity issue.

- an embedded ``LocalCluster`` of two worker processes;
- a scheduler and two workers started with the ``dask`` CLI on 127.0.0.1, reached through
  ``--scheduler``, where a worker plugin (this module's, imported by the workers) makes things
  go wrong for real: one worker is SIGKILLed in the middle of a submission (graded elsewhere,
  counted once), one submission SIGKILLs every worker it lands on (recorded as failed after
  ``allowed-failures`` + 1 tries), one SIGSTOPs its worker (the watchdog times it out and has the
  worker restarted; the run ends);
- both give every other submission the same points as ``autograder grade`` (its engine, same seed).

Topic 01 only (its learner module imports no TensorFlow and its oracle is cheap) and a handful
of students: each worker process still imports TensorFlow once. The cheap checks (no cluster) come first.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder import cohort, cohort_worker
from autograder.cohort_notebooks import Unreadable, parse_notebook, submission_links
from grimoire.topics import ROOT, load_topic, module_name
from tests.helpers import stub_source

try:
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover
    WorkerPlugin = object

BIN = Path(sys.executable).parent
TOPICS = ["01_parameter_counting"]  # 02's oracle builds many Keras models: minutes per submission
SEED = 7
MARKERS = "GRIMOIRE_TEST_MARKERS"  # where the plugin notes the one-time faults it already caused


# -- cheap checks: no cluster -------------------------------------------------------------------

SPEC = {"assignment": "01_parameter_counting", "notebook": "01_parameter_counting", "topic": "01_parameter_counting",
        "source_cells": {}, "solution_cells": ["dense_params"], "setup": [], "release": None, "kernelspec": None,
        "grade_cells": {"dense_params_graded": {"max_score": 3.0, "task": "dense_params"}}}


def test_an_answer_over_the_cap_is_refused_before_decoding():
    blob = b'{"status": "graded", "x": "' + b"a" * cohort_worker.MAX_ANSWER_BYTES + b'"}'
    with pytest.raises(cohort.BadAnswer, match="cap"):
        cohort.decode_answer(blob, SPEC)
    with pytest.raises(cohort.BadAnswer, match="not bytes"):
        cohort.decode_answer({"status": "graded"}, SPEC)


def test_a_forged_answer_earns_no_unearned_point():
    forged = {"status": "graded", "scores": {"dense_params_graded": 1e9}, "unanswered": [], "autograded": "{}"}
    assert cohort.decode_answer(json.dumps(forged).encode(), SPEC)["scores"] == {"dense_params_graded": 3.0}
    for scores in ({"someone_elses_cell": 3.0}, {"dense_params_graded": float("nan")},
                   {"dense_params_graded": "3"}, {"dense_params_graded": True}):
        with pytest.raises(cohort.BadAnswer):
            cohort.decode_answer(json.dumps({**forged, "scores": scores}).encode(), SPEC)


def test_a_worker_answer_too_large_loses_its_copy_not_its_grade():
    huge = {"student": "s", "assignment": "a", "isolation": "full", "status": "graded",
            "scores": {"dense_params_graded": 3.0}, "unanswered": [], "outputs": {},
            "autograded": "x" * (cohort_worker.MAX_ANSWER_BYTES + 10)}
    spec = {**SPEC, "source_cells": {"dense_params_graded": {"cell_type": "code", "locked": True, "source": "",
                                                             "checksum": None}}}
    blob = cohort_worker.encode_answer(huge, spec)
    assert len(blob) <= cohort_worker.MAX_ANSWER_BYTES
    answer = cohort.decode_answer(blob, spec)
    assert answer["scores"] == {"dense_params_graded": 3.0} and "too large" in answer["autograded"]


class _SchedulerLosingAWorker:
    """A client whose scheduler drops the connection while it sends the plugin to a dying worker
    (as seen when a worker restarted by the previous run was still coming back)."""

    def wait_for_workers(self, count, timeout=None):
        return None

    def register_plugin(self, plugin):
        from distributed.comm.core import CommClosedError

        raise CommClosedError("in <TCP (closed) ConnectionPool.register_worker_plugin>: Stream is closed")

    def run(self, function, on_error="raise"):
        return {"tcp://127.0.0.1:1": {"pid": 1, "isolation": {"level": "full"}}, "tcp://127.0.0.1:2": OSError("gone")}


def test_a_worker_lost_while_the_workers_are_prepared_does_not_stop_the_run():
    assert list(cohort.prepare_workers(_SchedulerLosingAWorker(), startup_limit=5)) == ["tcp://127.0.0.1:1"]


def test_an_absurd_notebook_could_not_be_read():
    deep = '{"cells": [], "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}"
    started = time.monotonic()
    for text in (deep, '{"cells": [' + '{"a": ' * 200 + "1" + "}" * 200 + "]}", "[1, 2]", "not json"):
        with pytest.raises(Unreadable, match="could not be read"):
            parse_notebook(text, "n.ipynb")
    assert time.monotonic() - started < 10


def test_links_anywhere_in_a_submission_are_refused(tmp_path):
    folder = tmp_path / "alice" / "01_parameter_counting"
    (folder / "data").mkdir(parents=True)
    (folder / "n.ipynb").write_text("{}")
    assert submission_links(folder) is None
    (folder / "data" / "deep_link").symlink_to("/etc/hostname")
    assert "data/deep_link is a symbolic link" in submission_links(folder)
    linked = tmp_path / "bob" / "01_parameter_counting"
    linked.parent.mkdir()
    linked.symlink_to(folder)
    assert "is a symbolic link" in submission_links(linked)


def test_weak_isolation_is_refused_unless_the_instructor_allows_it(tmp_path, monkeypatch):
    course = _course(tmp_path / "course", TOPICS[:1])
    (course / "submitted" / "alice" / TOPICS[0]).mkdir(parents=True)
    weak = {"level": "partial", "mechanisms": ["child process"], "missing": ["landlock: reads not confined"]}
    monkeypatch.setattr(cohort_worker, "isolation", lambda: weak)
    started = time.monotonic()
    with pytest.raises(cohort.CohortError, match="--allow-weak-isolation") as refused:
        cohort.grade_cohort(course, progress=False)
    assert "landlock: reads not confined" in str(refused.value) and time.monotonic() - started < 30
    assert not (course / "autograded").exists()


def test_a_course_without_a_gradebook_is_one_clear_message(tmp_path):
    course = tmp_path / "course"
    (course / "submitted" / "alice" / TOPICS[0]).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    result = subprocess.run([str(BIN / "autograder"), "grade-cohort", str(course), "--no-progress"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1 and "no gradebook" in lines[0] and "generate_assignment" in lines[0], lines[:20]
    assert not (course / "gradebook.db").exists()


# -- the cohort -----------------------------------------------------------------------------------

def _nbgrader(course: Path, *args: str) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, capture_output=True, text=True,
                            timeout=900, env=env)
    assert result.returncode == 0, result.stderr[-3000:]


def _course(course: Path, topics: list[str]) -> Path:
    course.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for topic in topics:
        shutil.copytree(ROOT / "source" / topic, course / "source" / topic)
        _nbgrader(course, "generate_assignment", topic, "--force")
    return course


def _mistaken(source: str) -> str:
    head = next(line for line in source.splitlines() if line.startswith("def "))
    return f"{source}\n\n{head}\n    return -1\n"


def _endless(source: str) -> str:
    head = next(line for line in source.splitlines() if line.startswith("def "))
    return f"{source}\n\n{head}\n    while True:\n        pass\n"


def _slow(source: str) -> str:
    """Right, but slow to import: a fault timed 1 s into the submission always lands mid-way."""
    return f"import time\ntime.sleep(4)\n{source}"


STUDENTS = {  # student -> what each topic's module holds
    "correct": lambda topic, solution, stub: solution,
    "mistaken": lambda topic, solution, stub: _mistaken(solution),
    "stub": lambda topic, solution, stub: stub,
    "onedeath": lambda topic, solution, stub: _endless(solution),  # slow: its worker is killed once mid-way
    "killer": lambda topic, solution, stub: _slow(solution),  # every worker it lands on is killed
    "zhang": lambda topic, solution, stub: _slow(solution),  # its worker is stopped (SIGSTOP) once; sorted last,
    # so that it is scheduled after the killer's tries (a stopped worker holding a try blurs the count)
}


@pytest.fixture(scope="module")
def cohort_setup(tmp_path_factory):
    """The course (gradebook), the folder of submissions and the engine's points for each."""
    from autograder.engine import grade
    from autograder.sandbox import warm_up
    from grimoire.quiet import import_keras

    base = tmp_path_factory.mktemp("dask_cohort")
    course = _course(base / "course", TOPICS)
    folder = base / "submissions"
    for student, make in STUDENTS.items():
        for topic in TOPICS:
            module = f"{module_name(topic)}.py"
            solution = (ROOT / "solutions" / topic / module).read_text()
            stub = stub_source(load_topic(ROOT / "solutions" / topic))  # never the learner's exercises/
            (folder / student / topic).mkdir(parents=True)
            (folder / student / topic / module).write_text(make(topic, solution, stub))
    warm_up()
    import_keras()
    expected = {}  # what `autograder grade` gives each submission (the same engine, the same seed)
    for student in ("correct", "mistaken", "stub", "onedeath"):
        report = grade(folder / student, topics=TOPICS, seed=SEED, timeout=2)
        for topic in TOPICS:
            expected[(student, topic)] = float(report["topics"][module_name(topic)]["score"])
    assert expected[("correct", TOPICS[0])] > expected[("mistaken", TOPICS[0])] >= expected[("stub", TOPICS[0])] == 0
    return {"course": course, "folder": folder, "expected": expected, "base": base}


def _scores(course: Path) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "tf-grimoire") as gb:
        for topic in TOPICS:
            for submission in gb.find_assignment(topic).submissions:
                scores[(submission.student_id, topic)] = float(submission.score)
    return scores


def _rows(course: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(course / "gradebook.db") as db:
        return db.execute("select s.student_id, a.name, count(*) from submitted_assignment s join assignment a "
                          "on a.id = s.assignment_id group by s.student_id, a.name").fetchall()


def _fresh_course(setup, name: str) -> Path:
    course = setup["base"] / name
    shutil.copytree(setup["course"], course)
    return course


def _weak() -> bool:
    return cohort_worker.isolation().get("level") != "full"


@pytest.fixture(scope="module")
def embedded(cohort_setup):
    course = _fresh_course(cohort_setup, "embedded_course")
    started = time.monotonic()
    summary = cohort.grade_cohort(cohort_setup["folder"], course=course, workers=2, seed=SEED, call_timeout=2,
                                  time_limit=300, progress=False, allow_weak_isolation=_weak())
    return {"course": course, "summary": summary, "seconds": time.monotonic() - started}


def test_an_embedded_local_cluster_of_two_workers_gives_what_autograder_grade_gives(cohort_setup, embedded):
    summary = embedded["summary"]
    assert summary.workers == 2 and summary.scheduler == "embedded LocalCluster"
    assert summary.isolation["level"] in ("full", "partial", "none") and "mechanisms" in summary.isolation
    assert (summary.graded, summary.failed, summary.timed_out) == (len(STUDENTS), [], [])
    scores = _scores(embedded["course"])
    for key, points in cohort_setup["expected"].items():
        assert scores[key] == points, key
    assert scores[("killer", TOPICS[0])] == scores[("correct", TOPICS[0])]  # nothing kills workers here
    assert sorted(_rows(embedded["course"])) == sorted((s, t, 1) for s in STUDENTS for t in TOPICS)


# -- a cluster started with the dask CLI, and real faults ----------------------------------------------

class FaultPlugin(WorkerPlugin):
    """On the workers of the CLI cluster: real faults, triggered by the student in the task's key."""

    name = "grimoire-test-faults"

    def __init__(self, markers: str):
        self.markers = markers

    def _once(self, what: str) -> bool:
        try:
            os.close(os.open(os.path.join(self.markers, what), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return True
        except FileExistsError:
            return False

    def transition(self, key, start, finish, **kwargs):
        if finish != "executing" or not isinstance(key, str):
            return
        pid = os.getpid()
        if "-killer-" in key:  # every time (each death costs a TF import: allowed-failures is 1)
            fault = signal.SIGKILL
        elif "-onedeath-" in key and self._once("onedeath"):
            fault = signal.SIGKILL
        elif "-zhang-" in key and self._once("zhang"):
            fault = signal.SIGSTOP
        else:
            return
        threading.Timer(1.0, os.kill, (pid, fault)).start()  # mid-submission: grading has begun


@pytest.fixture(scope="module")
def cli_cluster(cohort_setup, tmp_path_factory):
    base = tmp_path_factory.mktemp("dask_cli")
    markers = base / "markers"
    markers.mkdir()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
           "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0",
           "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    scheduler_file = base / "scheduler.json"
    processes = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                   "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=open(base / "scheduler.log", "w"),
                                  start_new_session=True)]
    deadline = time.monotonic() + 120
    while not scheduler_file.is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    address = json.loads(scheduler_file.read_text())["address"]
    for index in range(2):
        processes.append(subprocess.Popen(
            [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1",
             "--no-dashboard", "--death-timeout", "120"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(base / f"worker{index}.log", "w"),
            start_new_session=True))
    from distributed import Client

    client = Client(address, timeout=60, set_as_default=False)
    try:
        client.wait_for_workers(2, timeout=180)
        client.register_plugin(FaultPlugin(str(markers)))
        yield {"address": address, "markers": markers, "base": base}
    finally:
        client.close(timeout=30)
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def cli_run(cohort_setup, cli_cluster):
    course = _fresh_course(cohort_setup, "cli_course")
    report = cli_cluster["base"] / "summary.json"
    command = [str(BIN / "autograder"), "grade-cohort", str(cohort_setup["folder"]), "--course", str(course),
               "--scheduler", cli_cluster["address"], "--no-progress", "--seed", str(SEED), "--timeout", "2",
               "--time-limit", "20", "--stall-limit", "400", "--json", str(report)]
    if _weak():
        command.append("--allow-weak-isolation")
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    return {"course": course, "result": result, "seconds": time.monotonic() - started,
            "summary": json.loads(report.read_text()) if report.is_file() else None,
            "markers": sorted(p.name for p in cli_cluster["markers"].iterdir())}


def test_a_dask_cli_cluster_with_real_faults_gives_the_same_points(cohort_setup, embedded, cli_run):
    result, summary = cli_run["result"], cli_run["summary"]
    output = result.stdout + result.stderr
    assert summary is not None, output[-3000:]  # a report written
    assert result.returncode == 1, output[-3000:]  # one recorded as failed, one timed out
    assert cli_run["seconds"] < 900  # the run finished within its limit
    assert summary["scheduler"].startswith("tcp://127.0.0.1:")
    assert f"isolation: {summary['isolation']['level']} on 2 Dask workers" in output
    # the faults really happened: a worker killed mid-submission, one stopped
    assert cli_run["markers"] == ["onedeath", "zhang"], cli_run["markers"]
    scores = _scores(cli_run["course"])
    embedded_scores = _scores(embedded["course"])
    for key, points in cohort_setup["expected"].items():  # onedeath: graded elsewhere
        assert scores[key] == points == embedded_scores[key], key
    # the killer: recorded as failed after allowed-failures + 1 tries, 0 points, left for a person
    assert summary["killed_workers"] == [f"killer/{TOPICS[0]}: 2 tries"], summary
    assert scores[("killer", TOPICS[0])] == 0 < embedded_scores[("killer", TOPICS[0])]
    with sqlite3.connect(cli_run["course"] / "gradebook.db") as db:
        flagged = db.execute("select count(*) from grade g join submitted_notebook n on g.notebook_id = n.id "
                             "join submitted_assignment s on n.assignment_id = s.id where s.student_id = 'killer' "
                             "and g.needs_manual_grade and g.auto_score = 0").fetchone()[0]
    assert flagged > 0
    # the stopped worker: that submission timed out (not recorded), the run went on and ended
    assert summary["timed_out"] == [f"zhang/{TOPICS[0]}"], summary
    assert ("zhang", TOPICS[0]) not in scores
    # counted once: one row per graded submission, none for the timed-out one
    rows = _rows(cli_run["course"])
    assert all(count == 1 for _, _, count in rows)
    assert len(rows) == len(STUDENTS) - 1
    assert summary["graded"] == len(STUDENTS) - 2


def test_a_rerun_does_not_retry_what_was_recorded_as_failed(cohort_setup, cli_cluster, cli_run):
    command = [str(BIN / "autograder"), "grade-cohort", str(cohort_setup["folder"]), "--course",
               str(cli_run["course"]), "--scheduler", cli_cluster["address"], "--no-progress", "--seed", str(SEED),
               "--timeout", "2", "--assignment", TOPICS[0]]
    if _weak():
        command.append("--allow-weak-isolation")
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    # the timed-out one is retried (its worker is not stopped again); the killer is not
    assert f"graded 1, already done {len(STUDENTS) - 1}," in output, output[-3000:]
    assert result.returncode == 0, output[-3000:]

