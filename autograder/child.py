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
import resource
import sys
import tempfile
import traceback

from autograder import wire
from autograder.confine import confine_writes

OUTPUT_FILE = "output.txt"


def _isolate(workdir: str, memory_bytes: int | None, max_file_bytes: int) -> None:
    os.chdir(workdir)
    # The submission's prints go to a file in its directory, never into the protocol pipe.
    sink = os.open(OUTPUT_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    os.close(sink)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    sys.path.insert(0, workdir)
    sys.dont_write_bytecode = True
    os.environ["TMPDIR"] = workdir
    tempfile.tempdir = workdir
    confine_writes(workdir)  # from here on, the submission can write only in its own folder


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


def serve(connection, workdir: str, module_name: str, memory_bytes, max_file_bytes) -> None:
    """Entry point of the child process (target of ``multiprocessing.Process``)."""
    _isolate(workdir, memory_bytes, max_file_bytes)
    module, import_error = _import(module_name)
    while True:
        try:
            request = wire.loads(connection.recv_bytes())
        except (EOFError, OSError):
            break
        connection.send_bytes(wire.dumps(_answer(request, module, import_error)))
    os._exit(0)
