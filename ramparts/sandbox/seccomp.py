"""Seccomp: the syscall filter every worker loads before it runs handler code.

Why a *default-allow* filter with a deny list rather than an allow list: the
worker is a full CPython that imports arbitrary pure-Python and native
packages, and the set of syscalls those need moves with every glibc, CPython
and wheel release.  What we must stop is small and stable: the syscalls that
widen the kernel attack surface (modules, bpf, io_uring, keyrings, perf), that
escape or re-shape the sandbox (namespaces, mounts, chroot, ptrace and its
relatives), or that reach host-global state (clock, swap, reboot, accounting).
Those return ``EPERM`` so that well-behaved libraries see an ordinary
"operation not permitted" instead of dying.

Rules that look at arguments (all on the native ABI):

* ``clone`` with a namespace flag (``CLONE_NEW*``) or ``CLONE_PARENT`` in its
  flags argument -> ``EPERM``.  ``CLONE_PARENT`` would let a child be adopted
  by our parent and so leave the worker's subreaper subtree.
* ``clone3`` -> ``ENOSYS``.  Its flags live in a struct in user memory that a
  BPF filter cannot read, so we make the kernel look old: glibc (and with it
  ``threading``, ``os.fork``, ``subprocess``) falls back to ``clone``, whose
  flags we *can* inspect.
* ``socket`` of any family but ``AF_UNIX``, ``AF_INET``, ``AF_INET6`` and
  ``AF_NETLINK`` -> ``EAFNOSUPPORT`` (``AF_VSOCK`` would reach the VM's host
  around the network namespace; ``AF_PACKET``, ``AF_ALG``, ``AF_XDP``... are
  kernel surface no handler needs), and ``AF_INET``/``AF_INET6`` with type
  ``SOCK_RAW`` -> ``EPERM``.  ``AF_NETLINK`` stays allowed (glibc's
  ``getaddrinfo`` and ``if_nameindex`` use it).
* ``memfd_create`` -> ``EPERM``: an anonymous file is on no path a Landlock
  rule covers, so a memfd holding an ELF (ld.so will do) could be executed
  with ``execveat`` around ``allow_exec``.  ``socketpair`` of anything but
  ``AF_UNIX`` -> ``EAFNOSUPPORT``.
* ``prctl(PR_SET_DUMPABLE)`` -> ``EPERM``: the runtime makes every process
  non-dumpable first, and a handler may not undo it (a dumpable worker's
  memory is readable through /proc by its siblings).
* ``ioctl`` ``TIOCSTI`` and ``TIOCLINUX`` -> ``EPERM`` (pushing keystrokes into
  a terminal shared with the host).
* ``personality`` -> ``EPERM`` unless the argument is ``0`` or ``0xffffffff``
  (the query), so ``ADDR_NO_RANDOMIZE``/``READ_IMPLIES_EXEC`` cannot be set.

Integer arguments the kernel declares as ``int`` are compared on their low 32
bits only (masked equality), because the kernel ignores the high half and a
full 64-bit comparison could be bypassed by setting it.

The filter is tied to the native architecture; a syscall made through any
other ABI (``int 0x80`` i386 compat calls on x86_64, x32 calls) kills the
whole process, which closes the classic "same syscall, other number" bypass.
The filter is loaded with ``TSYNC`` so it covers every thread of the process,
and with the ``NO_NEW_PRIVS`` attribute so it loads without privileges.

``pyseccomp`` is imported lazily: importing it runs ``ctypes.util.find_library``,
which may execute ``ldconfig``, so call into this module *before* Landlock
removes exec rights (see ``ramparts.sandbox.landlock``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import termios
from types import ModuleType
from typing import Any

from ramparts.errors import SandboxError

__all__ = ["DENIED_SYSCALLS", "available", "install_filter", "lock_subreaper"]

#: Syscalls refused outright with ``EPERM``; names unknown on the running
#: architecture are skipped.  Argument-dependent rules are in the module docstring.
DENIED_SYSCALLS: tuple[str, ...] = (
    # debugging other processes and reading/writing their memory or fds
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    # mounts, roots and namespaces
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
    # kernel code and kernel attack surface
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    # file handles bypass path-based checks
    "open_by_handle_at",
    "name_to_handle_at",
    # host-global state
    "swapon",
    "swapoff",
    "reboot",
    "iopl",
    "ioperm",
    "acct",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "quotactl",
    "lookup_dcookie",
    "fanotify_init",
    "vhangup",
    "syslog",
    # anonymous files live on no path a Landlock rule covers: a memfd holding ld.so or
    # any ELF would be executable, around allow_exec (execveat with AT_EMPTY_PATH)
    "memfd_create",
    "memfd_secret",
)

# clone(2) flags.  CLONE_NEWTIME shares its bit with the exit-signal byte of
# clone(2); no valid signal uses it, so refusing it there costs nothing.
_CLONE_NEWTIME = 0x00000080
_CLONE_PARENT = 0x00008000
_CLONE_NEWNS = 0x00020000
_CLONE_NEWCGROUP = 0x02000000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_CLONE_DENIED_FLAGS = (
    _CLONE_NEWNS,
    _CLONE_NEWUTS,
    _CLONE_NEWIPC,
    _CLONE_NEWUSER,
    _CLONE_NEWPID,
    _CLONE_NEWNET,
    _CLONE_NEWCGROUP,
    _CLONE_NEWTIME,
    _CLONE_PARENT,
)

_AF_INET = 2
_AF_INET6 = 10
_AF_PACKET = 17
_AF_MAX = 64  # above every family Linux defines (46 in 6.x)
_ALLOWED_FAMILIES = frozenset({1, 2, 10, 16})  # AF_UNIX, AF_INET, AF_INET6, AF_NETLINK
_PR_SET_DUMPABLE = 4
_SOCK_RAW = 3
_SOCK_TYPE_MASK = 0xF  # the rest of ``type`` is SOCK_NONBLOCK / SOCK_CLOEXEC
_INT_MASK = 0xFFFFFFFF
_PERSONALITY_QUERY = 0xFFFFFFFF

_PR_GET_SECCOMP = 21
_SECCOMP_MODE_FILTER = 2
_PR_SET_CHILD_SUBREAPER = 36

# libseccomp API level 3 = the kernel has SECCOMP_GET_ACTION_AVAIL and
# SECCOMP_RET_KILL_PROCESS; level 2 (TSYNC) is implied.
_MIN_API_LEVEL = 3


def available() -> bool:
    """Whether seccomp filters can be installed here.

    Checks that libseccomp loads through ``pyseccomp``, that the kernel reports
    seccomp (``Seccomp:`` in ``/proc/self/status`` and a working
    ``PR_GET_SECCOMP``), and that the kernel knows the actions we rely on
    (libseccomp API level >= 3: ``KILL_PROCESS`` and thread sync).
    """
    try:
        sc = _load_pyseccomp()
    except SandboxError:
        return False
    try:
        with open("/proc/self/status", "rb") as status:
            if not any(line.startswith(b"Seccomp:") for line in status):
                return False
    except OSError:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.restype = ctypes.c_int
    if libc.prctl(ctypes.c_int(_PR_GET_SECCOMP), ctypes.c_ulong(0)) < 0:
        return False
    try:
        return sc.get_api() >= _MIN_API_LEVEL
    except (NotImplementedError, OSError):
        return False


def install_filter() -> None:
    """Load the worker's deny-list filter; raise ``SandboxError`` if it cannot.

    Python keeps working afterwards, including threads, ``os.fork`` and
    ``subprocess``.  The filter is permanent for this process and every
    process it spawns.
    """
    sc = _load_pyseccomp()
    try:
        flt = _new_filter(sc)
        eperm = sc.ERRNO(errno.EPERM)
        for name in DENIED_SYSCALLS:
            nr = _resolve(sc, name)
            if nr is not None:
                flt.add_rule(eperm, nr)
        _add_clone_rules(sc, flt)
        _add_socket_rules(sc, flt)
        _add_ioctl_rules(sc, flt)
        _add_personality_rules(sc, flt)
        prctl = _resolve(sc, "prctl")
        if prctl is not None:
            flt.add_rule(eperm, prctl, sc.Arg(0, sc.MASKED_EQ, _INT_MASK, _PR_SET_DUMPABLE))
        flt.load()
        _check_filter_mode()
    except OSError as exc:
        raise SandboxError(f"cannot install the seccomp filter: {_describe(exc)}") from exc


def lock_subreaper() -> None:
    """Stack a filter that makes ``prctl(PR_SET_CHILD_SUBREAPER, ...)`` fail with ``EPERM``.

    A worker marks itself child subreaper so that orphans of the processes it
    spawns are re-parented to it, not to the host's init, and it can kill the
    whole subtree.  Locking the setting keeps handler code from turning it off
    (letting its grandchildren escape) or from making a child a subreaper.
    """
    sc = _load_pyseccomp()
    try:
        flt = _new_filter(sc)
        nr = _resolve(sc, "prctl")
        if nr is None:
            raise SandboxError("cannot lock the subreaper: no prctl syscall on this architecture")
        flt.add_rule(
            sc.ERRNO(errno.EPERM),
            nr,
            sc.Arg(0, sc.MASKED_EQ, _INT_MASK, _PR_SET_CHILD_SUBREAPER),
        )
        flt.load()
        _check_filter_mode()
    except OSError as exc:
        raise SandboxError(f"cannot install the subreaper filter: {_describe(exc)}") from exc


def _load_pyseccomp() -> ModuleType:
    """Import pyseccomp on demand; it loads libseccomp with ctypes at import time.

    That import locates the library with ``ctypes.util.find_library``, which
    executes ``/sbin/ldconfig``: once Landlock forbids that, the import fails,
    so the first call into this module must come before ``landlock.restrict``.
    """
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError) as exc:
        raise SandboxError(f"seccomp unavailable: cannot load libseccomp ({exc})") from exc
    return pyseccomp


def _new_filter(sc: ModuleType) -> Any:
    """A default-allow filter for the native arch only; other ABIs kill the process."""
    flt = sc.SyscallFilter(sc.ALLOW)
    if flt.exist_arch(sc.Arch.NATIVE) is not True:  # seccomp_init adds native only
        raise SandboxError("seccomp filter does not cover the native architecture")
    flt.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    flt.set_attr(sc.Attr.CTL_NNP, 1)
    flt.set_attr(sc.Attr.CTL_TSYNC, 1)
    return flt


def _check_filter_mode() -> None:
    """Trust the kernel, not the library: the process must now be in filter mode (2)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.restype = ctypes.c_int
    mode = libc.prctl(ctypes.c_int(_PR_GET_SECCOMP), ctypes.c_ulong(0))
    if mode != _SECCOMP_MODE_FILTER:
        raise SandboxError(f"seccomp filter did not take effect (PR_GET_SECCOMP = {mode})")


