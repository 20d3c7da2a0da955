"""Confinement of a process that runs learner code: kernel mechanisms, nothing home-made.

On Linux a sandbox child gets, in this order (each step only where the kernel offers it):

1. **Namespaces** (``unshare``: user, PID, network, mount). The child becomes PID 1 of its own
   PID namespace, so every process it starts, detached daemons included, dies with it; it has
   no network at all (a loopback that is down); its ``/proc`` shows only its own processes;
   ``/tmp``, ``/dev/shm``, ``/run`` and ``/var/tmp`` are empty, private tmpfs mounts; its working
   folder is a tmpfs of a fixed size: one disk budget for everything it writes.
2. **Landlock** (ABI >= 1 for files, 4 for TCP, 6 for scoping): it may read only the Python
   installation and site-packages, the system libraries and its own folder; write only in its
   own folder; no TCP bind or connect; no signal and no abstract unix socket to any process
   outside its own Landlock domain (the grader, the zygote, classmates' sandboxes).
3. **Limits** (``setrlimit``): address space, file size, process count, no core files.

:func:`describe` says which of these this machine gives, for the report and for
``grade-cohort``'s refusal to grade other people's work without full isolation.
"""

from __future__ import annotations

import ctypes
import functools
import os
import resource
import sys
from pathlib import Path

# -- Landlock constants (include/uapi/linux/landlock.h) ----------------------------------------
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446
_PR_SET_NO_NEW_PRIVS, _PR_SET_PDEATHSIG, _PR_SET_DUMPABLE = 38, 1, 4
_RULE_PATH_BENEATH = 1
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_WRITES_V1 = _WRITE_FILE | sum(1 << bit for bit in range(4, 13))  # remove, make char/dir/reg/sock/...
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_ONLY = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1

# -- namespaces (include/uapi/linux/sched.h, mount.h) ------------------------------------------
_CLONE_NEWNS, _CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_REC, _MS_PRIVATE = 2, 4, 0x4000, 1 << 18

