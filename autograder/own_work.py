"""What a learner must write themselves: each topic's rules, checked on the submitted source.

A hidden-check module declares, per task, what may not be handed to the oracle::

    OWN_WORK = {
        "dense_params": {"no_framework": True},            # no TensorFlow / Keras in its code
        "BinaryF1": {"forbid": ["F1Score", "Precision"]},  # names its code may not use
        "CustomFitModel": {"own_methods": ["train_step"]}, # defined in the class, no built-in call
    }

:func:`violations` reads the module's source in the grader (never in the learner's process)
and returns, per task, the rule it breaks; every check of that task then fails with that
message. The analysis follows everything a task's code reaches at module level (helpers,
constants, imports, base classes), and refuses the ways around a static reading
(``__import__``, ``importlib``, ``sys.modules``, ``eval``/``exec``, ``getattr`` with a computed
name, ``__subclasses__``/``__globals__`` ...). Topics whose every task is ``no_framework`` also
run with TensorFlow and Keras unloaded and their import refused in the sandbox child.
"""

from __future__ import annotations

import ast

FRAMEWORKS = {"tensorflow", "keras", "tf_keras", "jax", "torch", "flax"}
ESCAPE_MODULES = {"importlib", "sys", "builtins", "gc", "inspect", "ctypes", "runpy", "imp",
                  "pkgutil", "code", "codeop", "marshal", "pickle"}
ESCAPE_NAMES = {"__import__", "eval", "exec", "compile", "globals", "vars", "locals",
                "__builtins__", "breakpoint", "__loader__", "__spec__"}
ESCAPE_ATTRIBUTES = {"__subclasses__", "__globals__", "__builtins__", "__closure__", "__code__",
                     "__import__", "__loader__", "__spec__", "f_globals", "f_back", "f_locals",
                     "gi_frame", "cr_frame", "__mro__", "__bases__", "__base__", "__dict__",
                     "modules", "__self__", "__func__", "__wrapped__"}
ATTRIBUTE_FUNCTIONS = {"getattr", "setattr", "delattr", "hasattr"}
# A base class a task's class may name although it comes from Keras (the exercise says so).
ALLOWED_BASES = {"Metric", "Model", "Layer", "Callback"}


def framework_rule_message(task: str, where: str) -> str:
    return (f"{task} must be your own arithmetic: this topic is about the computation itself, so "
            f"TensorFlow and Keras are not allowed in it ({where}); this task earns no points "
            "until it does without them")


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _Module:
    """Module-level bindings of a parsed source: imports, definitions and other assignments."""

    def __init__(self, tree: ast.Module):
        self.imports: dict[str, str] = {}  # local name -> dotted origin
        self.definitions: dict[str, ast.AST] = {}
        self.history: dict[str, list[ast.AST]] = {}  # every definition of a name, in source order
        self.assignments: dict[str, list[ast.AST]] = {}
        self.loose: list[ast.AST] = []  # statements that bind nothing (loops, calls, setattr ...)
        for node in tree.body:
            self._bind(node)

    def _bind(self, node) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                self.imports[local] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for alias in node.names:
                self.imports[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.definitions[node.name] = node
            self.history.setdefault(node.name, []).append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            for name in names:
                self.assignments.setdefault(name, []).append(node)
            if not names:
                self.loose.append(node)
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            self.loose.append(node)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    self._bind(child)
            for handler in getattr(node, "handlers", []):
                for child in handler.body:
                    self._bind(child)
        else:
            self.loose.append(node)


class _Reader:
    """Walks what one task's code reaches and notes the first breach of its rule."""

    def __init__(self, module: _Module, rule: dict, task: str):
        self.module = module
        self.rule = rule
        self.task = task
        self.forbidden = set(rule.get("forbid", []))
        self.seen: set[str] = set()
        self.breach: str | None = None

    def _note(self, text: str, node) -> None:
        if self.breach is None:
            self.breach = f"{text} at line {getattr(node, 'lineno', '?')}"

    def _origin_breach(self, origin: str, node) -> None:
        root = origin.lstrip(".").split(".")[0]
        if root in ESCAPE_MODULES:
            self._note(f"uses {origin}, which the grader cannot follow", node)
        elif self.rule.get("no_framework") and root in FRAMEWORKS:
            self._note(f"uses {origin}", node)
        elif self.forbidden & set(origin.split(".")):
            self._note(f"uses {origin}", node)

    def follow(self, name: str, node) -> None:
        if name in self.seen:
            return
        self.seen.add(name)
        if name in self.module.imports:
            self._origin_breach(self.module.imports[name], node)
        if name in self.module.definitions:
            self.read(self.module.definitions[name])
        for assignment in self.module.assignments.get(name, []):
            self.read(assignment)

    def read(self, tree) -> None:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names]
                origins = names if isinstance(node, ast.Import) else [f"{node.module}.{n}" for n in names]
                for origin in origins:
                    self._origin_breach(origin or "", node)
            elif isinstance(node, ast.Name):
                if node.id in ESCAPE_NAMES:
                    self._note(f"uses {node.id}, which the grader cannot follow", node)
                elif node.id in self.forbidden:
                    self._note(f"uses {node.id}", node)
                else:
                    self.follow(node.id, node)
            elif isinstance(node, ast.Attribute):
                if node.attr in ESCAPE_ATTRIBUTES:
                    self._note(f"uses .{node.attr}, which the grader cannot follow", node)
                elif node.attr in self.forbidden:
                    self._note(f"uses {_dotted(node) or node.attr}", node)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in ATTRIBUTE_FUNCTIONS and (
                        len(node.args) < 2 or not isinstance(node.args[1], ast.Constant)):
                    self._note(f"uses {node.func.id} with a computed name", node)
                elif node.func.id in ATTRIBUTE_FUNCTIONS and str(node.args[1].value) in self.forbidden:
                    self._note(f"uses {node.args[1].value}", node)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if self.forbidden & {node.value}:
                    self._note(f"names {node.value!r}", node)


