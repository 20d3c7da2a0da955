"""Confine a sandboxed child's writes to its own directory (Linux Landlock).

The gradebook, reports, autograded notebooks and other students' files sit on the same disk,
owned by the same user as the grader. Every sandbox child already works in a fresh directory;
:func:`confine_writes` makes every write outside that directory fail (EACCES) once the child
has set itself up, while reads stay allowed (Keras and NumPy must load). Where the kernel has
no Landlock, nothing changes (``CONFINED`` is False) and the other limits still hold.
"""

from __future__ import annotations

import ctypes
import os

_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446
_PR_SET_NO_NEW_PRIVS = 38
_PATH_BENEATH = 1
# WRITE_FILE, REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG, MAKE_SOCK, MAKE_FIFO,
# MAKE_BLOCK, MAKE_SYM (ABI 1), REFER (ABI 2), TRUNCATE (ABI 3)
_WRITES_V1 = (1 << 1) | sum(1 << bit for bit in range(4, 13))
_REFER, _TRUNCATE = 1 << 13, 1 << 14


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _abi() -> int:
    return _libc.syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))


CONFINED = _abi() >= 1


def confine_writes(directory: str) -> bool:
    """Allow writes only beneath ``directory`` for this process and its children; True if done."""
    abi = _abi()
    if abi < 1:
        return False
    handled = _WRITES_V1 | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(handled)
    ruleset = _libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
                            ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    try:
        folder = os.open(directory, os.O_PATH | os.O_DIRECTORY)
        try:
            rule = _PathBeneath(handled, folder)
            if _libc.syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_PATH_BENEATH),
                             ctypes.byref(rule), ctypes.c_uint32(0)) < 0:
                return False
        finally:
            os.close(folder)
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return _libc.syscall(_SYS_RESTRICT, ctypes.c_int(ruleset), ctypes.c_uint32(0)) == 0
    finally:
        os.close(ruleset)
