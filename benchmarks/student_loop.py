"""How long does a learner wait? `pytest exercises/<topic>` against a bare TensorFlow import.

Usage: python benchmarks/student_loop.py [--repeat N] [--grade]

Every timing is the median wall time of N fresh processes, measured in the same run, so the
ratio holds on any machine. Goal: each topic's visible tests within 1.5x `import tensorflow`.
Each topic runs twice: on the untouched stubs (a learner's first run) and with the reference
solutions copied in (every visible test runs to the end). `--grade` also times `autograder
grade` on the solutions (the hidden checks).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.5


def wall(command: list[str], cwd: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--grade", action="store_true", help="also time autograder grade")
    options = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        stubs, solved = work / "stubs", work / "solved"
        from grimoire.generate import generate_exercises

        generate_exercises(stubs)  # as generation makes them, never the learner's working copy
        generate_exercises(solved)
        topics = sorted(p.name for p in (stubs / "exercises").iterdir() if p.is_dir() and p.name[:2].isdigit())
        for topic in topics:
            for module in (ROOT / "solutions" / topic).glob("[!t]*.py"):
                shutil.copy(module, solved / "exercises" / topic)
        baseline = wall([python, "-c", "import tensorflow"], work, options.repeat)
        print(f"bare `import tensorflow`: {baseline:.2f} s (median of {options.repeat})")
        print(f"{'topic':24} {'stubs':>8} {'ratio':>6} {'solved':>8} {'ratio':>6}  goal <= {GOAL}x")
        worst = 0.0
        for topic in topics:
            command = [python, "-m", "pytest", f"exercises/{topic}", "-q", "-p", "no:cacheprovider", "--no-hidden"]
            on_stubs = wall(command, stubs, options.repeat)
            on_solved = wall(command, solved, options.repeat)
            worst = max(worst, on_stubs / baseline, on_solved / baseline)
            flag = "" if max(on_stubs, on_solved) <= GOAL * baseline else "  <-- over"
            print(f"{topic:24} {on_stubs:7.2f}s {on_stubs / baseline:5.2f}x {on_solved:7.2f}s "
                  f"{on_solved / baseline:5.2f}x{flag}")
        everything = wall([python, "-m", "pytest", "exercises", "-q", "-p", "no:cacheprovider", "--no-hidden"], solved,
                          options.repeat)
        print(f"{'all topics (solved)':24} {'':8} {'':6} {everything:7.2f}s {everything / baseline:5.2f}x")
        print(f"worst topic: {worst:.2f}x a bare TensorFlow import (goal <= {GOAL}x)")
        if options.grade:
            graded = wall([python, "-m", "autograder", "grade", str(ROOT / "solutions"), "--quiet"], work, 1)
            print(f"autograder grade solutions (all hidden checks): {graded:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
