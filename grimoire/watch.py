"""``make watch [TOPIC=NN_name]``: the visible checks of the topic you are editing, on every save.

Like rustlings' ``watch``: it runs the checks once at start (TOPIC, or else the topic whose
module you changed last), then again each time a ``.py`` file of a topic folder under
``exercises/`` is saved, clearing the screen first so that the summary is always the last thing
on it. Each run is a fresh ``pytest`` process, so a re-import never sees stale code. The hidden
checks run as in ``make feedback`` once a topic's visible checks all pass (``--no-hidden``
skips them). Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from grimoire.topics import FOLDER_PATTERN, ROOT


def topic_of(path: Path, exercises: Path) -> str | None:
    """The topic folder a changed file belongs to (None for anything that is not a topic's .py)."""
    try:
        relative = Path(path).resolve().relative_to(exercises.resolve())
    except ValueError:
        return None
    if len(relative.parts) != 2 or not FOLDER_PATTERN.match(relative.parts[0]) or relative.suffix != ".py":
        return None
    return relative.parts[0]


def topics_changed(changes, exercises: Path) -> list[str]:
    """Topics touched by a batch of watchfiles changes ``{(change, path)}``, in a stable order."""
    return sorted({t for _, path in changes if (t := topic_of(Path(path), exercises)) is not None})


def latest_topic(exercises: Path) -> str | None:
    """The topic whose files were changed last: where the learner is working."""
    modules = [p for p in exercises.glob("[0-9][0-9]_*/*.py") if topic_of(p, exercises)]
    return max(modules, key=lambda p: p.stat().st_mtime).parent.name if modules else None


def run_checks(topic: str, exercises: Path, pytest_args: list[str], clear: bool = True) -> int:
    if clear and sys.stdout.isatty():
        print("\033[2J\033[H", end="", flush=True)
    print(f"Checking {topic} (make watch: save a file to check again, Ctrl-C to stop)", flush=True)
    result = subprocess.run([sys.executable, "-m", "pytest", str(exercises / topic), "-q", *pytest_args])
    print(f"Watching {exercises.relative_to(Path.cwd()) if exercises.is_relative_to(Path.cwd()) else exercises}"
          " for changes...", flush=True)
    return result.returncode


def watch(exercises: Path, topic: str | None, pytest_args: list[str], stop_event=None) -> None:
    from watchfiles import watch as watch_files

    changes_seen = watch_files(exercises, stop_event=stop_event, raise_interrupt=False,
                               yield_on_timeout=True, rust_timeout=200,
                               watch_filter=lambda _, path: topic_of(Path(path), exercises) is not None)
    next(changes_seen)  # the watcher is armed: a save made while the first run goes is not lost
    first = topic or latest_topic(exercises)
    if first:
        run_checks(first, exercises, pytest_args)
    else:
        print(f"Watching {exercises} for changes...", flush=True)
    for changes in changes_seen:
        for changed in topics_changed(changes, exercises):
            run_checks(changed, exercises, pytest_args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topic", nargs="?", default=None, help="the topic to check first, e.g. 01_parameter_counting")
    parser.add_argument("--exercises", type=Path, default=ROOT / "exercises", help="the workspace to watch")
    options, pytest_args = parser.parse_known_args(argv)
    exercises = options.exercises.resolve()
    topic = options.topic.strip("/").split("/")[-1] if options.topic else None
    if topic and not (exercises / topic).is_dir():
        known = ", ".join(sorted(p.name for p in exercises.iterdir() if FOLDER_PATTERN.match(p.name)))
        print(f"error: no topic {topic!r} in {exercises}; the topics are: {known}", file=sys.stderr)
        return 2
    try:
        import watchfiles  # noqa: F401
    except ImportError:
        print("error: `make watch` needs watchfiles: run `make feedback` once to install it "
              "(or `.venv/bin/pip install watchfiles`)", file=sys.stderr)
        return 2
    try:
        watch(exercises, topic, pytest_args)
    except KeyboardInterrupt:
        pass
    print("Stopped watching.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
