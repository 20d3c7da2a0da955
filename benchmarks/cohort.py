"""`nbgrader autograde` against `autograder grade-cohort` (on Dask) on the same synthetic cohort.

Usage: python benchmarks/cohort.py [--topics all | --topics 01,03,...] [--students N] [--keep DIR]

Builds one nbgrader course over the chosen topics (default: all) with N students per topic,
cycling through correct, mistaken (one wrong function), broken (a syntax error) and untouched
submissions; copies it once for each timing below; then, in one invocation, times:

- `nbgrader autograde` (every topic, one after the other, as an instructor types it);
- `autograder grade-cohort --workers 1` and `--workers 2` (the embedded Dask LocalCluster);
- `--workers 1` again with the whole run held on one core (CPU affinity, inherited by the Dask
  worker, its sandbox and the client): a worker's share of a cluster of one core per worker
  (on a machine of more than two cores, `--workers 2` is also run held on two cores);

and prints each wall time, the ratio to nbgrader, submissions per minute, the 1 -> 2 workers
scaling ratio (on the machine's cores, and per core: 2 workers on 2 cores against 1 worker held
on 1), the fixed start-up (cluster and one Keras import per worker) and the measured
grading cost per submission, from which a cluster of W workers grading S submissions takes
about ``start-up + S x cost / W``. Scores are compared where nbgrader's are trustworthy
(correct, mistaken, untouched). Goals on a 2-core machine: grade-cohort at least 10x nbgrader on
all topics together, 2 workers at least 1.7x one.

`--hostile` adds students whose first function loops forever. They make the comparison
meaningless rather than fair: nbgrader then waits its whole execution timeout (300 s in this
course's config) in each such kernel, while grade-cohort stops the call after its limit.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
KINDS = ["correct", "mistaken", "broken", "untouched"]
TRUSTED = {"correct", "mistaken", "untouched"}


def run(command: list[str], cwd: Path, cores: set[int] | None = None) -> float:
    """Wall seconds of ``command``; ``cores``: the CPUs it and every process it starts may use."""
    pin = (lambda: os.sched_setaffinity(0, cores)) if cores else None
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, preexec_fn=pin)
    if result.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def first_solution_cell(notebook):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution"))


def submission(kind: str, source, release):
    notebook = nbformat.from_dict(json.loads(json.dumps(release if kind == "untouched" else source)))
    cell = first_solution_cell(notebook)
    head = next((line for line in cell.source.splitlines() if line.startswith("def ")), None)
    if kind == "mistaken" and head:
        cell.source += f"\n\n{head}\n    return -1\n"
    elif kind == "broken":
        cell.source += "\n\ndef broken(:\n"
    elif kind == "hostile" and head:
        cell.source += f"\n\n{head}\n    while True:\n        pass\n"
    return notebook


def all_topics() -> list[str]:
    return sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir() and p.name[:2].isdigit())


def choose(spec: str) -> list[str]:
    known = all_topics()
    if spec == "all":
        return known
    wanted = [w.strip() for w in spec.split(",") if w.strip()]
    chosen = [t for t in known if any(t == w or t.startswith(f"{w}_") or t[:2] == w.zfill(2) for w in wanted)]
    if len(chosen) < len(wanted):
        sys.exit(f"unknown topics in {spec!r}; known: {', '.join(known)}")
    return chosen


def build(course: Path, topics: list[str], students: int) -> None:
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for topic in topics:
        shutil.copytree(ROOT / "source" / topic, course / "source" / topic)
        run([str(BIN / "nbgrader"), "generate_assignment", topic, "--force"], course)
        source = nbformat.read(course / "source" / topic / f"{topic}.ipynb", 4)
        release = nbformat.read(course / "release" / topic / f"{topic}.ipynb", 4)
        for index in range(students):
            kind = KINDS[index % len(KINDS)]
            folder = course / "submitted" / f"s{index:03d}_{kind}" / topic
            folder.mkdir(parents=True)
            nbformat.write(submission(kind, source, release), folder / f"{topic}.ipynb")


def scores(course: Path) -> dict[tuple[str, str], float]:
    run([str(BIN / "nbgrader"), "export", "--to", "grades.csv"], course)
    with open(course / "grades.csv") as handle:
        return {(row["assignment"], row["student_id"]): float(row["score"]) for row in csv.DictReader(handle)}


def grade_cohort(course: Path, workers: int, weak: bool, seed: int, cores: set[int] | None = None) -> dict:
    report = course / "summary.json"
    command = [str(BIN / "autograder"), "grade-cohort", str(course), "--no-progress", "--workers", str(workers),
               "--seed", str(seed), "--json", str(report)]
    if weak:
        command.append("--allow-weak-isolation")
    seconds = run(command, course, cores)
    summary = json.loads(report.read_text())
    return {"seconds": seconds, "startup": summary.get("startup_seconds", 0.0), "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", default="all", help="all, or a list such as 01,02,05 (default all)")
    parser.add_argument("--students", type=int, default=8, help="students per topic (default 8)")
    parser.add_argument("--keep", type=Path, default=None, help="build the courses here and keep them")
    parser.add_argument("--hostile", action="store_true", help="add endless-loop students (see above)")
    parser.add_argument("--seed", type=int, default=5,
                        help="the seed of both grade-cohort runs (the checks' work varies with it; default 5)")
    args = parser.parse_args()
    if args.hostile:
        KINDS.append("hostile")
    from autograder.cohort_worker import isolation

    level = isolation()
    weak = level.get("level") != "full"
    topics = choose(args.topics)
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="grimoire-cohort-bench-"))
    base = scratch / "base"
    base.mkdir(parents=True)
    build(base, topics, args.students)
    # Each grade-cohort run: (workers, the cores it is held on, or None for all of them).
    usable = sorted(os.sched_getaffinity(0))
    runs = {"1 worker": (1, None), "2 workers": (2, None), "1 worker on 1 core": (1, {usable[0]})}
    if len(usable) > 2:  # per core: the two workers held on two cores as well
        runs["2 workers on 2 cores"] = (2, set(usable[:2]))
    copies = {name: scratch / name.replace(" ", "-") for name in ("nbgrader", *runs)}
    for copy in copies.values():
        shutil.copytree(base, copy)
    # The baseline is nbgrader's own autograde, a kernel per notebook (this course's config sends
    # autograde through the kit's sandbox instead; see autograder/nbgrader_grading.py).
    with open(copies["nbgrader"] / "nbgrader_config.py", "a") as config:
        config.write("\nfrom nbgrader.converters import Autograde as _Stock\n"
                     "c.Autograde.autograde_preprocessors = "
                     "_Stock.class_traits()['autograde_preprocessors'].default()\n")
    count = args.students * len(topics)
    print(f"{count} notebooks ({args.students} students x {len(topics)} topics: {', '.join(topics)}), "
          f"{os.cpu_count()} cores, isolation {level.get('level')}")

    theirs_s = sum(run([str(BIN / "nbgrader"), "autograde", topic, "--create"], copies["nbgrader"]) for topic in topics)
    ours = {name: grade_cohort(copies[name], workers, weak, args.seed, cores)
            for name, (workers, cores) in runs.items()}
    one, two, one_core = ours["1 worker"], ours["2 workers"], ours["1 worker on 1 core"]
    two_cores = ours.get("2 workers on 2 cores", two)  # on two cores, the same run

    def line(name, seconds):
        return (f"{name:<32} {seconds:8.1f} s  {count / seconds * 60:7.1f} submissions/min  "
                f"{theirs_s / seconds:5.1f}x nbgrader")

    def scaling(fewer, more):
        return (f"{fewer['seconds'] / more['seconds']:.2f}x wall; grading only (start-up excluded): "
                f"{(fewer['seconds'] - fewer['startup']) / max(1e-9, more['seconds'] - more['startup']):.2f}x")

    print(line("nbgrader autograde", theirs_s))
    for name, result in ours.items():
        print(line(f"grade-cohort, {name}", result["seconds"]))
    print(f"grade-cohort (default: one worker per core = {min(os.cpu_count() or 1, 2)}) vs nbgrader: "
          f"{theirs_s / two['seconds']:.1f}x (goal: 10x)")
    print(f"scaling 1 -> 2 workers: {scaling(one, two)} (goal: 1.7x)")
    # One worker alone keeps more than one core busy (its sandbox child grades while the client
    # commits and the scheduler runs): on a machine of two cores that is a share the two-worker
    # run cannot have. Per core is what a cluster of one-core workers scales by.
    print(f"scaling per core (1 worker held on 1 core -> 2 workers on 2 cores): {scaling(one_core, two_cores)}")
    cost = (one_core["seconds"] - one_core["startup"]) / count  # a worker that has one core
    print(f"start-up (cluster + one Keras import per worker): {one['startup']:.1f} s with 1 worker, "
          f"{two['startup']:.1f} s with 2")
    print(f"grading cost: {cost:.2f} s per submission per one-core worker -> W workers, S submissions: "
          f"about {two['startup']:.0f} s + S x {cost:.2f} s / W "
          f"(e.g. 3000 learners x {len(topics)} topics on 32 workers: "
          f"{(two['startup'] + 3000 * len(topics) * cost / 32) / 60:.0f} min)")

    b = scores(copies["nbgrader"])
    for name in ours:
        a = scores(copies[name])
        trusted = [k for k in a if k[1].split("_", 1)[1] in TRUSTED]
        disagree = [(k, a[k], b.get(k)) for k in trusted if a[k] != b.get(k)]
        print(f"{name}: scores agree with nbgrader on {len(trusted) - len(disagree)}/{len(trusted)} "
              "trusted submissions")
        for key, mine, nbgraders in disagree:
            print(f"  {key}: grade-cohort {mine}, nbgrader {nbgraders}")
    if args.keep is None:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
