"""Landlock: the unprivileged filesystem, TCP-port and IPC allow list of a worker.

A worker restricts itself once, before it imports handler code: after that it
can read only ``read_only`` trees, write only ``read_write`` trees, execute
only from ``executable`` trees, open TCP connections only to ``connect_ports``
and bind only ``bind_ports``.  The restriction is permanent and inherited by
every process the worker spawns.

Why our own ctypes binding over the three syscalls (444 ``create_ruleset``,
445 ``add_rule``, 446 ``restrict_self``; the numbers are shared by every
architecture that uses the generic syscall table, x86_64 and arm64 included)
rather than the ``landlock`` package from PyPI: that package is a development
release that knows neither network rules (ABI 4) nor scoping (ABI 6), and the
sandboxed interpreter may only import the standard library anyway.

Best effort by ABI, reported to the caller: every right the running kernel
knows is handled (denied unless a rule allows it), and ``restrict`` returns
the ABI it used so the caller can refuse to run when it needs more:

* ABI 1: filesystem rights; 2: ``REFER`` (cross-directory rename and link);
  3: ``TRUNCATE``; 5: ``IOCTL_DEV``.
* ABI 4: TCP ``bind``/``connect`` ports.  Below 4 the network is *not*
  restricted by this layer.
* ABI 6: scoping, which stops connecting to abstract UNIX sockets and sending
  signals outside the worker's Landlock domain.  Below 6 ``scoped`` has no
  effect.

What Landlock does not cover (see the kernel's documentation): UDP and other
non-TCP sockets, connecting to pathname UNIX sockets, ``stat``/``chmod``/
``chown``/``access`` style metadata calls, and file descriptors that were open
before ``restrict`` ran.

Ordering: ``restrict`` sets ``no_new_privs`` itself (Landlock requires it).
Call it last among the layers that need the filesystem: afterwards reading
``/proc`` or executing helpers such as ``ldconfig`` (which importing
``pyseccomp`` runs) works only if the rules allow it.  The same goes for
modules Python imports lazily (``encodings.idna`` on the first
``socket.create_connection``, for example): keep the standard library in
``read_only`` or import them first.
"""

from __future__ import annotations

import ctypes
import os
import stat
from collections.abc import Iterable, Sequence

from ramparts.errors import SandboxError
from ramparts.sandbox._libc import errno_text as _errno_text
from ramparts.sandbox._libc import libc as _libc
from ramparts.sandbox._libc import require_single_thread

__all__ = ["abi_version", "restrict"]

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446

_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1
_RULE_NET_PORT = 2

# Filesystem access rights (include/uapi/linux/landlock.h).
_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_REMOVE_DIR = 1 << 4
_FS_REMOVE_FILE = 1 << 5
_FS_MAKE_CHAR = 1 << 6
_FS_MAKE_DIR = 1 << 7
_FS_MAKE_REG = 1 << 8
_FS_MAKE_SOCK = 1 << 9
_FS_MAKE_FIFO = 1 << 10
_FS_MAKE_BLOCK = 1 << 11
_FS_MAKE_SYM = 1 << 12
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3
_FS_IOCTL_DEV = 1 << 15  # ABI 5

_FS_ABI1 = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
# The only rights the kernel accepts on a rule whose target is not a directory.
_FS_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV

_NET_BIND_TCP = 1 << 0  # ABI 4
_NET_CONNECT_TCP = 1 << 1  # ABI 4

_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
_SCOPE_SIGNAL = 1 << 1  # ABI 6

_PR_SET_NO_NEW_PRIVS = 38
_PR_GET_NO_NEW_PRIVS = 39

_MAX_PORT = 65535


class _RulesetAttr(ctypes.Structure):
    """``struct landlock_ruleset_attr``; the kernel reads only the first ``size`` bytes."""

    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),  # ABI 4
        ("scoped", ctypes.c_uint64),  # ABI 6
    ]


class _PathBeneathAttr(ctypes.Structure):
    """``struct landlock_path_beneath_attr``, packed to 12 bytes like the kernel's."""

    _pack_ = 1
    _fields_ = [
        ("allowed_access", ctypes.c_uint64),
        ("parent_fd", ctypes.c_int32),
    ]


class _NetPortAttr(ctypes.Structure):
    """``struct landlock_net_port_attr``; the port is in host byte order."""

    _fields_ = [
        ("allowed_access", ctypes.c_uint64),
        ("port", ctypes.c_uint64),
    ]


def abi_version() -> int:
    """The Landlock ABI version of the running kernel, or 0 when Landlock is unavailable.

    0 covers kernels built without Landlock (``ENOSYS``) and kernels where it is
    built but not enabled at boot (``EOPNOTSUPP``).
    """
    rc = _libc().syscall(
        ctypes.c_long(_SYS_CREATE_RULESET),
        ctypes.c_void_p(None),
        ctypes.c_size_t(0),
        ctypes.c_uint32(_CREATE_RULESET_VERSION),
    )
    return max(int(rc), 0)


