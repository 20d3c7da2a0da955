"""Grades cannot be taken: every attack below would earn points (or do damage) if its defence broke.

Each submission is topic 01's reference with ``dense_params`` replaced by an attack that
returns a correct answer only when the attack *succeeded* (so a broken defence shows as points),
and a wrong one otherwise. Defences: :mod:`autograder.isolation` (namespaces, Landlock, limits),
:mod:`autograder.zygote` (no reachable fork server), :mod:`autograder.sandbox` (caps, timeouts).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from pathlib import Path

import pytest

from autograder.isolation import describe
from autograder.zygote import zygote
from grimoire.topics import ROOT
from tests.helpers import TOPICS, patched_source, write_submission

TOPIC = next(t for t in TOPICS if t.folder.startswith("01_")) if any(t.folder.startswith("01_") for t in TOPICS) else None
pytestmark = pytest.mark.skipif(TOPIC is None, reason="GRIMOIRE_TOPICS leaves out topic 01")
FULL = describe()["level"] == "full"
DENSE = {"dense_params_matches_keras_with_bias", "dense_params_matches_keras_without_bias"}
SECRET = "grimoire-secret-7d1f0c"
RIGHT = "input_dim * units + (units if use_bias else 0)"


def attack(body: str) -> str:
    """``dense_params`` that runs ``body`` (which sets ``won``) and answers right only if it won."""
    indented = "\n".join("        " + line for line in body.strip().splitlines())
    return (f"def dense_params(input_dim, units, use_bias=True):\n    won = False\n    try:\n{indented}\n"
            f"    except BaseException:\n        pass\n    return ({RIGHT}) if won else -1\n")


def graded(grade, tmp_path, code: str, checks=tuple(DENSE)) -> dict:
    root = write_submission(tmp_path / "submission", {TOPIC.folder: patched_source(TOPIC, code)})
    return grade(root, topics=[TOPIC.folder], checks=list(checks))


def dense_score(report) -> int:
    return report["topics"][TOPIC.module]["score"]


def test_the_report_states_the_isolation_in_force(grade, tmp_path):
    report = graded(grade, tmp_path, attack("won = False"))
    assert report["isolation"]["level"] in ("full", "partial", "none")
    assert report["isolation"] == describe()


@pytest.mark.skipif(not FULL, reason="needs full isolation (Linux with Landlock ABI 6 and namespaces)")
class TestConfinement:
    def test_the_kit_and_its_solutions_cannot_be_read(self, grade, tmp_path):
        reference = ROOT / "solutions" / TOPIC.folder / f"{TOPIC.module}.py"
        code = attack(f"""
import autograder, sys, os
paths = [{str(reference)!r}, os.path.join(os.path.dirname(autograder.__file__), '..', 'solutions',
         {TOPIC.folder!r}, {TOPIC.module + '.py'!r})]
for path in paths:
    try:
        namespace = {{}}
        exec(open(path).read(), namespace)
        won = namespace['dense_params'](3, 2) == 8
    except OSError:
        pass
""")
        assert dense_score(graded(grade, tmp_path, code)) == 0

    def test_another_students_folder_and_the_gradebook_cannot_be_read(self, grade, tmp_path):
        classmate = tmp_path / "classmate.py"
        classmate.write_text("ANSWER = 'their work'\n")
        code = attack(f"won = 'their work' in open({str(classmate)!r}).read()")
        assert dense_score(graded(grade, tmp_path, code)) == 0

    def test_nothing_is_written_outside_the_sandbox(self, grade, tmp_path):
        target = tmp_path / "gradebook.db"
        code = attack(f"open({str(target)!r}, 'w').write('forged'); won = True")
        assert dense_score(graded(grade, tmp_path, code)) == 0
        assert not target.exists()

    def test_no_tcp_reaches_a_listener_on_this_machine(self, grade, tmp_path):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(5)
        server.settimeout(0.2)
        received = []

        def accept():
            for _ in range(40):
                try:
                    connection, _ = server.accept()
                    received.append(connection.recv(100))
                except OSError:
                    continue

        watcher = threading.Thread(target=accept)
        watcher.start()
        code = attack(f"""
import socket
s = socket.create_connection(('127.0.0.1', {server.getsockname()[1]}), timeout=2)
s.sendall(b'the reference solution')
won = True
""")
        try:
            assert dense_score(graded(grade, tmp_path, code)) == 0
        finally:
            watcher.join()
            server.close()
        assert received == []

    def test_the_graders_environment_never_reaches_the_feedback(self, grade, tmp_path, monkeypatch):
        monkeypatch.setenv("GRIMOIRE_TEST_SECRET", SECRET)
        code = ("import os\n\ndef dense_params(input_dim, units, use_bias=True):\n"
                "    found = [str(dict(os.environ))]\n"
                "    for pid in os.listdir('/proc'):\n"
                "        try:\n"
                "            found.append(open(f'/proc/{pid}/environ').read())\n"
                "        except (OSError, ValueError):\n"
                "            pass\n"
                f"    return ' '.join(found)[-5000:] if {SECRET!r} in ' '.join(found) else -1\n")
        report = graded(grade, tmp_path, code)
        assert SECRET not in json.dumps(report)

    def test_signals_never_reach_the_grader_or_the_zygote(self, grade, tmp_path):
        received = []
        previous = signal.signal(signal.SIGUSR1, lambda *_: received.append(True))
        try:
            graded(grade, tmp_path, attack("won = False"))  # the zygote is running
            zygote_pid = zygote()._process.pid
            code = attack(f"""
