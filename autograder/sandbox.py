"""The grader's side of the sandbox: one child process per submitted module.

Children are forked from a ``multiprocessing`` fork server that imported Keras once
(:mod:`autograder.preload`), so a child costs milliseconds, not a TensorFlow import. Each child
runs in a fresh temporary directory holding a copy of the submission's module and nothing else,
under a file-size and memory cap, and every request has a wall-time limit: a child that hangs
is killed and the next request starts a new one. Errors come back as :class:`SubmissionError`,
whose message says what happened in words a learner understands.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import threading
from pathlib import Path

from autograder import child, wire
from grimoire.feedback import format_call, is_untouched_stub

DEFAULT_TIMEOUT = 10.0
# A function or probe that already ran past its limit once gets this long on later calls: an
# endless loop then costs its checks one full wait, not one full wait each.
TIMEOUT_AFTER_A_HANG = 1.0
MEMORY_HEADROOM = 3 * 1024**3  # on top of what the fork server already maps
MAX_FILE_BYTES = 32 * 1024**2
MAX_ANSWER_BYTES = 256 * 1024**2

_context_lock = threading.Lock()
_context = None


def fork_context():
    """The shared fork-server context; starting it early overlaps its Keras import with ours."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["autograder.preload"])
            _context = context
    return _context


def warm_up() -> None:
    """Start the fork server in the background (it imports Keras once)."""
    from multiprocessing import forkserver

    fork_context()
    threading.Thread(target=forkserver.ensure_running, daemon=True).start()


def _memory_cap() -> int | None:
    try:
        import resource

        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        server_size = _forkserver_virtual_size()
        cap = server_size + MEMORY_HEADROOM if server_size else None
        if cap and hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        return cap
    except Exception:
        return None


def _forkserver_virtual_size() -> int:
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    if not pid:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


class SubmissionError(AssertionError):
    """The submission could not give an answer; the message is for the learner."""


class SubmissionRaised(SubmissionError):
    """The submission's code raised; ``error_types`` lists the exception's class names (MRO)."""

    def __init__(self, message: str, error_types: list[str]):
        super().__init__(message)
        self.error_types = error_types


class Sandbox:
    """A submitted module served by a child process; restarts the child when it dies."""

    def __init__(self, module_name: str, module_path: Path | None, timeout: float = DEFAULT_TIMEOUT):
        self.module_name = module_name
        self.module_path = module_path
        self.timeout = timeout
        self._process = None
        self._connection = None
        self._workdir: Path | None = None
        self._hung: set[str] = set()

    # -- lifecycle -------------------------------------------------------------------------
    def _start(self) -> None:
        context = fork_context()
        self._workdir = Path(tempfile.mkdtemp(prefix="grimoire-sandbox-"))
        shutil.copyfile(self.module_path, self._workdir / f"{self.module_name}.py")
        ours, theirs = context.Pipe()
        self._process = context.Process(
            target=child.serve,
            args=(theirs, str(self._workdir), self.module_name, _memory_cap(), MAX_FILE_BYTES),
            daemon=True,
        )
        self._process.start()
        theirs.close()
        self._connection = ours

    def close(self) -> None:
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join(timeout=5)
            self._connection.close()
        self._process = self._connection = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- requests --------------------------------------------------------------------------
    def _exchange(self, request: dict, timeout: float, describe: str) -> dict:
        target = request.get("name") or request.get("probe")
        if target in self._hung:
            timeout = min(timeout, TIMEOUT_AFTER_A_HANG)
        if self.module_path is None:
            raise SubmissionError(f"{describe} could not run: {self.module_name}.py was not submitted")
        if self._process is None or not self._process.is_alive():
            self.close()
            self._start()
        try:
            self._connection.send_bytes(wire.dumps(request))
            if not self._connection.poll(timeout):
                self.close()
                again = ", as before" if target in self._hung else ""
                self._hung.add(target)
                raise SubmissionError(
                    f"{describe} did not finish within {timeout:g} s{again} (an endless loop?); "
                    "the grader stopped it"
                )
            return wire.loads(self._connection.recv_bytes(MAX_ANSWER_BYTES))
        except (EOFError, OSError, ValueError) as error:
            exitcode = self._process.exitcode if self._process is not None else None
            self.close()
            if isinstance(error, ValueError):
                reason = "sent an answer the grader could not read"
            elif exitcode is not None and exitcode < 0:
                reason = f"was killed by signal {-exitcode} (too much memory or output?)"
            else:
                reason = f"ended the Python process (exit code {exitcode}; os._exit or a crash?)"
            raise SubmissionError(f"{describe} {reason}") from None

    def _value(self, answer: dict, describe: str):
        if answer.get("ok"):
            return wire.decode(answer.get("value"))
        kind = answer.get("kind")
        if kind == "missing":
            raise SubmissionError(
                f"{self.module_name}.py has no function or class named {answer.get('name')!r}: "
                "did you rename or delete it?"
            )
        error = f"{answer.get('type', 'Error')}: {answer.get('message', '')}".rstrip(": ")
        where = answer.get("where") or []
        location = f" (at {where[-1]})" if where else ""
        if kind == "import":
            raise SubmissionError(f"{self.module_name}.py could not be imported: {error}{location}")
        if answer.get("type") == "NotImplementedError" and is_untouched_stub(answer.get("message", "")):
            raise SubmissionError(f"{describe} raised NotImplementedError: not started yet")
        if kind == "unencodable":
            raise SubmissionError(f"{describe} returned a value the grader could not read ({error})")
        raise SubmissionRaised(f"{describe} raised {error}{location}", list(answer.get("mro", [])))

    def call(self, name: str, *args, timeout: float | None = None, **kwargs):
        """Call ``name(*args, **kwargs)`` in the submission; returns the decoded value."""
        describe = format_call(name, args, kwargs)
        request = {
            "op": "call",
            "name": name,
            "args": [wire.encode(arg) for arg in args],
            "kwargs": {key: wire.encode(value) for key, value in kwargs.items()},
        }
        return self._value(self._exchange(request, timeout or self.timeout, describe), describe)

    def probe(self, probe: str, *args, describe: str, timeout: float | None = None, **kwargs):
        """Run ``autograder.probes.<probe>`` in the child with the submission's module."""
        request = {
            "op": "probe",
            "probe": f"autograder.probes.{probe}",
            "args": [wire.encode(arg) for arg in args],
            "kwargs": {key: wire.encode(value) for key, value in kwargs.items()},
        }
        return self._value(self._exchange(request, timeout or self.timeout, describe), describe)
