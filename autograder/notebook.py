"""The hidden cell of a notebook: ``grade_task(topic, task, globals())``.

nbgrader restores this call when it autogrades. It rebuilds the learner's module from the
notebook's namespace (imports, constants, and the source of every function and class defined
in the notebook), grades it with the same hidden checks and sandbox as ``autograder grade``,
prints one line per check of the task, and returns the task's points: nbgrader reads that
number as the cell's partial credit. Nothing is written to stderr (nbgrader gives 0 points to
a cell with stderr output), and the whole topic is graded once per version of the code.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import inspect
import io
import linecache
import tempfile
import types
import warnings
from pathlib import Path

from grimoire.authoring import used_names
from grimoire.topics import module_name

IPYTHON_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}
# The kit's own packages: the notebook's locked cells import them (the visible checks use
# ``grimoire.teach``); the learner's code never needs them, and the sandbox may not read them.
KIT_PACKAGES = ("grimoire", "autograder")


def _from_kit(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in KIT_PACKAGES
_cache: dict[tuple[str, str], dict] = {}


def _literal(value) -> bool:
    try:
        return ast.literal_eval(repr(value)) == value
    except Exception:
        return False


def module_source(namespace: dict, roots: set[str] | None = None) -> str:
    """Python source equivalent to the notebook's namespace, for a fresh interpreter.

    With ``roots`` (the topic's tasks), only what they need is kept: the definitions they name,
    those definitions' own names, and so on; the imports among those names; every plain
    constant. What the locked cells brought in for themselves (the visible checks' ``keras``, a
    demonstration's helpers) stays out, as it would be out of the learner's ``.py`` file: a
    fully-NumPy topic would otherwise refuse the module for an import the learner never wrote.
    """
    imports, constants, definitions = {}, [], {}
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in IPYTHON_NAMES:
            continue
        if isinstance(value, types.ModuleType):
            if _from_kit(value.__name__):
                continue
            imports[name] = (f"import {value.__name__} as {name}" if value.__name__ != name
                             else f"import {name}")
        elif isinstance(value, (types.FunctionType, type)):
            origin = getattr(value, "__module__", None)
            if origin == "__main__":
                source = definition_source(value)
                if source:
                    definitions[name] = source
            elif origin and not origin.startswith("_") and not _from_kit(origin):
                imports[name] = f"from {origin} import {value.__qualname__} as {name}"
        elif isinstance(value, (int, float, str, tuple, bool, list, dict)) and _literal(value):
            constants.append(f"{name} = {value!r}")
    if roots is not None:
        needed = _reachable(roots, definitions)
        imports = {name: line for name, line in imports.items() if name in needed}
        definitions = {name: source for name, source in definitions.items() if name in needed}
    return "\n".join([*imports.values(), "", *constants, "", *definitions.values()]) + "\n"


def _reachable(roots: set[str], definitions: dict[str, str]) -> set[str]:
    """The roots and every name their definitions use, followed through the definitions."""
    needed, pending = set(), list(roots)
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        if name in definitions:
            pending.extend(used_names(definitions[name]) - needed)
    return needed


def topic_tasks(topic: str) -> set[str]:
    """The tasks (functions and classes) the hidden checks of ``topic`` grade."""
    from autograder.engine import CHECKS_DIR
    from grimoire.authoring import hidden_checks

    return {entry["task"] for entry in hidden_checks(CHECKS_DIR / f"test_{topic}.py").values()}


def definition_source(value) -> str | None:
    """Source of a function or class defined in a notebook cell.

    ``inspect.getsource`` finds functions through their code object, but on Python < 3.13 it
    cannot find a class of ``__main__`` in a kernel (no ``__file__``): the class is found
    instead in the cell that defined one of its methods, through IPython's line cache.
    """
    try:
        return inspect.getsource(value)
    except (OSError, TypeError):
        if not isinstance(value, type):
            return None
    for member in vars(value).values():
        code = getattr(getattr(member, "__func__", member), "__code__", None)
        if code is None:
            continue
        cell = "".join(linecache.getlines(code.co_filename))
        try:
            tree = ast.parse(cell)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == value.__name__:
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                return "\n".join(cell.splitlines()[start - 1 : node.end_lineno]) + "\n"
    return None


def grade_topic(topic: str, source: str) -> dict:
    """Grade one topic's module source (cached by content)."""
    from autograder.engine import grade

    key = (topic, hashlib.sha256(source.encode()).hexdigest())
    if key not in _cache:
        with tempfile.TemporaryDirectory(prefix="grimoire-notebook-") as scratch:
            folder = Path(scratch) / topic
            folder.mkdir()
            (folder / f"{module_name(topic)}.py").write_text(source)
            _cache[key] = grade(Path(scratch), topics=[topic])
    return _cache[key]


def task_result(report: dict, topic: str, task: str) -> tuple[int, int, list[str]]:
    checks = [c for c in report["topics"][module_name(topic)]["checks"] if c["task"] == task]
    lines = [("✓ " if c["passed"] else "✗ ") + c["name"].replace("_", " ")
             + ("" if c["passed"] else f"\n    {c['message']}") for c in checks]
    return sum(c["points"] for c in checks), sum(c["max_points"] for c in checks), lines


def task_feedback(task: str, score, max_score, lines: list[str], notes: list[str] = ()) -> str:
    """What a graded cell shows, in ``grade_task`` and in ``grade-cohort``'s autograded notebooks."""
    head = [f"{task}: {score:g}/{max_score:g} points from hidden checks"]
    return "\n".join(head + [f"Note: {note}" for note in notes] + lines) + "\n"


def grade_task(topic: str, task: str, namespace: dict) -> float:
    """Grade ``task`` of ``topic`` from a notebook namespace; returns its points."""
    errors = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(errors):
        warnings.simplefilter("ignore")
        try:
            report = grade_topic(topic, module_source(namespace, topic_tasks(topic)))
            score, max_score, lines = task_result(report, topic, task)
        except Exception as error:  # the grader broke: say so, award nothing, never crash
            print(f"{task}: the grader could not run ({type(error).__name__}: {error})")
            return 0.0
    print(task_feedback(task, score, max_score, lines), end="")
    return float(score)
