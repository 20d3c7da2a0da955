"""`nbgrader autograde` against `autograder grade-cohort` on the same synthetic cohort.

Usage: python benchmarks/cohort.py [--students N] [--workers W] [--keep DIR]

Builds one nbgrader course (topic 01, and 02 when its source notebook exists) with N students
per topic, cycling through correct, mistaken (one wrong function), broken (a syntax error) and
untouched submissions; copies it; runs `nbgrader autograde` on one copy and `autograder
grade-cohort` on the other, in the same run; compares the per-student scores where nbgrader's
are trustworthy (correct, mistaken, untouched); prints both wall times and their ratio. Goal:
grade-cohort at least 10x faster.

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


def run(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True)
    if result.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def first_solution_cell(notebook):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution"))


def submission(kind: str, source, release):
    notebook = nbformat.from_dict(json.loads(json.dumps(release if kind == "untouched" else source)))
    cell = first_solution_cell(notebook)
    name = cell.source.split("def ", 1)[1].split("(", 1)[0] if "def " in cell.source else "f"
    if kind == "mistaken":
        cell.source += f"\n\n{cell.source.split(':', 1)[0]}:\n    return -1\n"
    elif kind == "broken":
        cell.source += "\n\ndef broken(:\n"
    elif kind == "hostile":
        cell.source += f"\n\n{cell.source.split(':', 1)[0]}:\n    while True:\n        pass\n"
    del name
    return notebook


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20, help="students per topic (default 20)")
    parser.add_argument("--workers", type=int, default=None, help="grade-cohort workers (default: cores)")
    parser.add_argument("--keep", type=Path, default=None, help="build the courses here and keep them")
    parser.add_argument("--hostile", action="store_true", help="add endless-loop students (see above)")
    args = parser.parse_args()
    if args.hostile:
        KINDS.append("hostile")
    topics = [t for t in ("01_parameter_counting", "02_conv_shapes") if (ROOT / "source" / t).is_dir()]
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="grimoire-cohort-bench-"))
    ours, theirs = scratch / "grade_cohort", scratch / "nbgrader"
    ours.mkdir(parents=True)
    build(ours, topics, args.students)
    shutil.copytree(ours, theirs)
    count = args.students * len(topics)
    print(f"{count} notebooks ({args.students} students x {', '.join(topics)}), {os.cpu_count()} cores")

    cohort = [str(BIN / "autograder"), "grade-cohort", str(ours), "--no-progress"]
    if args.workers:
        cohort += ["--workers", str(args.workers)]
    ours_s = run(cohort, ours)
    print(f"autograder grade-cohort: {ours_s:7.1f} s  ({ours_s / count:.2f} s per notebook)")
    theirs_s = sum(run([str(BIN / "nbgrader"), "autograde", topic, "--create"], theirs) for topic in topics)
    print(f"nbgrader autograde:      {theirs_s:7.1f} s  ({theirs_s / count:.2f} s per notebook)")
    print(f"speed-up: {theirs_s / ours_s:.1f}x (goal: 10x)")

    a, b = scores(ours), scores(theirs)
    trusted = [k for k in a if k[1].split("_", 1)[1] in TRUSTED]
    disagree = [(k, a[k], b.get(k)) for k in trusted if a[k] != b.get(k)]
    print(f"scores agree on {len(trusted) - len(disagree)}/{len(trusted)} trusted submissions")
    for key, mine, nbgraders in disagree:
        print(f"  {key}: grade-cohort {mine}, nbgrader {nbgraders}")
    others = {k: (a[k], b.get(k)) for k in a if k not in trusted}
    print("untrusted kinds (grade-cohort, nbgrader):",
          {kind: sorted({v for k, v in others.items() if k[1].endswith(kind)}) for kind in KINDS if kind not in TRUSTED})
    if args.keep is None:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