def _resolve(sc: ModuleType, name: str) -> int | None:
    """The native syscall number for ``name``, or None when this arch lacks it.

    libseccomp answers ``-1`` for unknown names and negative pseudo-numbers
    for syscalls that exist only on other architectures.
    """
    nr = int(sc.resolve_syscall(sc.Arch.NATIVE, name))
    return nr if nr >= 0 else None


def _clone_flags_arg(sc: ModuleType) -> int:
    """Index of clone's flags argument: s390 swaps the first two arguments."""
    return 1 if sc.system_arch() in (sc.Arch.S390, sc.Arch.S390X) else 0


def _add_clone_rules(sc: ModuleType, flt: Any) -> None:
    clone = _resolve(sc, "clone")
    if clone is None:
        raise SandboxError("no clone syscall on this architecture; cannot filter its flags")
    arg = _clone_flags_arg(sc)
    for flag in _CLONE_DENIED_FLAGS:
        flt.add_rule(sc.ERRNO(errno.EPERM), clone, sc.Arg(arg, sc.MASKED_EQ, flag, flag))
    clone3 = _resolve(sc, "clone3")
    if clone3 is not None:
        flt.add_rule(sc.ERRNO(errno.ENOSYS), clone3)


def _add_socket_rules(sc: ModuleType, flt: Any) -> None:
    socket = _resolve(sc, "socket")
    if socket is None:
        raise SandboxError("no socket syscall on this architecture; cannot filter its families")
    eperm = sc.ERRNO(errno.EPERM)
    refused = sc.ERRNO(errno.EAFNOSUPPORT)
    for family in range(_AF_MAX):
        if family not in _ALLOWED_FAMILIES:
            flt.add_rule(refused, socket, sc.Arg(0, sc.MASKED_EQ, _INT_MASK, family))
    # Beyond the families the kernel knows today: one comparison covers them all.
    flt.add_rule(refused, socket, sc.Arg(0, sc.GE, _AF_MAX))
    socketpair = _resolve(sc, "socketpair")
    if socketpair is not None:  # only AF_UNIX makes pairs; refuse the rest before the kernel
        for family in range(_AF_MAX):
            if family != 1:
                flt.add_rule(refused, socketpair, sc.Arg(0, sc.MASKED_EQ, _INT_MASK, family))
        flt.add_rule(refused, socketpair, sc.Arg(0, sc.GE, _AF_MAX))
    for family in (_AF_INET, _AF_INET6):
        flt.add_rule(
            eperm,
            socket,
            sc.Arg(0, sc.MASKED_EQ, _INT_MASK, family),
            sc.Arg(1, sc.MASKED_EQ, _SOCK_TYPE_MASK, _SOCK_RAW),
        )


