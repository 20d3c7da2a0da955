"""What confinement costs: start a sandbox, make one call, close it; and one whole topic graded.

    python benchmarks/sandbox.py [--rounds 20]

Prints the isolation in force, the median and 90th percentile of one sandbox's life (spawn,
import of the learner's module, one call, close) and the wall time of ``grade`` on topic 01's
reference. TensorFlow's import (the zygote's and this process's) is paid once, before timing.
The same script runs unchanged against older checkouts (``Sandbox(module, path).call``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()

    from autograder.engine import grade
    from autograder.sandbox import Sandbox, warm_up
    from grimoire.quiet import import_keras

    warm_up()
    import_keras()
    module = ROOT / "solutions" / "01_parameter_counting" / "parameter_counting.py"
    with Sandbox("parameter_counting", module) as box:  # wait for the zygote / fork server
        box.call("dense_params", 3, 2)
    lives = []
    for _ in range(options.rounds):
        started = time.perf_counter()
        with Sandbox("parameter_counting", module) as box:
            box.call("dense_params", 784, 10)
        lives.append(time.perf_counter() - started)
    started = time.perf_counter()
    report = grade(ROOT / "solutions", topics=["01_parameter_counting"], seed=1)
    whole = time.perf_counter() - started
    import autograder

    if (Path(autograder.__file__).parent / "isolation.py").is_file():
        from autograder.isolation import describe

        level = describe()["level"]
    else:
        level = "before confinement (multiprocessing fork server, Landlock on writes only)"
    lives.sort()
    print(f"isolation: {level}")
    print(f"one sandbox (spawn, import, one call, close): median {statistics.median(lives) * 1000:.0f} ms, "
          f"p90 {lives[int(0.9 * (len(lives) - 1))] * 1000:.0f} ms over {len(lives)} rounds")
    print(f"grade topic 01 ({report['score']}/{report['max_score']}): {whole:.2f} s")


if __name__ == "__main__":
    main()
