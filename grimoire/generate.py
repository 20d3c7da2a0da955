"""``python -m grimoire.generate [--check | --force | --reset TOPIC]``: derive the generated files.

For each topic in ``solutions/NN_name/`` it makes

- ``exercises/NN_name/name.py``: the stub (solution regions become a TODO and a raise);
- ``exercises/NN_name/test_name.py``: the visible tests, copied;
- ``exercises/NN_name/README.md`` and ``topic.json``: the lesson, hints and points;
- ``source/NN_name/NN_name.ipynb``: the nbgrader instructor notebook;
- ``release/NN_name/NN_name.ipynb``: made by ``nbgrader generate_assignment`` itself;

plus ``exercises/conftest.py``, the topic table of README.md and ``grimoire/generated.json``
(the SHA-256 of every generated file: what generation wrote last).

Everything is made in a scratch folder first, then copied in. ``exercises/`` and ``release/``
are the learners' workspace: a file there that a learner changed (its content is neither what
generation last wrote, per the manifest, nor what git has committed) is left alone and named;
``--force`` overwrites it after saving it beside itself (``name.py.saved-<timestamp>``).
``--reset TOPIC`` puts a topic's stub and notebook back the same way (``make reset``).

``--check`` regenerates into a temporary folder and fails, naming the files, when what is
committed (git's HEAD; the working copy where there is no git) differs: CI's guard against
stale files. A learner's edits in the working copy are theirs, not staleness.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from grimoire.authoring import (GENERATED_HEADER, VISIBLE_TESTS_HEADER, check_points, make_stub,
                                read_visible_tests, split_module)
from grimoire.notebook import build_notebook
from grimoire.topics import FOLDER_PATTERN, ROOT, Topic, all_topics

GENERATED_TREES = ("exercises", "source", "release")
# The learners' workspace: generation never overwrites a file there that a learner changed.
LEARNER_TREES = ("exercises", "release")
MANIFEST = "grimoire/generated.json"
IGNORED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
TABLE_START, TABLE_END = "<!-- topics:start -->", "<!-- topics:end -->"
CONFTEST = '''"""Feedback for learners: short "not started" lines, a per-topic summary, hints."""

from grimoire.student_plugin import *  # noqa: F401,F403
'''


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def topic_summary(topic: Topic, points: dict[str, int]) -> dict:
    return {
        "folder": topic.folder,
        "module": topic.module,
        "title": topic.title,
        "tasks": [{"name": t.name, "points": points.get(t.name, 0), "hints": t.hints} for t in topic.tasks],
    }


def readme(topic: Topic, points: dict[str, int]) -> str:
    total = sum(points.values())
    parts = [f"# {topic.number} · {topic.title}", topic.introduction,
             f"**Your task:** implement the functions in `{topic.module}.py` (worth {total} points), "
             f"then run `make feedback TOPIC={topic.folder}` (or keep `make watch` running: it checks "
             f"on every save). Hints appear after a failure; all of them with "
             f"`make feedback TOPIC={topic.folder} ARGS=--hints`."]
    parts += [task.lesson for task in topic.tasks]
    if topic.further_reading:
        parts.append("## Further reading\n\n" + "\n".join(f"- <{url}>" for url in topic.further_reading))
    return "\n\n".join(parts) + "\n"


def topic_table(topics: list[Topic], root: Path) -> str:
    rows = ["| # | topic | tasks | points |", "|---|---|---|---|"]
    for topic in topics:
        points = check_points(root / "autograder" / "checks" / f"test_{topic.folder}.py")
        tasks = ", ".join(f"`{t.name}`" for t in topic.tasks)
        rows.append(f"| {topic.number} | [{topic.title}](exercises/{topic.folder}/README.md) | {tasks} | "
                    f"{sum(points.values())} |")
    return "\n".join(rows)


def readme_with_table(readme_text: str, table: str) -> str:
    """The README with the text between the topic-table markers replaced."""
    head, _, rest = readme_text.partition(TABLE_START)
    _, _, tail = rest.partition(TABLE_END)
    return f"{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}"


def generate_topic(topic: Topic, root: Path, out: Path, notebook: bool = True) -> None:
    authored = root / "solutions" / topic.folder
    module_file = authored / f"{topic.module}.py"
    tests_file = authored / f"test_{topic.module}.py"
    source = module_file.read_text()
    origin = module_file.relative_to(root)
    parts = split_module(source, [t.name for t in topic.tasks], str(origin))
    tests = read_visible_tests(tests_file.read_text(), topic.module, str(tests_file.relative_to(root)))
    points = check_points(root / "autograder" / "checks" / f"test_{topic.folder}.py")

    exercise = out / "exercises" / topic.folder
    names = {"title": f"{topic.number} · {topic.title}", "folder": topic.folder}
    _write(exercise / f"{topic.module}.py", GENERATED_HEADER.format(**names) + make_stub(source, str(origin)))
    _write(exercise / tests_file.name, VISIBLE_TESTS_HEADER.format(**names) + tests_file.read_text())
    _write(exercise / "README.md", readme(topic, points))
    _write(exercise / "topic.json", json.dumps(topic_summary(topic, points), indent=2) + "\n")

    if notebook:
        instructor = build_notebook(topic, parts, tests, points)
        notebook_path = out / "source" / topic.folder / f"{topic.folder}.ipynb"
        notebook_path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(instructor, notebook_path)


def generate_exercises(out: Path, root: Path = ROOT, topics: list[Topic] | None = None) -> Path:
    """Only ``out/exercises/`` as generation makes it (no notebooks, no nbgrader): quick.

    The kit's own tests start from these, never from the learner's working copy.
    """
    for topic in all_topics(root) if topics is None else topics:
        generate_topic(topic, root, out, notebook=False)
    _write(out / "exercises" / "conftest.py", CONFTEST)
    return out / "exercises"


def make_release(course: Path, topics: list[Topic]) -> None:
    """Run ``nbgrader generate_assignment`` for every topic in a (scratch) course folder."""
    own_config = course.resolve() == ROOT
    if not own_config:
        shutil.copyfile(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    nbgrader = Path(sys.executable).with_name("nbgrader")
    # One nbgrader process for the whole course when it holds exactly these topics (nbgrader
    # globs the assignment name); it starts in seconds, so one per topic is most of the time.
    present = {p.name for p in (course / "source").iterdir() if p.is_dir()}
    names = ["*"] if present == {t.folder for t in topics} else [t.folder for t in topics]
    for name in names:
        result = subprocess.run(
            [str(nbgrader), "generate_assignment", name, "--force", "--no-db", "--log-level=WARN"],
            cwd=course, capture_output=True, text=True,
            env={**os.environ, "PATH": f"{nbgrader.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
        )
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{result.stderr[-3000:]}")
    if not own_config:
        (course / "nbgrader_config.py").unlink()


def render(out: Path, root: Path = ROOT, topics: list[Topic] | None = None, release: bool = True) -> None:
    """Make every generated file in an empty folder ``out``: trees, README.md, manifest."""
    topics = all_topics(root) if topics is None else topics
    for topic in topics:
        generate_topic(topic, root, out)
    _write(out / "exercises" / "conftest.py", CONFTEST)
    _write(out / "README.md", readme_with_table((root / "README.md").read_text(), topic_table(topics, root)))
    if release:
        make_release(out, topics)
    _write(out / MANIFEST, json.dumps(manifest_of(out), indent=1, sort_keys=True) + "\n")


# Kept for callers of the old name: generate into an empty folder.
generate = render


# --- what was generated, what is committed, what a learner changed ---------------------------

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def generated_paths(folder: Path) -> list[str]:
    """Files of the generated trees in ``folder``, as posix paths relative to it."""
    paths = []
    for tree in GENERATED_TREES:
        for path in sorted((folder / tree).rglob("*")):
            relative = path.relative_to(folder)
            if path.is_file() and not IGNORED_NAMES & set(relative.parts) and ".saved-" not in path.name:
                paths.append(relative.as_posix())
    return paths


def manifest_of(folder: Path) -> dict[str, str]:
    return {path: _sha256((folder / path).read_bytes()) for path in generated_paths(folder)}


def read_manifest(root: Path) -> dict[str, str]:
    try:
        return json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def committed_blobs(root: Path) -> dict[str, str] | None:
    """``{path: git blob id}`` of the generated files in git's HEAD; None without git."""
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True,
                             text=True, timeout=30)
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != root.resolve():
            return None
        listing = subprocess.run(["git", "ls-tree", "-r", "HEAD", "--", *GENERATED_TREES, MANIFEST,
                                  "README.md"], cwd=root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if listing.returncode != 0:
        return None
    blobs = {}
    for line in listing.stdout.splitlines():
        meta, _, path = line.partition("\t")
        blobs[path] = meta.split()[2]
    return blobs


class Workspace:
    """The target of generation, with what it knows of its files' history."""

    def __init__(self, root: Path):
        self.root = root
        self.manifest = read_manifest(root)
        self.committed = committed_blobs(root) or {}

    def learner_changed(self, path: str) -> bool:
        """Is this existing file neither what generation last wrote nor what git committed?"""
        data = (self.root / path).read_bytes()
        return (self.manifest.get(path) != _sha256(data)) and (self.committed.get(path) != _git_blob(data))


def save_beside(path: Path, stamp: str) -> Path:
    """Copy a learner's file to ``name.saved-<stamp>`` next to it (never over another copy)."""
    saved = path.with_name(f"{path.name}.saved-{stamp}")
    counter = 1
    while saved.exists():
        counter += 1
        saved = path.with_name(f"{path.name}.saved-{stamp}-{counter}")
    shutil.copy2(path, saved)
    return saved


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def install(fresh: Path, target: Path, force: bool = False, only: list[str] | None = None) -> dict[str, list[str]]:
    """Copy a fresh generation into ``target`` without destroying a learner's edit.

    Returns ``{"written", "kept", "saved", "removed"}`` (paths relative to ``target``).
    ``only``: restrict to paths under these prefixes (one topic's files, for a reset).
    """
    workspace = Workspace(target)
    new_manifest = read_manifest(fresh)
    result = {"written": [], "kept": [], "saved": [], "removed": []}
    stamp = _stamp()
    wanted = lambda path: only is None or path.startswith(tuple(only))  # noqa: E731
    for path in new_manifest:
        if not wanted(path):
            continue
        source, destination = fresh / path, target / path
        if destination.is_file() and destination.read_bytes() == source.read_bytes():
            continue
        if destination.exists() and path.split("/")[0] in LEARNER_TREES and workspace.learner_changed(path):
            if not force:
                result["kept"].append(path)
                continue
            result["saved"].append(save_beside(destination, stamp).relative_to(target).as_posix())
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        result["written"].append(path)
    previously = set(workspace.manifest) | {p for p in workspace.committed if p.split("/")[0] in GENERATED_TREES}
    for path in sorted(previously - set(new_manifest)):
        destination = target / path
        if not wanted(path) or not destination.is_file():
            continue
        if path.split("/")[0] in LEARNER_TREES and workspace.learner_changed(path):
            result["kept"].append(path)
            continue
        destination.unlink()
        result["removed"].append(path)
        for folder in destination.parents:
            if folder == target or any(folder.iterdir()):
                break
            folder.rmdir()
    if only is None:
        _write(target / MANIFEST, (fresh / MANIFEST).read_text())
        shutil.copyfile(fresh / "README.md", target / "README.md")
    return result


def report_lines(result: dict[str, list[str]]) -> list[str]:
    lines = []
    if result["kept"]:
        lines.append("Left alone (changed by a learner; `--force` overwrites them, saving a copy beside each):")
        lines += [f"  {path}" for path in result["kept"]]
    if result["saved"]:
        lines.append("Saved a copy of a learner's version before overwriting it:")
        lines += [f"  {path}" for path in result["saved"]]
    if result["removed"]:
        lines.append("Removed (no longer generated): " + ", ".join(result["removed"]))
    return lines


def update(root: Path = ROOT, force: bool = False, topics: list[Topic] | None = None) -> dict[str, list[str]]:
    """``make generate``: regenerate in a scratch folder, then install into ``root``."""
    with tempfile.TemporaryDirectory(prefix="grimoire-generate-") as scratch:
        render(Path(scratch), root, topics)
        return install(Path(scratch), root, force=force)


def reset(folder: str, root: Path = ROOT, fresh: Path | None = None) -> dict[str, list[str]]:
    """``make reset TOPIC=NN_name``: the topic's stub and release notebook as generated, the
    learner's versions saved beside them first (``fresh``: an existing generation to use)."""
    topics = [t for t in all_topics(root) if t.folder == folder]
    if not topics:
        known = ", ".join(t.folder for t in all_topics(root))
        raise ValueError(f"no topic {folder!r}; the topics are: {known}")
    paths = [f"exercises/{folder}/", f"release/{folder}/"]
    if fresh is not None:
        return install(fresh, root, force=True, only=paths)
    with tempfile.TemporaryDirectory(prefix="grimoire-reset-") as scratch:
        render(Path(scratch), root, topics)
        return install(Path(scratch), root, force=True, only=paths)


# --- freshness -------------------------------------------------------------------------------

def stale_files(root: Path = ROOT, fresh: Path | None = None) -> list[str]:
    """Generated files whose committed version differs from a fresh generation.

    "Committed" is git's HEAD where ``root`` is a git checkout, else the working copy. A file
    whose working copy equals the fresh one is fresh too (generated, not yet committed). Files
    nobody committed or generated (a learner's notes, saved copies) are not looked at.
    """
    if fresh is None:
        with tempfile.TemporaryDirectory(prefix="grimoire-check-") as scratch:
            render(Path(scratch), root)
            return stale_files(root, Path(scratch))
    committed = committed_blobs(root)
    problems = []

    def is_fresh(path: str) -> bool:
        data = (fresh / path).read_bytes()
        working = root / path
        if working.is_file() and working.read_bytes() == data:
            return True
        return committed is not None and committed.get(path) == _git_blob(data)

    if not is_fresh("README.md"):
        problems.append("README.md's topic table is out of date")
    fresh_paths = set(read_manifest(fresh))
    for path in sorted(fresh_paths) + [MANIFEST]:
        if is_fresh(path):
            continue
        exists = (root / path).is_file() if committed is None else path in committed
        problems.append(f"{path} is {'out of date' if exists else 'missing'}")
    if committed is not None:
        extra = [p for p in committed if p.split("/")[0] in GENERATED_TREES and p not in fresh_paths]
    else:
        extra = [p for p in generated_paths(root) if p not in fresh_paths and p in read_manifest(root)]
    problems += [f"{path} should not be there" for path in sorted(extra)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="fail if any committed generated file is stale")
    action.add_argument("--reset", metavar="TOPIC", help="put TOPIC's stub and notebook back, saving yours beside")
    parser.add_argument("--force", action="store_true",
                        help="also overwrite files a learner changed (a copy of each is saved beside it)")
    options = parser.parse_args(argv)
    try:
        if options.check:
            problems = stale_files()
            if problems:
                print("Generated files are stale; run `make generate` and commit:\n  " + "\n  ".join(problems))
                return 1
            print("Generated files are up to date.")
            return 0
        if options.reset:
            topic = options.reset.strip("/").split("/")[-1]
            if not FOLDER_PATTERN.match(topic):
                raise ValueError(f"TOPIC must be a topic folder like 01_parameter_counting, not {options.reset!r}")
            result = reset(topic)
            for saved in result["saved"]:
                print(f"Saved your version as {saved}")
            written = result["written"]
            print(f"Reset {', '.join(written)}" if written else f"{topic} is already as generated: nothing to reset.")
            return 0
        result = update(force=options.force)
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in report_lines(result):
        print(line)
    print(f"Generated exercises/, source/ and release/ for {len(all_topics())} topics "
          f"({len(result['written'])} files written).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
