"""The grader's side of the sandbox: one confined child process per submitted module.

Children are forked by the zygote (:mod:`autograder.zygote`), a process that imported Keras
once, so a child costs milliseconds, not a TensorFlow import. Each child is confined by the
kernel (:mod:`autograder.isolation`: namespaces, Landlock, limits), works in its own small
folder holding only the submission's module, and every exchange has a wall-time limit: a child
that hangs is killed and the next request starts a new one. Answers are size-capped before
they are decoded. Errors come back as :class:`SubmissionError`, whose message says what
happened in words a learner understands.
"""

from __future__ import annotations

import socket
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from autograder import wire
from autograder.zygote import ZygoteError, zygote
from grimoire.feedback import format_call, is_untouched_stub

DEFAULT_TIMEOUT = 10.0
# A function or probe that already ran past its limit once gets this long on later calls: an
# endless loop then costs its checks one full wait, not one full wait each.
TIMEOUT_AFTER_A_HANG = 1.0
LOAD_TIMEOUT = 30.0
MEMORY_HEADROOM = 3 * 1024**3  # on top of what the zygote already maps
MAX_FILE_BYTES = 32 * 1024**2
DISK_BYTES = 64 * 1024**2  # everything one sandbox may write, all files together
MAX_ANSWER_BYTES = 16 * 1024**2
MAX_MODULE_BYTES = 1024**2


def warm_up() -> None:
    """Start the zygote in the background (it imports Keras once)."""
    threading.Thread(target=_start_quietly, daemon=True).start()


def _start_quietly() -> None:
    try:
        zygote().start()
    except Exception:  # noqa: BLE001  (the first spawn reports it)
        pass


def _text(value, limit: int) -> str:
    """A child's words, shortened: a submission must not fill the feedback (or the grader)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SubmissionError(AssertionError):
    """The submission could not give an answer; the message is for the learner."""


class SandboxUnavailable(SubmissionError):
    """No sandbox could be started: the grader's problem; the check scores 0 and says so."""


class SubmissionRaised(SubmissionError):
    """The submission's code raised; ``error_types`` lists the exception's class names (MRO)."""

    def __init__(self, message: str, error_types: list[str]):
        super().__init__(message)
        self.error_types = error_types


class Sandbox:
    """A submitted module served by a confined child process; restarts the child when it dies."""

    def __init__(self, module_name: str, module_path: Path | None, timeout: float = DEFAULT_TIMEOUT,
                 block_frameworks: bool = False, refusal: str | None = None):
        self.module_name = module_name
        self.module_path = module_path
        self.timeout = timeout
        self.block_frameworks = block_frameworks
        self.refusal = refusal
        self.own_work: dict[str, str] = {}
        self._pid: int | None = None
        self._connection: Connection | None = None
        self._hung: set[str] = set()
        self._source: str | None = None

    @property
    def source(self) -> str | None:
        """The submitted module's text, read once (None when nothing was submitted)."""
        if self._source is None and self.module_path is not None:
            raw = self.module_path.read_bytes()[: MAX_MODULE_BYTES + 1]
            self._source = raw.decode("utf-8", errors="replace")
        return self._source

    # -- lifecycle -------------------------------------------------------------------------
    def _start(self, describe: str) -> None:
        source = self.source
        if len(source) > MAX_MODULE_BYTES:
            raise SubmissionError(f"{describe} could not run: {self.module_name}.py is larger than "
                                  f"{MAX_MODULE_BYTES // 1024} KiB")
        ours, theirs = socket.socketpair()
        options = {"max_file_bytes": MAX_FILE_BYTES, "disk_bytes": DISK_BYTES,
                   "memory_headroom": MEMORY_HEADROOM, "block_frameworks": self.block_frameworks}
        try:
            self._pid = zygote().spawn(theirs.fileno(), options)
        except ZygoteError as error:
            ours.close()
            raise SandboxUnavailable(f"{describe} could not run: the grader could not start a "
                                     f"sandbox ({error})") from None
        finally:
            theirs.close()
        self._connection = Connection(ours.detach())
        self._connection.send_bytes(wire.dumps({"op": "load", "module": self.module_name, "source": source}))
        if not self._connection.poll(LOAD_TIMEOUT):
            self.close()
            raise SubmissionError(f"{describe} could not run: importing {self.module_name}.py did "
                                  f"not finish within {LOAD_TIMEOUT:g} s (an endless loop at import?)")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        if self._pid is not None:
            zygote().kill(self._pid)
        self._pid = self._connection = None

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
            raise SubmissionError(f"{describe} could not run: "
                                  f"{self.refusal or self.module_name + '.py was not submitted'}")
        try:
            if self._connection is None:
                self._start(describe)
                self._receive(timeout, describe, target)  # the load's answer
            self._connection.send_bytes(wire.dumps(request))
            return self._receive(timeout, describe, target)
        except (EOFError, OSError, ValueError) as error:
            self.close()
            if isinstance(error, ValueError) or "message" in str(error) or "length" in str(error):
                reason = ("sent an answer the grader could not read (too large, over "
                          f"{MAX_ANSWER_BYTES // 1024**2} MB, or garbled)")
            else:
                reason = "ended the Python process (os._exit, a crash, or killed for too much memory or output?)"
            raise SubmissionError(f"{describe} {reason}") from None

    def _receive(self, timeout: float, describe: str, target) -> dict:
        if not self._connection.poll(timeout):
            self.close()
            again = ", as before" if target in self._hung else ""
            self._hung.add(target)
            raise SubmissionError(
                f"{describe} did not finish within {timeout:g} s{again} (an endless loop?); "
                "the grader stopped it"
            )
        raw = self._connection.recv_bytes(MAX_ANSWER_BYTES)
        try:
            answer = wire.loads(raw)
        except Exception:  # noqa: BLE001  (not JSON, nested too deep ...)
            raise ValueError("garbled answer") from None
        if not isinstance(answer, dict):
            raise ValueError("not an answer")
        return answer

    def _value(self, answer: dict, describe: str):
        if answer.get("ok"):
            try:
                return wire.decode(answer.get("value"))
            except Exception:  # noqa: BLE001  (garbage from the child is the submission's doing)
                raise SubmissionError(f"{describe} sent an answer the grader could not read") from None
        kind = answer.get("kind")
        if kind == "missing":
            raise SubmissionError(
                f"{self.module_name}.py has no function or class named {_text(answer.get('name'), 80)!r}: "
                "did you rename or delete it?"
            )
        error = f"{_text(answer.get('type', 'Error'), 80)}: {_text(answer.get('message', ''), 600)}".rstrip(": ")
        where = [_text(w, 200) for w in answer.get("where") or [] if isinstance(w, str)]
        location = f" (at {where[-1]})" if where else ""
        if kind == "import":
            raise SubmissionError(f"{self.module_name}.py could not be imported: {error}{location}")
        if answer.get("type") == "NotImplementedError" and is_untouched_stub(_text(answer.get("message", ""), 600)):
            raise SubmissionError(f"{describe} raised NotImplementedError: not started yet")
        if kind == "unencodable":
            raise SubmissionError(f"{describe} returned a value the grader could not read ({error})")
        raise SubmissionRaised(f"{describe} raised {error}{location}", [_text(n, 80) for n in answer.get("mro", []) if isinstance(n, str)][:50])

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