def _earlier_class(module: _Module, base, before: int) -> ast.ClassDef | None:
    """The learner's own class a base names, as defined above line ``before`` (or None)."""
    if not isinstance(base, ast.Name):
        return None
    earlier = [n for n in module.history.get(base.id, []) if isinstance(n, ast.ClassDef) and n.lineno < before]
    return earlier[-1] if earlier else None


def _own_method(module: _Module, node: ast.ClassDef, method: str, depth: int = 0):
    """``(class, method node)``: where the learner's own classes define ``method``, or None.

    A class may inherit the method from another class the learner wrote in the same module
    (``class CustomFitModel(CustomFitModel)``); never from a Keras class.
    """
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == method:
            return node, item
    if depth > 20:
        return None
    for base in node.bases:
        parent = _earlier_class(module, base, node.lineno)
        if parent is not None:
            found = _own_method(module, parent, method, depth + 1)
            if found is not None:
                return found
    return None


def _own_methods_breach(module: _Module, task: str, methods: list[str]) -> str | None:
    node = module.definitions.get(task)
    if not isinstance(node, ast.ClassDef):
        return None
    own = {}
    for method in methods:
        found = _own_method(module, node, method)
        if found is None:
            return f"{task} does not define {method} in its own class body (the built-in one would run)"
        owner, own[method] = found
        for statement in owner.body:
            if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.lineno > own[method].lineno:
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                if any(isinstance(t, ast.Name) and t.id == method for t in targets):
                    return f"{task}.{method} is replaced after its definition (line {statement.lineno})"
    for statement in module.loose + [a for values in module.assignments.values() for a in values]:
        for sub in ast.walk(statement):
            if isinstance(sub, ast.Attribute) and sub.attr in methods and isinstance(sub.ctx, ast.Store):
                return f"{task}.{sub.attr} is replaced at module level (line {sub.lineno})"
    for method in methods:
        for sub in ast.walk(own[method]):
            if isinstance(sub, ast.Attribute) and sub.attr in methods:
                owner = sub.value
                is_super = isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super"
                if is_super and _super_is_own(module, own[method], sub.attr):
                    continue
                if is_super or not (isinstance(owner, ast.Name) and owner.id == "self"):
                    return (f"{task}.{method} calls the built-in {_dotted(sub) or 'super().' + sub.attr} "
                            f"(line {sub.lineno}) instead of doing the step itself")
            if isinstance(sub, (ast.Name, ast.Attribute)):
                word = sub.id if isinstance(sub, ast.Name) else sub.attr
                if "trainer" in word.lower():
                    return f"{task}.{method} reaches Keras' trainer ({word}, line {sub.lineno})"
    return None


def _super_is_own(module: _Module, function, method: str) -> bool:
    """Whether ``super().method`` inside ``function`` reaches a version the learner wrote."""
    for node in (n for values in module.history.values() for n in values if isinstance(n, ast.ClassDef)):
        if function in node.body:
            return any((parent := _earlier_class(module, base, node.lineno)) is not None
                       and _own_method(module, parent, method) is not None for base in node.bases)
    return False


def violations(source: str | None, rules: dict[str, dict]) -> dict[str, str]:
    """``{task: message}`` for every task whose code breaks its topic's own-work rule."""
    if not rules or source is None:
        return {}
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}  # the import fails in the sandbox and says why
    module = _Module(tree)
    found = {}
    for task, rule in rules.items():
        if task not in module.definitions:
            continue
        breach = None
        if rule.get("own_methods"):
            breach = _own_methods_breach(module, task, list(rule["own_methods"]))
        if breach is None and (rule.get("no_framework") or rule.get("forbid")):
            reader = _Reader(module, rule, task)
            definition = module.definitions[task]
            if isinstance(definition, ast.ClassDef) and not rule.get("no_framework"):
                # the class body, decorators and bases are read: `class KeepBest(EarlyStopping)` is
                # as much a hand-off as an EarlyStopping kept inside
                for statement in definition.body:
                    reader.read(statement)
                for expression in [*definition.decorator_list, *definition.bases, *definition.keywords]:
                    reader.read(expression)  # its Keras base is fine; a forbidden one is not
            else:
                reader.read(definition)
            if reader.breach:
                breach = f"{task} {reader.breach}"
        if breach is None and rule.get("own_methods"):
            reader = _Reader(module, {"forbid": []}, task)
            reader.read(module.definitions[task])
            if reader.breach:
                breach = f"{task} {reader.breach}"
        if breach is not None:
            found[task] = _message(task, rule, breach)
    return found


def _message(task: str, rule: dict, breach: str) -> str:
    if rule.get("no_framework"):
        why = "this topic is about the computation itself, so TensorFlow and Keras are not allowed in it"
    elif rule.get("own_methods"):
        why = f"{task} must do {', '.join(rule['own_methods'])} itself, not hand them to Keras' built-in versions"
    else:
        why = f"{task} must do the work itself, not hand it to {', '.join(rule['forbid'])}"
    return f"own work: {breach}; {why}. No points for this check until the code is your own."


def blocks_frameworks(rules: dict[str, dict], tasks: set[str]) -> bool:
    """Whether every task of a topic is ``no_framework`` (the sandbox then refuses the import)."""
    return bool(tasks) and all(rules.get(task, {}).get("no_framework") for task in tasks)
