"""The submission's side of the sandbox: runs in a forked child, answers requests with plain data.

The child works in a clean temporary directory that holds only the submission's module. It
imports the module, then answers ``call`` requests (a function of the module) and ``probe``
requests (a grader-written function from ``autograder.probes`` that drives the module, for
topics whose checks must build and train Keras models). Every answer is tagged data from
:mod:`autograder.wire`; verdicts are never computed here.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import traceback

from autograder import wire
from autograder.own_work import FRAMEWORKS  # one list: what the rule forbids is what the child refuses

OUTPUT_FILE = "output.txt"


SAFE_ENVIRONMENT = {"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"}
FRAMEWORK_RULE = ("this topic is about the arithmetic: write it yourself, without TensorFlow or "
                  "Keras (importing {name} is not allowed here)")


class _FrameworkBlocker:
    """A meta-path finder that refuses TensorFlow and Keras (topics whose point is the arithmetic)."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FRAMEWORKS:
            raise ImportError(FRAMEWORK_RULE.format(name=name.split(".")[0]))
        return None


def block_frameworks() -> None:
    """Unload TensorFlow and Keras from this child and refuse to import them again."""
    for name in list(sys.modules):
        if name.split(".")[0] in FRAMEWORKS:
            del sys.modules[name]
    sys.meta_path.insert(0, _FrameworkBlocker())


def _kit_paths() -> list:
    """The kit's own files: never readable by a submission (hidden checks, solutions, the course)."""
    from pathlib import Path

    package = Path(__file__).resolve().parent
    paths = [package, package.parent / "grimoire"]
    if "site-packages" not in package.parent.name and "dist-packages" not in package.parent.name:
        paths.append(package.parent)  # a checkout: solutions/, source/, release/, tests/ ...
    return paths


def run_confined(channel: int, workdir: str, options: dict, namespaces: bool, limited: bool = False) -> None:
    """The child's whole life: confine itself, then serve requests on ``channel``."""
    from multiprocessing.connection import Connection
    from pathlib import Path

    from autograder import isolation

    extra = [Path(p) for p in options.get("excluded", [])]
    readable = isolation.readable_roots(excluded=_kit_paths() + extra)
    os.environ.clear()
    os.environ.update(SAFE_ENVIRONMENT, HOME=workdir, TMPDIR=workdir)
    tempfile.tempdir = workdir
    os.chdir(workdir)
    # The submission's prints go to a file in its directory, never into the protocol pipe.
    sink = os.open(OUTPUT_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    os.close(sink)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    isolation.set_limits(options.get("memory_bytes"), options["max_file_bytes"],
                         processes=isolation.PROCESS_LIMIT if namespaces and not limited else None)
    abi = isolation.landlock(workdir, readable, own_proc=namespaces)
    if options.get("require_landlock") and not abi:
        os._exit(73)
    sys.path.insert(0, workdir)
    sys.dont_write_bytecode = True
    if options.get("block_frameworks"):
        block_frameworks()
    serve(Connection(channel), options)


def _error(kind: str, error: BaseException | None = None, **extra) -> dict:
    answer = {"ok": False, "kind": kind}
    if error is not None:
        answer["type"] = type(error).__name__
        answer["message"] = str(error)[:2000]
        answer["mro"] = [kind.__name__ for kind in type(error).__mro__]
        frames = traceback.extract_tb(error.__traceback__)
        own = [frame for frame in frames if frame.filename.startswith(os.getcwd())]
        answer["where"] = [f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}" for f in own][-3:]
    answer.update(extra)
    return answer


def _import(module_name: str):
    sys.modules.pop(module_name, None)
    try:
        return importlib.import_module(module_name), None
    except SystemExit as error:
        return None, _error("import", error, message=f"sys.exit({error.code!r}) was called")
    except BaseException as error:
        return None, _error("import", error)


def _resolve_probe(path: str):
    module_path, _, name = path.partition(":")
    if not module_path.startswith("autograder.probes."):
        raise ValueError(f"not a probe: {path}")
    return getattr(importlib.import_module(module_path), name)


def _answer(request: dict, module, import_error: dict | None) -> dict:
    if import_error is not None:
        return import_error
    args = [wire.decode(arg) for arg in request.get("args", [])]
    kwargs = {key: wire.decode(value) for key, value in request.get("kwargs", {}).items()}
    if request["op"] == "call":
        target = getattr(module, request["name"], None)
        if target is None or not callable(target):
            return {"ok": False, "kind": "missing", "name": request["name"]}
    else:
        target = _resolve_probe(request["probe"])
        args.insert(0, module)
    try:
        result = target(*args, **kwargs)
    except SystemExit as error:
        return _error("raised", error, message=f"sys.exit({error.code!r}) was called")
    except BaseException as error:
        return _error("raised", error)
    try:
        return {"ok": True, "value": wire.encode(result)}
    except BaseException as error:
        return _error("unencodable", error)


def _load(request: dict):
    """Write the submitted source into the work folder and import it."""
    module_name = request["module"]
    with open(f"{module_name}.py", "w") as handle:
        handle.write(request["source"])
    return module_name, _import(module_name)


def serve(connection, options: dict) -> None:
    """Answer requests until the grader closes the channel; the first one loads the module."""
    module, import_error = None, {"ok": False, "kind": "import", "type": "RuntimeError",
                                  "message": "no module was loaded"}
    while True:
        try:
            request = wire.loads(connection.recv_bytes())
        except (EOFError, OSError, ValueError):
            break
        if request.get("op") == "load":
            _, (module, import_error) = _load(request)
            answer = {"ok": True, "loaded": import_error is None}
        else:
            answer = _answer(request, module, import_error)
        connection.send_bytes(wire.dumps(answer))
    os._exit(0)
