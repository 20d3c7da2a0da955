"""``autograder grade DIR [--json FILE]``: grade a submission folder and print the points.

Exit status 0 whenever grading completed, whatever the score; 2 when the grader itself could
not run (a missing folder, broken checks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Grade TF Grimoire submissions with the hidden checks.")


@app.callback()
def _root() -> None:
    """TF Grimoire's autograder."""


@app.command()
def grade(
    folder: Annotated[Path, typer.Argument(help="a folder laid out like exercises/")],
    json_file: Annotated[Optional[Path], typer.Option("--json", help="write the report here")] = None,
    topic: Annotated[Optional[list[str]], typer.Option(help="grade only this topic (repeatable)")] = None,
    seed: Annotated[Optional[int], typer.Option(help="seed for the randomized checks")] = None,
    timeout: Annotated[Optional[float], typer.Option(help="seconds one call may take")] = None,
    quiet: Annotated[bool, typer.Option(help="totals only, no per-check lines")] = False,
    pictures: Annotated[Optional[Path], typer.Option(
        help="where failed checks may draw what they compared (default: beside the --json file)")] = None,
) -> None:
    """Run the hidden checks on FOLDER and report points per topic and check."""
    from autograder.engine import GraderError, check_files

    try:  # what can be told at once is told before TensorFlow is imported (seconds)
        if not folder.is_dir():
            raise GraderError(f"{folder.resolve()} is not a folder")
        check_files(topic)
    except GraderError as error:
        typer.echo(f"autograder: {error}", err=True)
        raise typer.Exit(2)
    from autograder.sandbox import warm_up
    from grimoire.quiet import import_keras

    warm_up()  # the zygote imports Keras while this process does the same
    import_keras()
    from autograder.engine import grade as run_grade
    from autograder.report import print_report, write_json

    try:
        if pictures is None and json_file is not None:
            pictures = json_file.parent / f"{json_file.stem}_pictures"
        report = run_grade(folder, topics=topic, seed=seed, timeout=timeout, pictures=pictures)
    except GraderError as error:
        typer.echo(f"autograder: {error}", err=True)
        raise typer.Exit(2)
    if json_file is not None:  # first: the report exists whatever printing the table does
        write_json(report, json_file)
    print_report(report, details=not quiet)
    isolation = report.get("isolation", {})
    if isolation.get("level") != "full":
        typer.echo(f"isolation: {isolation.get('level')}; missing: {'; '.join(isolation.get('missing', []))}")


@app.command("grade-cohort")
def grade_cohort(
    path: Annotated[Path, typer.Argument(
        help="an nbgrader course (submitted/<student>/<assignment>/) or a folder of <student>/NN_topic/")],
    course: Annotated[Optional[Path], typer.Option(
        help="the course whose gradebook receives the grades (default: PATH when it is a course)")] = None,
    assignment: Annotated[Optional[list[str]], typer.Option(help="grade only this assignment (repeatable)")] = None,
    workers: Annotated[Optional[int], typer.Option(
        help="worker processes of the embedded Dask cluster (default: one per core)")] = None,
    scheduler: Annotated[Optional[str], typer.Option(
        help="an existing Dask scheduler, e.g. tcp://host:8786 (workers: `dask worker ADDRESS --nthreads 1`)")] = None,
    force: Annotated[bool, typer.Option(help="regrade submissions already in the gradebook")] = False,
    retry_failed: Annotated[bool, typer.Option(
        help="regrade submissions recorded as failed (they stopped every worker they ran on)")] = False,
    allow_weak_isolation: Annotated[bool, typer.Option(
        help="grade even where learner code cannot be fully isolated (the summary says so)")] = False,
    time_limit: Annotated[float, typer.Option(help="seconds one submission may take in all")] = 300.0,
    timeout: Annotated[float, typer.Option(help="seconds one call into a submission may take")] = 5.0,
    stall_limit: Annotated[Optional[float], typer.Option(
        help="stop when the cluster makes no progress this long (default: time limit + 600 s)")] = None,
    seed: Annotated[Optional[int], typer.Option(
        help="seed for the randomized checks (default: one random seed for the whole run, printed)")] = None,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    json_file: Annotated[Optional[Path], typer.Option("--json", help="write the summary here")] = None,
) -> None:
    """Grade every submission of a cohort on Dask workers into nbgrader's gradebook (resumable).

    Exit status: 0 all graded; 1 some submissions failed, timed out or were recorded as failed;
    2 the cohort could not be graded (no gradebook, no cluster, isolation refused).
    """
    import json

    from autograder.cohort import CohortError, grade_cohort as run

    try:
        summary = run(path, course=course, assignments=assignment, workers=workers, force=force,
                      time_limit=time_limit, call_timeout=timeout, seed=seed, progress=progress,
                      scheduler=scheduler, allow_weak_isolation=allow_weak_isolation,
                      retry_failed=retry_failed, stall_limit=stall_limit, watchdog=True)
    except CohortError as error:
        typer.echo(f"autograder: {error}", err=True)
        raise typer.Exit(2)
    if json_file is not None:  # written first: the report exists whatever printing does
        json_file.write_text(json.dumps(summary.as_dict(), indent=2))
    isolation = summary.isolation or {}
    typer.echo(f"graded {summary.graded}, already done {summary.skipped}, failed to run "
               f"{len(summary.failed)}, timed out {len(summary.timed_out)}, recorded as failed "
               f"{len(summary.killed_workers)}, refused {len(summary.refused)} ({summary.seconds:.1f} s, "
               f"seed {summary.seed})")
    if summary.workers or summary.graded or summary.failed or summary.timed_out:
        where = f"{summary.workers} Dask workers ({summary.scheduler})"
        level = isolation.get("level", "unknown")
        missing = "; ".join(isolation.get("missing", []))
        typer.echo(f"isolation: {level} on {where}" + (f"; missing: {missing}" if missing else ""))
    for line in summary.refused:
        typer.echo(f"  refused (not graded): {line}")
    for line in summary.unreadable:
        typer.echo(f"  could not be read or refused (graded 0): {line}")
    for line in summary.killed_workers:
        typer.echo(f"  recorded as failed (0, flagged for a person; --retry-failed to regrade): {line}")
    for line in summary.failed:
        typer.echo(f"  failed to run (not graded; rerun to retry): {line}")
    for line in summary.timed_out:
        typer.echo(f"  timed out (not graded; rerun with a larger --time-limit): {line}")
    if summary.failed or summary.timed_out or summary.killed_workers:
        raise typer.Exit(1)


def main() -> None:
    app()
