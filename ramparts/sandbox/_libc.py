"""The few libc calls the sandbox needs that Python 3.11's ``os`` lacks.

``os.unshare`` and ``os.setns`` arrived in 3.12, and mount, pivot_root and
the uid-map dance have no stdlib wrapper at all, so these are thin ctypes
calls that raise ``OSError`` with errno on failure.  Runs inside the sandbox
before it is sealed; stdlib only.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import socket
import struct

from ramparts.errors import SandboxError

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MNT_DETACH = 2

_SYS_PIVOT_ROOT = 155  # x86_64
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1

# The C library already mapped into the process: ``ctypes.util.find_library`` would
# run ldconfig or a compiler, which the sandbox may no longer reach.
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int
_libc.capset.restype = ctypes.c_int


def libc() -> ctypes.CDLL:
    """The process's C library, shared by every sandbox module."""
    return _libc


def errno_text() -> str:
    """The last ctypes errno as ``EPERM (Operation not permitted)``."""
    err = ctypes.get_errno()
    return f"{errno.errorcode.get(err, err)} ({os.strerror(err)})"


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None
) -> None:
    def enc(s: str | None) -> bytes | None:
        return None if s is None else s.encode()

    _check(
        _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {target}",
    )


def umount(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(target.encode(), ctypes.c_int(flags)), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    _check(_libc.syscall(_SYS_PIVOT_ROOT, new_root.encode(), put_old.encode()), "pivot_root")


def sethostname(name: str) -> None:
    data = name.encode()
    _check(_libc.sethostname(data, ctypes.c_size_t(len(data))), "sethostname")


def loopback_up() -> None:
    """Bring ``lo`` up in a fresh network namespace (it starts down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), _SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s.fileno(), _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def write_file(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def statvfs_mount_flags(path: str) -> int:
    """The MS_* flags a read-only remount must keep (the kernel refuses to drop locked ones)."""
    f = os.statvfs(path).f_flag
    out = 0
    for st, ms in (
        (os.ST_NOSUID, MS_NOSUID),
        (os.ST_NODEV, MS_NODEV),
        (os.ST_NOEXEC, MS_NOEXEC),
        (os.ST_NOATIME, MS_NOATIME),
        (os.ST_NODIRATIME, MS_NODIRATIME),
        (os.ST_RELATIME, MS_RELATIME),
    ):
        if f & st:
            out |= ms
    return out


__all__ = [
    "loopback_up",
    "mount",
    "pivot_root",
    "sethostname",
    "statvfs_mount_flags",
    "umount",
    "unshare",
    "errno_text",
    "libc",
    "require_single_thread",
    "write_file",
]


def require_single_thread(what: str) -> None:
    """Refuse per-thread settings while other threads exist: they would keep the old state.

    Landlock, capabilities and no_new_privs bind the calling thread only.  /proc is
    read as bytes: a text codec may need an import the sandbox can no longer do.
    """
    try:
        with open("/proc/self/status", "rb") as status:
            threads = next(
                (int(line.split()[1]) for line in status if line.startswith(b"Threads:")), None
            )
    except (OSError, ValueError) as exc:
        raise SandboxError(f"{what}: cannot count threads: {exc}") from exc
    if threads is None:
        raise SandboxError(f"{what}: cannot count threads: no Threads: line in /proc/self/status")
    if threads != 1:
        raise SandboxError(f"{what}: the process has {threads} threads; call it before any start")