PROCESS_LIMIT = 128  # threads count too: TensorFlow's pools need a few dozen
SCRATCH_MOUNTS = ("/tmp", "/dev/shm", "/run", "/var/tmp")
READABLE_SYSTEM = ("/usr", "/lib", "/lib64", "/bin", "/sys", "/etc/ld.so.cache", "/etc/localtime",
                   "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


WEAK = "GRIMOIRE_WEAK_ISOLATION"  # set to 1: behave as on a platform without these mechanisms (tests)


def _weak() -> bool:
    return os.environ.get(WEAK) == "1"


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 where there is none (macOS, old kernels)."""
    if not sys.platform.startswith("linux") or _weak():
        return 0
    try:
        return max(0, _libc.syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1)))
    except Exception:
        return 0


@functools.lru_cache(maxsize=1)
def namespaces_available() -> bool:
    """Whether this process may create user, PID, network and mount namespaces (tried in a fork)."""
    if not sys.platform.startswith("linux") or _weak():
        return False
    pid = os.fork()
    if pid == 0:
        try:
            ok = _libc.unshare(_CLONE_NEWUSER | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWNS) == 0
        except Exception:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


@functools.lru_cache(maxsize=1)
def describe() -> dict:
    """Which isolation a sandbox child gets on this machine: level, mechanisms, what is missing.

    ``level`` is ``"full"`` with namespaces and Landlock ABI >= 6 (files, TCP, signal and socket
    scoping), ``"partial"`` with some of them, ``"none"`` with only a child process and limits.
    """
    abi = landlock_abi()
    mechanisms, missing = ["child process", "time limits", "resource limits"], []
    if namespaces_available():
        mechanisms.append("namespaces (user, pid, net, mount)")
    else:
        missing.append("namespaces: processes started by a submission may outlive it; network open")
    if abi >= 1:
        mechanisms.append(f"landlock ABI {abi}: reads and writes")
    else:
        missing.append("landlock: the submission can read and write the grader's files")
    if abi >= 4:
        mechanisms.append("landlock: no TCP")
    elif abi >= 1:
        missing.append("landlock ABI >= 4: TCP not blocked")
    if abi >= 6:
        mechanisms.append("landlock: signals and abstract sockets scoped")
    elif abi >= 1:
        missing.append("landlock ABI >= 6: signals to the grader not blocked")
    if os.getuid() == 0 and _pids_cgroup_root() is None if hasattr(os, "getuid") else False:
        missing.append("process limit: running as root without a writable pids cgroup")
    else:
        mechanisms.append("process limit")
    level = "full" if not missing else ("partial" if len(mechanisms) > 3 else "none")
    return {"level": level, "platform": sys.platform, "mechanisms": mechanisms, "missing": missing}


# -- the child's side --------------------------------------------------------------------------

def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


PIDS_CGROUPS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


def _pids_cgroup_root() -> Path | None:
    """A writable cgroup folder with the pids controller (root only; v1 or v2)."""
    if not sys.platform.startswith("linux") or os.getuid() != 0 or _weak():
        return None
    for root in PIDS_CGROUPS:
        if (root / "cgroup.procs").exists() and os.access(root, os.W_OK) and (
                root.name == "pids" or "pids" in _read(root / "cgroup.subtree_control")):
            return root
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def make_process_group(name: str, limit: int = PROCESS_LIMIT) -> str | None:
    """A pids cgroup allowing ``limit`` processes (root ignores RLIMIT_NPROC); None if unavailable."""
    root = _pids_cgroup_root()
    if root is None:
        return None
    folder = root / name
    try:
        folder.mkdir(exist_ok=True)
        (folder / "pids.max").write_text(str(limit))
        return str(folder)
    except OSError:
        return None


def join_process_group(folder: str | None) -> bool:
    if not folder:
        return False
    try:
        Path(folder, "cgroup.procs").write_text(str(os.getpid()))
        return True
    except OSError:
        return False


def remove_stale_process_groups() -> None:
    """Empty groups left by a zygote that was killed (rmdir refuses groups still in use)."""
    root = _pids_cgroup_root()
    if root is not None:
        for folder in root.glob("grimoire-*"):
            remove_process_group(str(folder))


def remove_process_group(folder: str | None) -> None:
    if folder:
        try:
            os.rmdir(folder)
        except OSError:
            pass


def enter_namespaces() -> bool:
    """Unshare user, PID, network and mount namespaces; the *next* fork is PID 1 of the new one."""
    uid, gid = os.getuid(), os.getgid()
    if _libc.unshare(_CLONE_NEWUSER | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWNS) != 0:
        return False
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError:
        return False
    return True


def _mount(source: bytes, target: str, kind: bytes | None, flags: int, data: bytes | None) -> bool:
    return _libc.mount(source, target.encode(), kind, flags, data) == 0


def python_roots() -> list[Path]:
    """Where this Python and its packages live (a venv may sit under /tmp: never hide those)."""
    roots = {Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    roots |= {Path(p) for p in sys.path if p and os.path.isdir(p)}
    return [root.resolve() for root in roots if root.exists()]


def private_filesystem(workdir: str, disk_bytes: int) -> bool:
    """In a fresh mount namespace: scratch tmpfs mounts, a sized tmpfs workdir, our own /proc.

    Called as PID 1 of the new PID namespace. A scratch folder that holds Python itself (a
    checkout and its venv under /tmp) is left as it is: Landlock still keeps its other files
    unreadable.
    """
    if not _mount(b"none", "/", None, _MS_REC | _MS_PRIVATE, None):
        return False
    needed = python_roots()
    for target in SCRATCH_MOUNTS:
        holds_python = any(Path(target) == root or Path(target) in root.parents for root in needed)
        if os.path.isdir(target) and not holds_python:
            _mount(b"tmpfs", target, b"tmpfs", _MS_NOSUID | _MS_NODEV, b"size=1m,mode=0700")
    os.makedirs(workdir, exist_ok=True)
    if not _mount(b"tmpfs", workdir, b"tmpfs", _MS_NOSUID | _MS_NODEV,
                  f"size={disk_bytes},mode=0700".encode()):
        return False
    _mount(b"proc", "/proc", b"proc", _MS_NOSUID | _MS_NODEV, None)
    return True


def _excluded_split(root: Path, excluded: list[Path]) -> list[Path]:
    """``root`` itself, or (when it holds an excluded path) its entries minus the excluded ones."""
    inside = [e for e in excluded if e == root or root in e.parents]
    if not inside:
        return [root]
    if root in inside:
        return []
    parts = []
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return []
    for entry in entries:
        parts += _excluded_split(entry, excluded)
    return parts


def readable_roots(excluded: list[Path]) -> list[Path]:
    """What a sandbox may read: Python, its site-packages, system libraries; never ``excluded``."""
    roots = {Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    roots |= {Path(p) for p in sys.path if p and os.path.isdir(p) and "site-packages" in p}
    roots |= {Path(p) for p in READABLE_SYSTEM}
    resolved = set()
    for root in roots:
        if root.exists():
            resolved.add(root.resolve())
    excluded = [e.resolve() for e in excluded]
    out = []
    for root in sorted(resolved):
        out += _excluded_split(root, excluded)
    return out


def _add_rule(ruleset: int, path: Path, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            access &= _FILE_ONLY
        rule = _PathBeneath(access, fd)
        _libc.syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH),
                      ctypes.byref(rule), ctypes.c_uint32(0))
    finally:
        os.close(fd)


def landlock(workdir: str, readable: list[Path], own_proc: bool) -> int:
    """Restrict this process and its future children; returns the ABI used (0: not confined)."""
    abi = landlock_abi()
    if abi < 1:
        return 0
    read = _EXECUTE | _READ_FILE | _READ_DIR
    writes = _WRITES_V1 | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)
    handled_fs = read | writes | (_IOCTL_DEV if abi >= 5 else 0)
    handled_net = (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0
    scoped = (_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0
    attr = _RulesetAttr(handled_fs, handled_net, scoped)
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    ruleset = _libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return 0
    try:
        for root in readable:
            _add_rule(ruleset, root, read)
        # /proc: all of it when it is our own PID namespace's; else only this process's entry.
        _add_rule(ruleset, Path("/proc") if own_proc else Path(f"/proc/{os.getpid()}"), _READ_FILE | _READ_DIR)
        _add_rule(ruleset, Path("/dev/null"), _READ_FILE | _WRITE_FILE)
        _add_rule(ruleset, Path(workdir), handled_fs)
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return 0
        if _libc.syscall(_SYS_RESTRICT, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            return 0
        return abi
    finally:
        os.close(ruleset)


def die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        _libc.prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0)


def set_limits(memory_bytes: int | None, max_file_bytes: int, processes: int | None = None) -> None:
    limits = [(resource.RLIMIT_FSIZE, max_file_bytes), (resource.RLIMIT_CORE, 0)]
    if memory_bytes:
        limits.append((resource.RLIMIT_AS, memory_bytes))
    for kind, value in limits:
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass  # macOS refuses some limits; the rest still hold
    if processes and hasattr(resource, "RLIMIT_NPROC"):
        # Only in a user namespace: there (Linux >= 5.14) the count is the namespace's own, while
        # elsewhere every process of this user would count against the submission.
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
        except (ValueError, OSError):
            pass
