"""The zygote: a process that imported Keras once and forks one confined child per submission.

The grader starts it (:class:`Zygote`) with a scrubbed environment and a private socket pair:
no name on the filesystem, no abstract address, nothing a submission could connect to. For each
sandbox the grader sends ``spawn`` with the child's end of a fresh socket pair; the zygote forks

- a *keeper* (new session, every other descriptor closed) that enters new user, PID, network
  and mount namespaces and forks
- the *child*: PID 1 of that namespace, which mounts its own tmpfs work folder and /proc, drops
  its environment, sets its limits, confines itself with Landlock and then serves the
  submission (:mod:`autograder.child`).

The keeper only waits; killing it (``kill``) kills the child (parent-death signal) and with it
the whole namespace. The child can reach neither the zygote nor the grader: it holds no
descriptor of theirs, Landlock scopes its signals and abstract sockets to its own domain, and
it has no network. Where the kernel lacks a mechanism the rest still applies
(:func:`autograder.isolation.describe` says what is in force).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HEADER = struct.Struct("!I")
MAX_CONTROL_BYTES = 64 * 1024
READY_TIMEOUT = 180.0  # importing TensorFlow on a busy 2-core machine
REQUEST_TIMEOUT = 30.0
KIT_ROOT = Path(__file__).resolve().parent.parent
NAMESPACE_WORKDIR = "/tmp/grimoire-sandbox"  # a tmpfs mounted in the child's own namespace


class ZygoteError(RuntimeError):
    """The zygote could not start or answer (the grader's problem, never the submission's)."""


# -- framing on the control socket ------------------------------------------------------------

def _send(sock: socket.socket, message: dict, fds: list[int] = ()) -> None:
    body = json.dumps(message).encode()
    data = HEADER.pack(len(body)) + body
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.sendall(data)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(left)
        if not chunk:
            raise EOFError("control socket closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket, with_fds: bool = False):
    fds = []
    if with_fds:
        head, fds, _, _ = socket.recv_fds(sock, HEADER.size, 4)
        if not head:
            raise EOFError("control socket closed")
        head += _recv_exact(sock, HEADER.size - len(head)) if len(head) < HEADER.size else b""
    else:
        head = _recv_exact(sock, HEADER.size)
    (size,) = HEADER.unpack(head)
    if size > MAX_CONTROL_BYTES:
        raise ValueError("control message too large")
    return json.loads(_recv_exact(sock, size)), fds


# -- the grader's side -------------------------------------------------------------------------

def _scrubbed_environment() -> dict:
    """The zygote's whole environment: nothing of the grader's (tokens, paths, secrets)."""
    keep = {"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent",
            "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": str(KIT_ROOT), "CUDA_VISIBLE_DEVICES": ""}
    for name in ("KERAS_BACKEND", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "GRIMOIRE_WEAK_ISOLATION"):
        if name in os.environ:
            keep[name] = os.environ[name]
    return keep


class Zygote:
    """The grader's handle on its zygote process; thread-safe; restarts a dead zygote."""

    def __init__(self):
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._socket: socket.socket | None = None
        self._ready = False

    def start(self) -> None:
        with self._lock:
            self._start_locked()

    def _start_locked(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        ours, theirs = socket.socketpair()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "autograder.zygote", str(theirs.fileno())],
            pass_fds=[theirs.fileno()], env=_scrubbed_environment(), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", start_new_session=True)
        theirs.close()
        self._socket, self._ready = ours, False

    def _stop_locked(self) -> None:
        if self._process is not None:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except OSError:
                pass
            self._process.kill()
            self._process.wait(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._process = self._socket = None
        self._ready = False

    def close(self) -> None:
        with self._lock:
            self._stop_locked()

    def _request(self, message: dict, fds=(), timeout: float = REQUEST_TIMEOUT) -> dict:
        if self._process is None or self._process.poll() is not None:
            self._stop_locked()
            self._start_locked()
        try:
            if not self._ready:
                self._socket.settimeout(READY_TIMEOUT)
                hello, _ = _recv(self._socket)
                if not hello.get("ready"):
                    raise ZygoteError(f"the zygote failed to start: {hello.get('error', hello)}")
                self._ready = True
            self._socket.settimeout(timeout)
            _send(self._socket, message, fds)
            answer, _ = _recv(self._socket)
            return answer
        except (OSError, EOFError, ValueError, socket.timeout) as error:
            self._stop_locked()
            raise ZygoteError(f"the zygote did not answer ({type(error).__name__}: {error})") from None

    def spawn(self, channel_fd: int, options: dict) -> int:
        """Fork a confined child serving ``channel_fd``; returns the keeper's pid."""
        with self._lock:
            for attempt in range(2):  # a zygote that died meanwhile is restarted once
                try:
                    answer = self._request({"op": "spawn", "options": options}, [channel_fd])
                    break
                except ZygoteError:
                    if attempt:
                        raise
            if "pid" not in answer:
                raise ZygoteError(f"the zygote could not fork: {answer.get('error')}")
            return int(answer["pid"])

    def kill(self, pid: int) -> None:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                return  # a dead zygote took its children with it
            try:
                self._request({"op": "kill", "pid": pid}, timeout=10.0)
            except ZygoteError:
                pass


_zygote = Zygote()


def zygote() -> Zygote:
    return _zygote


# -- the zygote process ------------------------------------------------------------------------

def _preload() -> None:
    """Import everything a child needs before it loses the right to read the kit."""
    import importlib
    import pkgutil

    from grimoire.quiet import import_keras

    import_keras()
    import autograder.child  # noqa: F401
    import autograder.probes as probes

    for info in pkgutil.iter_modules(probes.__path__):
        importlib.import_module(f"autograder.probes.{info.name}")


def _vm_size() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _keeper(channel: int, control: int, options: dict, workdir: str | None) -> None:
    """Runs in the forked keeper: new session, namespaces, then the child (or become it)."""
    from autograder import child, isolation

    os.setsid()
    isolation.die_with_parent()
    os.close(control)
    os.closerange(3, channel)
    os.closerange(channel + 1, 65536)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    in_group = isolation.join_process_group(options.get("cgroup"))
    use_namespaces = options["namespaces"] and isolation.enter_namespaces()
    if options["namespaces"] and not use_namespaces:
        os._exit(72)  # namespaces worked a moment ago: refuse to run with less than promised
    if use_namespaces:
        pid = os.fork()
        if pid:
            os.close(channel)
            while True:
                try:
                    _, status = os.waitpid(pid, 0)
                    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
                except ChildProcessError:
                    os._exit(0)
                except InterruptedError:
                    continue
        isolation.die_with_parent()
        workdir = NAMESPACE_WORKDIR
        if not isolation.private_filesystem(workdir, options["disk_bytes"]):
            os._exit(71)
    child.run_confined(channel, workdir, options, namespaces=use_namespaces, limited=in_group)
    os._exit(0)


def _clean(workdir: str | None, cgroup: str | None) -> None:
    from autograder import isolation

    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    for _ in range(300):  # the namespace's processes may take a moment to go
        if not cgroup or not os.path.isdir(cgroup):
            break
        isolation.remove_process_group(cgroup)
        if os.path.isdir(cgroup):
            time.sleep(0.01)


def serve(control_fd: int) -> None:
    control = socket.socket(fileno=control_fd)
    try:
        _preload()
    except BaseException as error:  # noqa: BLE001
        _send(control, {"ready": False, "error": f"{type(error).__name__}: {error}"})
        return
    from autograder import isolation

    namespaces = isolation.namespaces_available()
    isolation.remove_stale_process_groups()
    _send(control, {"ready": True, "vm_size": _vm_size(), "namespaces": namespaces})
    workdirs: dict[int, tuple] = {}
    counter = 0
    while True:
        for pid in list(workdirs):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                _clean(*workdirs.pop(pid))
        readable, _, _ = select.select([control], [], [], 1.0)
        if not readable:
            continue
        try:
            request, fds = _recv(control, with_fds=True)
        except (EOFError, OSError, ValueError):
            break  # the grader is gone: so are we, and our children (parent-death signal)
        if request.get("op") == "spawn" and len(fds) == 1:
            options = request["options"]
            options["namespaces"] = namespaces and options.get("namespaces", True)
            workdir = None if options["namespaces"] else tempfile.mkdtemp(prefix="grimoire-sandbox-")
            size, headroom = _vm_size(), options.pop("memory_headroom", 3 * 1024**3)
            options["memory_bytes"] = size + headroom if size else None  # unknown size: no cap
            counter += 1
            options["cgroup"] = isolation.make_process_group(f"grimoire-{os.getpid()}-{counter}")
            pid = os.fork()
            if pid == 0:
                try:
                    _keeper(fds[0], control.fileno(), options, workdir)
                finally:
                    os._exit(70)
            os.close(fds[0])
            workdirs[pid] = (workdir, options["cgroup"])
            _send(control, {"pid": pid})
        elif request.get("op") == "kill":
            pid = int(request.get("pid", 0))
            if pid in workdirs:
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
                _clean(*workdirs.pop(pid))
            _send(control, {"ok": True})
        else:
            for fd in fds:
                os.close(fd)
            _send(control, {"error": "unknown request"})
    for pid, leftovers in workdirs.items():
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        _clean(*leftovers)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
