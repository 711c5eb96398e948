"""Process privileges of a worker: capabilities, no_new_privs, dumpability, parent-death signal.

A worker may start as root (uid 0 on the host, or uid 0 inside its own user
namespace).  Root's power comes from capabilities, not from the uid, so the
worker drops all of them, from every set including the bounding set that
``execve`` would refill the others from, and then checks with the kernel that
they are gone.  ``no_new_privs`` closes the other road back (setuid binaries
and file capabilities).

Capabilities, ``no_new_privs`` and the parent-death signal are per *thread*:
``drop_capabilities`` and ``no_new_privs`` refuse to run in a process that
already has several threads, because the others would keep what this one
gave up.  Call them before anything starts a thread.

Everything goes through ``prctl``/``capset`` in the C library already mapped
into the process (``ctypes.CDLL(None)``), so nothing here spawns a helper or
needs a file beyond ``/proc``.  ``/proc`` is read as bytes: opening it as text
would import a codec module lazily, and after a uid change or Landlock the
interpreter may no longer be able to read its own standard library.
"""

from __future__ import annotations

import ctypes
import signal

from ramparts.errors import SandboxError
from ramparts.sandbox._libc import errno_text as _errno_text
from ramparts.sandbox._libc import libc as _libc
from ramparts.sandbox._libc import require_single_thread

__all__ = ["drop_capabilities", "no_new_privs", "not_dumpable", "set_pdeathsig"]

_PR_SET_PDEATHSIG = 1
_PR_GET_PDEATHSIG = 2
_PR_GET_DUMPABLE = 3
_PR_SET_DUMPABLE = 4
_PR_CAPBSET_READ = 23
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_GET_NO_NEW_PRIVS = 39
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4

_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_CAP_SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


class _CapHeader(ctypes.Structure):
    """``struct __user_cap_header_struct``; pid 0 means the calling thread."""

    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    """``struct __user_cap_data_struct``; version 3 takes two (low and high 32 caps)."""

    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def no_new_privs() -> None:
    """Set ``no_new_privs``: ``execve`` can never grant privileges again (setuid, file caps).

    It is also what lets an unprivileged process load seccomp filters and
    Landlock rulesets.  Irreversible and inherited by every child.
    """
    require_single_thread("no_new_privs")
    _prctl("PR_SET_NO_NEW_PRIVS", _PR_SET_NO_NEW_PRIVS, 1)
    if _prctl("PR_GET_NO_NEW_PRIVS", _PR_GET_NO_NEW_PRIVS) != 1:
        raise SandboxError("no_new_privs did not stick")


def not_dumpable() -> None:
    """Make the process non-dumpable: no core dumps, no ptrace or ``/proc/<pid>/mem`` by peers.

    Other processes of the same uid (a neighbouring worker) can then no longer
    attach to this one or read its memory.  ``execve`` resets the flag, so
    programs the worker runs are dumpable again.
    """
    _prctl("PR_SET_DUMPABLE", _PR_SET_DUMPABLE, 0)
    if _prctl("PR_GET_DUMPABLE", _PR_GET_DUMPABLE) != 0:
        raise SandboxError("PR_SET_DUMPABLE 0 did not stick")


def drop_capabilities() -> None:
    """Drop every capability from the bounding, ambient, effective, permitted and inheritable sets.

    The order matters: removing caps from the bounding set needs
    ``CAP_SETPCAP``, so that happens first, while we still hold it.  Finally
    ``/proc/thread-self/status`` must show all five sets empty, otherwise
    ``SandboxError``.  A process that never had ``CAP_SETPCAP`` (a plain
    non-root user) cannot empty its bounding set and gets ``SandboxError``.
    """
    require_single_thread("drop_capabilities")
    for cap in range(_cap_last_cap() + 1):
        if _prctl(f"PR_CAPBSET_READ({cap})", _PR_CAPBSET_READ, cap) == 1:
            _prctl(f"PR_CAPBSET_DROP({cap})", _PR_CAPBSET_DROP, cap)
    _prctl("PR_CAP_AMBIENT_CLEAR_ALL", _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)

    header = _CapHeader(version=_LINUX_CAPABILITY_VERSION_3, pid=0)
    data = (_CapData * 2)()  # all zero
    ctypes.set_errno(0)
    if _libc().capset(ctypes.byref(header), data) != 0:
        raise SandboxError(f"capset failed: {_errno_text()}")

    left = {name: value for name, value in _capability_sets().items() if value}
    if left:
        shown = ", ".join(f"{name}={value:016x}" for name, value in sorted(left.items()))
        raise SandboxError(f"capabilities still held after dropping them: {shown}")


def set_pdeathsig(sig: int) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies.

    Keeps a worker from outliving the node that started it.  The signal is
    tied to the parent *thread* and cleared by ``fork`` and by a change of
    credentials (setuid), so call it after those; and check ``os.getppid()``
    afterwards, because a parent that died just before the call is missed.
    """
    if isinstance(sig, bool) or not 0 < int(sig) < signal.NSIG:
        raise SandboxError(f"invalid parent-death signal {sig!r}")
    _prctl("PR_SET_PDEATHSIG", _PR_SET_PDEATHSIG, int(sig))
    got = ctypes.c_int(0)
    _prctl("PR_GET_PDEATHSIG", _PR_GET_PDEATHSIG, ctypes.addressof(got))
    if got.value != int(sig):
        raise SandboxError(f"PR_SET_PDEATHSIG {int(sig)} did not stick")


def _prctl(what: str, option: int, arg2: int = 0) -> int:
    ctypes.set_errno(0)
    zero = ctypes.c_ulong(0)
    rc = int(_libc().prctl(ctypes.c_int(option), ctypes.c_ulong(arg2), zero, zero, zero))
    if rc < 0:
        raise SandboxError(f"prctl {what} failed: {_errno_text()}")
    return rc


def _cap_last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap", "rb") as fh:
            return int(fh.read().strip())
    except (OSError, ValueError) as exc:
        raise SandboxError(f"cannot read /proc/sys/kernel/cap_last_cap: {exc}") from exc


def _capability_sets() -> dict[str, int]:
    """This thread's capability sets, as the kernel reports them."""
    found: dict[str, int] = {}
    try:
        with open("/proc/thread-self/status", "rb") as status:
            for line in status:
                name, _, value = line.partition(b":")
                key = name.decode("ascii", "replace")
                if key in _CAP_SETS:
                    found[key] = int(value.strip(), 16)
    except (OSError, ValueError) as exc:
        raise SandboxError(
            f"cannot verify capabilities in /proc/thread-self/status: {exc}"
        ) from exc
    missing = [name for name in _CAP_SETS if name not in found]
    if missing:
        raise SandboxError(f"cannot verify capabilities: {', '.join(missing)} not reported")
    return found