def restrict(
    *,
    read_only: Sequence[str],
    read_write: Sequence[str],
    executable: Sequence[str],
    connect_ports: Sequence[int] = (),
    bind_ports: Sequence[int] = (),
    scoped: bool = True,
) -> int:
    """Confine this process (and its future children) to the given paths and ports.

    ``read_only`` trees may be read and listed.  ``read_write`` trees get
    every filesystem right (create, write, remove, rename within the tree,
    ...) except ``EXECUTE``, so a handler cannot drop a binary and run it
    (write xor execute).  ``executable`` entries, files or directories, may be
    executed and read.  A path that is a file gets only the file subset of
    those rights.  Paths that do not exist are skipped: a missing path grants
    nothing, so skipping it cannot widen the sandbox, and one allow list can
    serve hosts whose layout differs (``/lib64`` exists on some distributions
    only).

    TCP ``connect`` is allowed only to ``connect_ports`` and ``bind`` only to
    ``bind_ports`` (ABI >= 4); ``scoped`` isolates abstract UNIX sockets and
    signals (ABI >= 6).  Returns the ABI used; raises ``SandboxError`` when
    Landlock is unavailable or any step fails.  Must run while the process has
    one thread: Landlock restricts only the calling thread.
    """
    abi = abi_version()
    if abi < 1:
        raise SandboxError("Landlock is unavailable: the kernel lacks it or did not enable it")
    ports = _port_rights(connect_ports, bind_ports)
    require_single_thread("Landlock")

    handled_fs = _handled_fs(abi)
    attr = _RulesetAttr(
        handled_access_fs=handled_fs,
        handled_access_net=(_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
        scoped=(_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if scoped and abi >= 6 else 0,
    )
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset_fd = _syscall(
        "landlock_create_ruleset",
        _SYS_CREATE_RULESET,
        ctypes.byref(attr),
        ctypes.c_size_t(size),
        ctypes.c_uint32(0),
    )
    try:
        read = _FS_READ_FILE | _FS_READ_DIR
        _add_paths(ruleset_fd, read_only, read, handled_fs)
        _add_paths(ruleset_fd, read_write, handled_fs & ~_FS_EXECUTE, handled_fs)
        _add_paths(ruleset_fd, executable, _FS_EXECUTE | read, handled_fs)
        if abi >= 4:
            for port, rights in ports.items():
                _add_port(ruleset_fd, port, rights)
        _set_no_new_privs()
        _syscall(
            "landlock_restrict_self",
            _SYS_RESTRICT_SELF,
            ctypes.c_int(ruleset_fd),
            ctypes.c_uint32(0),
        )
    finally:
        os.close(ruleset_fd)
    return abi


def _handled_fs(abi: int) -> int:
    rights = _FS_ABI1
    if abi >= 2:
        rights |= _FS_REFER
    if abi >= 3:
        rights |= _FS_TRUNCATE
    if abi >= 5:
        rights |= _FS_IOCTL_DEV
    return rights


def _port_rights(connect_ports: Iterable[int], bind_ports: Iterable[int]) -> dict[int, int]:
    """Merge both port lists into one rule per port, validating them up front."""
    rights: dict[int, int] = {}
    for ports, right in ((connect_ports, _NET_CONNECT_TCP), (bind_ports, _NET_BIND_TCP)):
        for port in ports:
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= _MAX_PORT:
                raise SandboxError(f"Landlock: invalid TCP port {port!r}")
            rights[port] = rights.get(port, 0) | right
    return rights


def _add_paths(ruleset_fd: int, paths: Iterable[str], access: int, handled_fs: int) -> None:
    for path in paths:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            continue  # nothing there to grant; see restrict()
        except OSError as exc:
            raise SandboxError(f"Landlock: cannot open {path!r}: {exc.strerror}") from exc
        try:
            allowed = access & handled_fs
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                allowed &= _FS_FILE_RIGHTS
            rule = _PathBeneathAttr(allowed_access=allowed, parent_fd=fd)
            _syscall(
                f"landlock_add_rule({path!r})",
                _SYS_ADD_RULE,
                ctypes.c_int(ruleset_fd),
                ctypes.c_int(_RULE_PATH_BENEATH),
                ctypes.byref(rule),
                ctypes.c_uint32(0),
            )
        finally:
            os.close(fd)


def _add_port(ruleset_fd: int, port: int, rights: int) -> None:
    rule = _NetPortAttr(allowed_access=rights, port=port)
    _syscall(
        f"landlock_add_rule(port {port})",
        _SYS_ADD_RULE,
        ctypes.c_int(ruleset_fd),
        ctypes.c_int(_RULE_NET_PORT),
        ctypes.byref(rule),
        ctypes.c_uint32(0),
    )


def _set_no_new_privs() -> None:
    """Landlock refuses ``restrict_self`` without no_new_privs (or CAP_SYS_ADMIN)."""
    libc = _libc()
    one, zero = ctypes.c_ulong(1), ctypes.c_ulong(0)
    if libc.prctl(ctypes.c_int(_PR_SET_NO_NEW_PRIVS), one, zero, zero, zero) != 0:
        raise SandboxError(f"Landlock: cannot set no_new_privs: {_errno_text()}")
    if libc.prctl(ctypes.c_int(_PR_GET_NO_NEW_PRIVS), zero, zero, zero, zero) != 1:
        raise SandboxError("Landlock: no_new_privs did not stick")


def _syscall(what: str, number: int, *args: object) -> int:
    ctypes.set_errno(0)
    rc = int(_libc().syscall(ctypes.c_long(number), *args))
    if rc < 0:
        raise SandboxError(f"Landlock: {what} failed: {_errno_text()}")
    return rc