def _add_ioctl_rules(sc: ModuleType, flt: Any) -> None:
    ioctl = _resolve(sc, "ioctl")
    if ioctl is None:
        raise SandboxError("no ioctl syscall on this architecture; cannot filter TIOCSTI")
    for request in (termios.TIOCSTI, getattr(termios, "TIOCLINUX", None)):
        if request is not None:
            flt.add_rule(sc.ERRNO(errno.EPERM), ioctl, sc.Arg(1, sc.MASKED_EQ, _INT_MASK, request))


def _add_personality_rules(sc: ModuleType, flt: Any) -> None:
    """Refuse every personality value except 0 and the 0xffffffff query.

    libseccomp (2.5) refuses two comparisons of the same argument in one rule,
    so "!= 0 and != 0xffffffff" is spelt as a union of single comparisons:
    anything above 32 bits, plus every value whose low 32 bits are neither all
    zeros nor all ones, which is exactly the values with two adjacent bits
    that differ (31 bit pairs, two patterns each).
    """
    personality = _resolve(sc, "personality")
    if personality is None:
        return
    eperm = sc.ERRNO(errno.EPERM)
    flt.add_rule(eperm, personality, sc.Arg(0, sc.GT, _PERSONALITY_QUERY))
    for bit in range(31):
        pair = 0b11 << bit
        for pattern in (0b01 << bit, 0b10 << bit):
            flt.add_rule(eperm, personality, sc.Arg(0, sc.MASKED_EQ, pair, pattern))


def _describe(exc: OSError) -> str:
    if exc.errno is not None:
        return f"{errno.errorcode.get(exc.errno, exc.errno)} ({os.strerror(exc.errno)})"
    return str(exc)