import os, signal
for pid in ({os.getpid()}, {zygote_pid}):
    try:
        os.kill(pid, signal.SIGUSR1 if pid == {os.getpid()} else signal.SIGKILL)
        won = True
    except OSError:
        pass
""")
            assert dense_score(graded(grade, tmp_path, code)) == 0
            assert received == []
            assert zygote()._process.pid == zygote_pid and zygote()._process.poll() is None
        finally:
            signal.signal(signal.SIGUSR1, previous)

    def test_a_detached_daemon_dies_with_its_sandbox(self, grade, tmp_path):
        marker = tmp_path / "daemon-alive"
        code = attack(f"""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _ in range(100):
            time.sleep(0.05)
            try:
                open({str(marker)!r}, 'w').write('still here')
            except OSError:
                pass
        os._exit(0)
    os._exit(0)
won = False
""")
        graded(grade, tmp_path, code)
        before = _zygote_processes()
        assert before <= 1, f"{before - 1} processes of a closed sandbox are still running"
        assert not marker.exists()

    def test_a_fork_bomb_is_stopped_by_the_process_limit(self, grade, tmp_path):
        code = attack("""
import os, time
children = 0
for _ in range(400):
    if os.fork() == 0:
        time.sleep(5)
        os._exit(0)
    children += 1
won = children >= 400
""")
        assert dense_score(graded(grade, tmp_path, code)) == 0
        assert _zygote_processes() <= 1

    def test_the_disk_budget_covers_all_files_together(self, grade, tmp_path):
        code = attack("""
for index in range(10):
    with open(f'part{index}', 'wb') as handle:
        handle.write(b'x' * 30 * 1024 * 1024)
won = True
""")
        assert dense_score(graded(grade, tmp_path, code)) == 0

    def test_inherited_descriptors_cannot_reach_the_grader(self, grade, tmp_path):
        """No descriptor of the grader's survives into the child (the resource tracker's pipe)."""
        probe = Path("/dev/shm") / f"grimoire-integrity-{os.getpid()}"
        probe.write_text("keep me")
        code = attack(f"""
import os
for fd in range(3, 256):
    try:
        os.write(fd, b'UNREGISTER:{probe}:shared_memory\\n')
    except OSError:
        pass
try:
    os.unlink({str(probe)!r})
    won = True
except OSError:
    pass
""")
        try:
            report = graded(grade, tmp_path, code)
            assert probe.exists()
            assert "grader_faults" not in report  # garbage on the answer channel is the submission's
        finally:
            probe.unlink(missing_ok=True)


def _zygote_processes() -> int:
    """This run's zygote plus every live process below it, once a closed sandbox had 2 s to go."""
    import time

    root = zygote()._process.pid
    for _ in range(40):
        parents = {}
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    stat = Path(f"/proc/{pid}/stat").read_text()
                except OSError:
                    continue
                fields = stat.rsplit(")", 1)[1].split()
                if fields[0] != "Z":
                    parents[int(pid)] = int(fields[1])
        family, grew = {root}, True
        while grew:
            grew = False
            for pid, parent in parents.items():
                if parent in family and pid not in family:
                    family.add(pid)
                    grew = True
        if len(family) <= 1:
            break
        time.sleep(0.05)
    return len(family)


def test_a_huge_answer_is_refused_before_it_is_decoded(grade, tmp_path):
    code = ("def dense_params(input_dim, units, use_bias=True):\n"
            "    return 'x' * (40 * 1024 * 1024)\n")
    report = graded(grade, tmp_path, code)
    checks = report["topics"][TOPIC.module]["checks"]
    assert dense_score(report) == 0 and "grader_faults" not in report
    assert all("could not read" in c["message"] for c in checks)
    assert len(json.dumps(report)) < 20_000


def test_a_long_string_is_shortened_in_the_feedback(grade, tmp_path):
    code = ("def dense_params(input_dim, units, use_bias=True):\n"
            "    return 'classmate data ' * 100_000\n")
    report = graded(grade, tmp_path, code)
    assert dense_score(report) == 0
    assert len(json.dumps(report)) < 20_000


def test_garbage_on_the_answer_channel_is_the_submissions_fault(grade, tmp_path):
    code = ("import os\n\ndef dense_params(input_dim, units, use_bias=True):\n"
            "    for fd in range(3, 64):\n"
            "        try:\n"
            "            os.write(fd, b'\\x00\\x00\\x00\\x05garbage')\n"
            "        except OSError:\n"
            "            pass\n"
            "    return -1\n")
    report = graded(grade, tmp_path, code)
    assert dense_score(report) == 0
    assert "grader_faults" not in report


def test_a_symlinked_topic_folder_is_refused_with_a_message(grade, tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / TOPIC.folder).symlink_to(ROOT / "solutions" / TOPIC.folder)
    report = grade(tmp_path / "submission", topics=[TOPIC.folder])
    assert report["score"] == 0
    assert "symbolic link" in report["topics"][TOPIC.module]["checks"][0]["message"]


def test_a_platform_without_isolation_still_grades_and_says_so(tmp_path):
    """A learner on macOS gets a grade: only a child process and limits, stated in the report."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(ROOT / "solutions"), "--topic", TOPIC.folder,
         "--json", str(tmp_path / "grade.json"), "--quiet", "--seed", "5"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "GRIMOIRE_WEAK_ISOLATION": "1"})
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "grade.json").read_text())
    assert report["score"] == report["max_score"] > 0
    assert report["isolation"]["level"] == "none" and report["isolation"]["missing"]
    assert "isolation: none" in result.stdout
