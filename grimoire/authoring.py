"""Reading a topic's authored files: the reference module, its visible tests, the check points.

Everything the generator derives (the stub, the notebook cells, the points per task) is cut
from these files by line ranges of their syntax tree, so the generated code is the author's
code, comments included.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
TODO_LINE = "# TODO: your code here (the docstring above says what it should do)"
# The first lines of a learner's files speak to the learner: what to do, how to get feedback.
# (Where a file comes from is the instructors' business: README.md, "The layout".)
GENERATED_HEADER = (
    "# {title}: write your code at each TODO, then check it with `make feedback TOPIC={folder}`\n"
    "# (`make watch` checks it on every save; `make reset TOPIC={folder}` starts over, keeping a copy).\n"
)
VISIBLE_TESTS_HEADER = (
    "# The visible checks of {title} (`make feedback TOPIC={folder}` runs them).\n"
    "# Grading uses other, hidden checks, so changing this file changes only your own feedback.\n"
)


class AuthoringError(ValueError):
    """An authored file breaks a rule of the kit; the message names the file and the fix."""


def make_stub(source: str, origin: str = "<solution>") -> str:
    """Replace every solution region by a TODO and ``raise NotImplementedError``."""
    lines, out, inside, owner = source.splitlines(), [], False, "this function"
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        definition = re.match(r"\s*(?:async\s+)?(?:def|class)\s+(\w+)", line)
        if definition and not inside:
            owner = definition.group(1)
        if stripped == BEGIN_SOLUTION:
            if inside:
                raise AuthoringError(f"{origin}:{number}: a solution region opens inside another")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}{TODO_LINE}")
            out.append(f'{indent}raise NotImplementedError("{owner} is not implemented yet")')
        elif stripped == END_SOLUTION:
            if not inside:
                raise AuthoringError(f"{origin}:{number}: {END_SOLUTION} without {BEGIN_SOLUTION}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise AuthoringError(f"{origin}: a solution region is never closed")
    return "\n".join(out) + "\n"


@dataclass
class ModuleParts:
    docstring: str
    setup: str  # imports and given helpers: everything before the first task
    tasks: dict[str, str]  # task name -> source of its definition (and what follows it)


def _segments(source: str, nodes) -> list[tuple[ast.stmt, str]]:
    lines = source.splitlines()
    starts = [min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])]) for n in nodes]
    segments = []
    for index, node in enumerate(nodes):
        end = starts[index + 1] - 1 if index + 1 < len(nodes) else len(lines)
        segments.append((node, "\n".join(lines[starts[index] - 1 : end]).strip("\n")))
    return segments


def split_module(source: str, task_names: list[str], origin: str) -> ModuleParts:
    """Cut a reference module into its docstring, set-up code and one part per task."""
    tree = ast.parse(source)
    body = list(tree.body)
    docstring = ast.get_docstring(tree) or ""
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    setup, tasks, current = [], {}, None
    for node, text in _segments(source, body):
        name = getattr(node, "name", None)
        if name in task_names:
            current = name
            tasks[name] = text
        elif current is None:
            setup.append(text)
        else:
            tasks[current] += "\n\n\n" + text
    missing = [name for name in task_names if name not in tasks]
    if missing:
        raise AuthoringError(f"{origin}: topic.toml names tasks with no definition: {', '.join(missing)}")
    return ModuleParts(docstring, "\n\n\n".join(setup), tasks)


@dataclass
class VisibleTests:
    imports: str  # import lines, without the import of the topic's own module
    by_task: dict[str, list[tuple[str, str]]]  # task -> [(test name, body)]
    # the file's own helpers (functions, classes, constants), in file order: (names it
    # defines, its source)
    helpers: list[tuple[set[str], str]] = field(default_factory=list)

    def helpers_for(self, task: str) -> str:
        """The helpers ``task``'s tests use, and those they use in turn, in file order."""
        wanted = set().union(*(used_names(body) for _, body in self.by_task.get(task, [])))
        chosen: set[int] = set()
        changed = True
        while changed:
            changed = False
            for index, (defined, source) in enumerate(self.helpers):
                if index not in chosen and defined & wanted:
                    chosen.add(index)
                    wanted |= used_names(source)
                    changed = True
        return "\n\n\n".join(source for index, (_, source) in enumerate(self.helpers) if index in chosen)


def used_names(source: str) -> set[str]:
    """Every bare name a piece of code reads or binds (empty if it does not parse)."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _defined_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {n.id for target in targets if target is not None for n in ast.walk(target)
            if isinstance(n, ast.Name)}


def _task_of(function: ast.FunctionDef) -> str | None:
    for decorator in function.decorator_list:
        if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "task" and decorator.args):
            return ast.literal_eval(decorator.args[0])
    return None


def read_visible_tests(source: str, module: str, origin: str) -> VisibleTests:
    """The visible tests of a topic, grouped by task, as code a notebook cell can run."""
    tree = ast.parse(source)
    lines = source.splitlines()
    imports, by_task, helpers = [], {}, []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and node.module == module:
                continue
            if any(alias.name == "pytest" for alias in getattr(node, "names", [])):
                continue
            imports.append(ast.get_source_segment(source, node))
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            task = _task_of(node)
            if task is None:
                raise AuthoringError(f"{origin}:{node.lineno}: {node.name} has no @pytest.mark.task(...)")
            if node.args.args:
                raise AuthoringError(f"{origin}:{node.lineno}: {node.name} takes fixtures; "
                                     "visible tests must run as plain notebook code")
            first = node.body[0]
            skip_doc = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant)
            start = (node.body[1] if skip_doc and len(node.body) > 1 else first).lineno
            body = textwrap.dedent("\n".join(lines[start - 1 : node.end_lineno]))
            try:
                compile(body, origin, "exec")
            except SyntaxError as error:
                raise AuthoringError(f"{origin}:{node.lineno}: {node.name} cannot run as a notebook "
                                     f"cell ({error.msg}): no return or yield at its top level") from None
            by_task.setdefault(task, []).append((node.name, body))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign,
                               ast.AnnAssign)):
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            helpers.append((_defined_names(node), "\n".join(lines[first - 1 : node.end_lineno])))
    return VisibleTests("\n".join(imports), by_task, helpers)


def hidden_checks(check_file: Path) -> dict[str, dict]:
    """``{check name: {"task", "points"}}`` from the ``@check(task=..., points=...)`` decorators.

    Read from the file (no import, no grading); a check's name is its function's without ``test_``,
    as in a grade report.
    """
    checks: dict[str, dict] = {}
    tree = ast.parse(check_file.read_text())
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "check":
                arguments = {k.arg: ast.literal_eval(k.value) for k in decorator.keywords}
                checks[node.name.removeprefix("test_")] = {"task": arguments["task"],
                                                           "points": arguments["points"]}
    return checks


def check_points(check_file: Path) -> dict[str, int]:
    """Points per task, read from the ``@check(task=..., points=...)`` decorators (no import)."""
    points: dict[str, int] = {}
    for entry in hidden_checks(check_file).values():
        points[entry["task"]] = points.get(entry["task"], 0) + entry["points"]
    return points


def sentence(test_name: str) -> str:
    """``test_a_dense_layer_has_a_bias`` -> ``a dense layer has a bias``."""
    return test_name.removeprefix("test_").replace("_", " ")
