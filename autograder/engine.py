"""``grade(folder)``: run the hidden checks with pytest and turn their verdicts into points.

The checks run in this process (they hold the oracles); the learner's code runs in sandboxed
children (:mod:`autograder.sandbox`). The result is plain data, the JSON of ``autograder
grade --json``::

    {"score", "max_score", "seed", "topics": {"<module>": {"topic", "score", "max_score",
     "checks": [{"name", "task", "passed", "points", "max_points", "message"}]}}}

plus ``"grader_faults"`` when a check's own code raised something other than a verdict: that
check scores 0 with the error as its message, every other check is still graded, and the
instructor sees the list (a bug to fix in the check, not the learner's fault).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from grimoire.topics import module_name

CHECKS_DIR = Path(__file__).resolve().parent / "checks"


class GraderError(RuntimeError):
    """The grader itself could not run (not the submission's fault)."""


def check_files(topics: list[str] | None = None) -> list[Path]:
    """The hidden-check modules, optionally only those of the given topics (module or folder)."""
    files = sorted(CHECKS_DIR.glob("test_[0-9][0-9]_*.py"))
    if topics:
        wanted = set(topics)
        files = [f for f in files if {f.stem[5:], module_name(f.stem[5:])} & wanted]
        if not files:
            raise GraderError(f"no hidden checks for {', '.join(sorted(wanted))}")
    return files


class _Collector:
    """A pytest plugin object that keeps one verdict per check."""

    def __init__(self):
        self.checks: dict[str, dict] = {}
        self.errors: list[str] = []  # the grader could not run at all
        self.faults: list[str] = []  # a check's own code broke: that check fails, the rest goes on

    def pytest_runtest_logreport(self, report):
        props = dict(report.user_properties)
        if "topic" not in props:
            return
        entry = self.checks.setdefault(report.nodeid, {
            "topic": props["topic"],
            "name": report.nodeid.split("::")[-1].removeprefix("test_").split("[")[0],
            "task": props["task"],
            "passed": True,
            "points": 0,
            "max_points": props["points"],
            "message": "",
        })
        if report.failed and entry["passed"]:
            entry["passed"] = False
            entry["message"] = props.get("message") or _short_longrepr(report)
            if props.get("grader_fault"):
                self.faults.append(f"{report.nodeid}: {entry['message']}")
        if report.when == "teardown":
            entry["points"] = entry["max_points"] if entry["passed"] else 0

    def pytest_collectreport(self, report):
        if report.failed:
            self.errors.append(f"could not collect {report.nodeid}: {_short_longrepr(report)}")


def _short_longrepr(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return crash.message if crash is not None else str(report.longrepr)[-500:]


def grade_each_seed(submission: Path, seeds: list[int], topics: list[str] | None = None,
                    checks: list[str] | None = None, timeout: float | None = None) -> dict[int, dict]:
    """``{seed: report}``: every randomized check run once per seed, in one session and sandbox.

    For the kit's own tests (a catalogued mistake must be caught with every seed); a check that
    takes no ``rng`` runs once and counts for every seed.
    """
    collector = _run(submission, topics, seeds[0], timeout, None, checks, seeds)
    reports = {}
    for seed in seeds:
        entries = [dict(e) for key, e in collector.checks.items()
                   if f"[seed{seed}]" in key or "[seed" not in key]
        reports[seed] = _report(entries, check_files(topics), seed)
    return reports


def grade(submission: Path, topics: list[str] | None = None, seed: int | None = None,
          timeout: float | None = None, pictures: Path | None = None,
          checks: list[str] | None = None) -> dict:
    """Grade a folder laid out like ``exercises/``; raises GraderError if the grader broke.

    ``checks`` (names as in the report) runs only those checks, for the kit's own tests.
    """
    collector = _run(submission, topics, seed, timeout, pictures, checks)
    report = _report(collector.checks.values(), check_files(topics), collector.seed)
    from autograder.isolation import describe

    report["isolation"] = describe()
    if collector.faults:
        report["grader_faults"] = collector.faults
    return report


def _run(submission, topics, seed, timeout, pictures, checks, seeds=None) -> "_Collector":
    submission = Path(submission).resolve()
    if not submission.is_dir():
        raise GraderError(f"{submission} is not a folder")
    files = check_files(topics)
    targets = [str(f) for f in files]
    if checks:
        targets = [f"{f}::test_{name}" for f in files for name in checks
                   if f"def test_{name}(" in f.read_text()]
    args = targets + [
        "--submission", str(submission), "-p", "no:cacheprovider", "-p", "no:randomly",
        # pytest's unraisable-exception plugin runs gc.collect() five times per session: with
        # TensorFlow loaded that is most of a short grade.
        "-p", "no:unraisableexception",
        # A failed check's verdict is its message; pytest's own traceback of it (source parsed
        # to show each statement) is never shown, and the plain one costs nothing to make.
        "--tb=native",
        "-q", "--no-header", "-o", "console_output_style=classic", "--rootdir", str(CHECKS_DIR),
        "-c", str(CHECKS_DIR / "pytest.ini"),
    ]
    if seed is not None:
        args += ["--seed", str(seed)]
    if seeds:
        args += ["--seeds", ",".join(str(s) for s in seeds)]
    if timeout is not None:
        args += ["--check-timeout", str(timeout)]
    if pictures is not None:
        args += ["--pictures", str(pictures)]
    collector = _Collector()
    seen_seed = {}

    class _SeedSpy:
        def pytest_configure(self, config):
            seen_seed["seed"] = config.option.seed

    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exit_code = pytest.main(args, plugins=[collector, _SeedSpy()])
    if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or collector.errors:
        detail = "\n".join(collector.errors) or output.getvalue()[-3000:]
        raise GraderError(f"the hidden checks could not run (pytest exit {int(exit_code)}):\n{detail}")
    collector.seed = seen_seed.get("seed")
    return collector


def _report(checks, files: list[Path], seed) -> dict:
    topics: dict[str, dict] = {}
    for file in files:
        folder = file.stem[5:]
        topics[module_name(folder)] = {"topic": folder, "score": 0, "max_score": 0, "checks": []}
    for entry in checks:
        topic = topics[module_name(entry.pop("topic"))]
        topic["checks"].append(entry)
        topic["score"] += entry["points"]
        topic["max_score"] += entry["max_points"]
    return {
        "score": sum(t["score"] for t in topics.values()),
        "max_score": sum(t["max_score"] for t in topics.values()),
        "seed": seed,
        "topics": topics,
    }
