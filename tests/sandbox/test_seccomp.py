"""The worker's seccomp filter, exercised in real child interpreters.

Every test runs a fresh ``python -I -S`` (as the sandbox does), once with the
layer and once without, so a test fails when the layer stops doing its job
and also when the "attack" would not have worked anyway.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyseccomp
import pytest

from ramparts.sandbox import seccomp

REPO = Path(__file__).resolve().parents[2]
PATHS = [str(REPO), str(Path(pyseccomp.__file__).resolve().parent)]

PRELUDE = f"""
import sys
sys.path[:0] = {PATHS!r}
import ctypes, errno, json, os
APPLY = sys.argv[1] == "1"
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
L = ctypes.c_long

def sys_errno(nr, *args):
    ctypes.set_errno(0)
    rc = libc.syscall(L(nr), *[L(a) for a in args])
    return ctypes.get_errno() if rc == -1 else 0

def os_errno(fn, *args):
    try:
        fn(*args)
    except OSError as exc:
        return exc.errno
    return 0

from ramparts.sandbox import seccomp
out = {{}}
"""

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="the control (attack without the filter) needs root"
)
x86_64_only = pytest.mark.skipif(
    platform.machine() != "x86_64", reason="syscall numbers and shellcode are x86_64"
)


def _run(body: str, apply: bool, **kwargs: object) -> subprocess.CompletedProcess[str]:
    code = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, "1" if apply else "0"],
        capture_output=True,
        text=True,
        timeout=20,
        **kwargs,
    )


def _results(body: str, apply: bool) -> dict[str, object]:
    proc = _run(body, apply)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_available() -> None:
    assert seccomp.available() is True


@needs_root
@x86_64_only
def test_namespace_debug_and_mount_syscalls_fail_with_eperm() -> None:
    body = """
    if APPLY:
        seccomp.install_filter()
    SYS_ptrace, SYS_mount, SYS_unshare, SYS_process_vm_readv = 101, 165, 272, 310
    CLONE_NEWUSER = 0x10000000

    out["unshare"] = sys_errno(SYS_unshare, CLONE_NEWUSER)

    # PTRACE_TRACEME in a throw-away child, so nothing ends up traced by pytest.
    pid = os.fork()
    if pid == 0:
        os._exit(sys_errno(SYS_ptrace, 0, 0, 0, 0))
    out["ptrace"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    # Read our own memory through process_vm_readv.
    class IoVec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    src, dst = ctypes.create_string_buffer(b"secret"), ctypes.create_string_buffer(6)
    local, remote = IoVec(ctypes.addressof(dst), 6), IoVec(ctypes.addressof(src), 6)
    ctypes.set_errno(0)
    n = libc.syscall(L(SYS_process_vm_readv), L(os.getpid()), ctypes.byref(local), L(1),
                     ctypes.byref(remote), L(1), L(0))
    out["process_vm_readv"] = ctypes.get_errno() if n == -1 else dst.raw.decode()

    # Without the filter the kernel gets as far as the path lookup (ENOENT).
    ctypes.set_errno(0)
    rc = libc.mount(None, b"/nonexistent-ramparts-mountpoint", b"tmpfs", L(0), None)
    out["mount"] = ctypes.get_errno() if rc == -1 else 0
    """
    with_filter, without = _results(body, True), _results(body, False)
    assert without == {
        "unshare": 0,
        "ptrace": 0,
        "process_vm_readv": "secret",
        "mount": 2,  # ENOENT
    }
    assert with_filter == {"unshare": 1, "ptrace": 1, "process_vm_readv": 1, "mount": 1}


@needs_root
def test_raw_and_packet_sockets_fail_but_ordinary_sockets_work() -> None:
    body = """
    import socket
    if APPLY:
        seccomp.install_filter()

    def make(*args):
        def go():
            socket.socket(*args).close()
        return os_errno(go)

    out["packet"] = make(socket.AF_PACKET, socket.SOCK_RAW)
    out["inet_raw"] = make(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    out["inet6_raw"] = make(socket.AF_INET6, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                            socket.IPPROTO_ICMPV6)
    # The kernel reads socket()'s family as an int: high bits must not bypass the rule.
    ctypes.set_errno(0)
    fd = libc.syscall(L(41), L((1 << 32) | socket.AF_PACKET), L(socket.SOCK_RAW), L(0))
    out["packet_high_bits"] = ctypes.get_errno() if fd == -1 else 0
    out["tcp"] = make(socket.AF_INET, socket.SOCK_STREAM)
    out["udp6"] = make(socket.AF_INET6, socket.SOCK_DGRAM)
    out["netlink"] = make(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    out["socketpair"] = os_errno(lambda: [s.close() for s in socket.socketpair()])
    # Families beyond unix/inet/inet6/netlink: vsock reaches a VM's host around the
    # network namespace, AF_ALG is kernel crypto surface.
    out["vsock"] = make(socket.AF_VSOCK, socket.SOCK_STREAM)
    out["alg"] = make(socket.AF_ALG, socket.SOCK_SEQPACKET)
    """
    with_filter, without = _results(body, True), _results(body, False)
    assert set(without.values()) <= {0, errno.ENODEV, errno.EAFNOSUPPORT}, without
    assert without["packet"] == 0, without  # AF_ALG and vsock may be absent from a kernel
    assert with_filter == {
        "packet": errno.EAFNOSUPPORT,
        "inet_raw": errno.EPERM,
        "inet6_raw": errno.EPERM,
        "packet_high_bits": errno.EAFNOSUPPORT,
        "tcp": 0,
        "udp6": 0,
        "netlink": 0,
        "socketpair": 0,
        "vsock": errno.EAFNOSUPPORT,
        "alg": errno.EAFNOSUPPORT,
    }


@x86_64_only
def test_clone_namespace_flags_and_clone3_are_refused() -> None:
    body = """
    import signal
    SYS_clone, SYS_clone3 = 56, 435
    CLONE_NEWUSER, CLONE_NEWNET, CLONE_PARENT = 0x10000000, 0x40000000, 0x00008000
    if APPLY:
        seccomp.install_filter()

    def clone(flags):
        ctypes.set_errno(0)
        pid = libc.syscall(L(SYS_clone), L(flags | signal.SIGCHLD), L(0), L(0), L(0), L(0))
        if pid == 0:
            os._exit(0)
        if pid == -1:
            return ctypes.get_errno()
        os.waitpid(pid, 0)
        return 0

    out["newuser"] = clone(CLONE_NEWUSER)
    out["plain"] = clone(0)
    if APPLY:  # without the filter this would leave a zombie with pytest
        out["parent"] = clone(CLONE_PARENT)
        out["newnet"] = clone(CLONE_NEWNET)
    # A NULL clone_args of size 0: EINVAL from the kernel, ENOSYS from the filter.
    out["clone3"] = sys_errno(SYS_clone3, 0, 0)
    """
    with_filter, without = _results(body, True), _results(body, False)
    if os.geteuid() == 0:
        assert without == {"newuser": 0, "plain": 0, "clone3": 22}  # EINVAL
    else:
        assert without["plain"] == 0 and without["clone3"] == 22
    assert with_filter == {"newuser": 1, "plain": 0, "parent": 1, "newnet": 1, "clone3": 38}


def test_python_fork_threads_and_subprocess_keep_working() -> None:
    body = """
    import subprocess, threading
    if APPLY:
        seccomp.install_filter()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    seen = []
    threads = [threading.Thread(target=seen.append, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["threads"] = sorted(seen)
    out["subprocess"] = subprocess.run(["/bin/true"]).returncode
    out["subprocess_output"] = subprocess.run(
        ["/bin/echo", "hi"], capture_output=True, text=True
    ).stdout
    status = open("/proc/self/status").read()
    out["seccomp_mode"] = [l.split()[1] for l in status.splitlines()
                           if l.startswith("Seccomp:")][0]
    """
    expected = {
        "fork": 7,
        "threads": [0, 1, 2, 3],
        "subprocess": 0,
        "subprocess_output": "hi\n",
    }
    with_filter, without = _results(body, True), _results(body, False)
    assert with_filter == {**expected, "seccomp_mode": "2"}
    assert without == {**expected, "seccomp_mode": "0"}


@x86_64_only
def test_personality_allows_only_the_query_and_the_default() -> None:
    body = """
    SYS_personality = 135
    ADDR_NO_RANDOMIZE = 0x0040000
    if APPLY:
        seccomp.install_filter()
    out["query"] = sys_errno(SYS_personality, 0xFFFFFFFF)
    out["default"] = sys_errno(SYS_personality, 0)
    out["no_aslr"] = sys_errno(SYS_personality, ADDR_NO_RANDOMIZE)
    out["no_aslr_high_bits"] = sys_errno(SYS_personality, (1 << 32) | ADDR_NO_RANDOMIZE)
    out["all_but_one"] = sys_errno(SYS_personality, 0xFFFFFFFE)
    sys_errno(SYS_personality, 0)
    """
    with_filter, without = _results(body, True), _results(body, False)
    assert set(without.values()) == {0}, without
    assert with_filter == {
        "query": 0,
        "default": 0,
        "no_aslr": 1,
        "no_aslr_high_bits": 1,
        "all_but_one": 1,
    }


@needs_root
@x86_64_only
def test_tiocsti_is_refused_even_with_high_bits_set() -> None:
    body = """
    import fcntl, termios
    master, slave = os.openpty()
    if APPLY:
        seccomp.install_filter()
    out["tiocsti"] = os_errno(fcntl.ioctl, slave, termios.TIOCSTI, b"x")
    # The kernel reads the request as an unsigned int; fcntl.ioctl would truncate it
    # for us, so go through syscall(2) to set the high bits.
    char = ctypes.create_string_buffer(b"y")
    ctypes.set_errno(0)
    rc = libc.syscall(L(16), L(slave), L((1 << 32) | termios.TIOCSTI), char)
    out["tiocsti_high_bits"] = ctypes.get_errno() if rc == -1 else 0
    out["tcgets"] = os_errno(termios.tcgetattr, slave)
    """
    with_filter, without = _results(body, True), _results(body, False)
    if without["tiocsti"] != 0:
        pytest.skip(f"TIOCSTI does not work here even without the filter: {without}")
    assert without == {"tiocsti": 0, "tiocsti_high_bits": 0, "tcgets": 0}
    assert with_filter == {"tiocsti": 1, "tiocsti_high_bits": 1, "tcgets": 0}


def test_every_denied_syscall_returns_eperm() -> None:
    # No control run here: calling these for real would touch host state.  The
    # other tests show the attacks work unfiltered; this one checks coverage.
    body = """
    import pyseccomp
    seccomp.install_filter()
    for name in seccomp.DENIED_SYSCALLS:
        nr = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
        if nr >= 0:
            out[name] = sys_errno(nr, 0, 0, 0, 0, 0, 0)
    """
    proc = _run(body, True, stdin=subprocess.DEVNULL, start_new_session=True)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.splitlines()[-1])
    assert {"ptrace", "bpf", "io_uring_setup", "unshare", "setns", "mount"} <= results.keys()
    assert {name: code for name, code in results.items() if code != 1} == {}


@x86_64_only
def test_foreign_abi_syscalls_kill_the_process() -> None:
    # i386 getpid (20) through int 0x80, then an x32-numbered getpid (39).
    body = """
    import mmap
    code = bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3])  # mov eax, 20; int 0x80; ret
    buf = mmap.mmap(-1, mmap.PAGESIZE,
                    prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    buf.write(code)
    int80 = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(buf)))
    if APPLY:
        seccomp.install_filter()
    mode = sys.argv[2]
    if mode == "i386":
        out["pid_matches"] = int80() == os.getpid()
    else:
        out["x32_errno"] = sys_errno(0x40000000 | 39)
    """

    def run(apply: bool, mode: str) -> subprocess.CompletedProcess[str]:
        code = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
        return subprocess.run(
            [sys.executable, "-I", "-S", "-c", code, "1" if apply else "0", mode],
            capture_output=True,
            text=True,
            timeout=20,
        )

    control = run(False, "i386")
    if control.returncode != 0:
        pytest.skip("no i386 compat syscalls in this kernel (ia32_emulation off)")
    assert json.loads(control.stdout) == {"pid_matches": True}
    assert run(True, "i386").returncode == -signal.SIGSYS

    x32_control = run(False, "x32")
    assert x32_control.returncode == 0, x32_control.stderr  # ENOSYS or a pid: it ran
    assert run(True, "x32").returncode == -signal.SIGSYS


@x86_64_only
def test_lock_subreaper_refuses_changes_but_keeps_the_query() -> None:
    body = """
    PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37
    Z = ctypes.c_ulong(0)
    libc.prctl(PR_SET_CHILD_SUBREAPER, ctypes.c_ulong(1), Z, Z, Z)
    if APPLY:
        seccomp.lock_subreaper()

    def prctl(option, arg):
        ctypes.set_errno(0)
        rc = libc.prctl(option, ctypes.c_ulong(arg), Z, Z, Z)
        return ctypes.get_errno() if rc == -1 else 0

    out["unset"] = prctl(PR_SET_CHILD_SUBREAPER, 0)
    out["set"] = prctl(PR_SET_CHILD_SUBREAPER, 1)
    value = ctypes.c_int(-1)
    libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.c_ulong(ctypes.addressof(value)), Z, Z, Z)
    out["still_subreaper"] = value.value
    # A high-bits variant of the option must not slip past the filter.
    out["unset_high_bits"] = sys_errno(157, (1 << 32) | PR_SET_CHILD_SUBREAPER, 0)
    pid = os.fork()
    if pid == 0:
        os._exit(3)
    out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    """
    with_lock, without = _results(body, True), _results(body, False)
    assert without == {
        "unset": 0,
        "set": 0,
        "still_subreaper": 1,
        "unset_high_bits": 0,
        "fork": 3,
    }
    assert with_lock == {
        "unset": 1,
        "set": 1,
        "still_subreaper": 1,
        "unset_high_bits": 1,
        "fork": 3,
    }


@x86_64_only
def test_lock_subreaper_stacks_on_the_main_filter() -> None:
    body = """
    seccomp.install_filter()
    seccomp.lock_subreaper()
    status = open("/proc/self/status").read()
    out["filters"] = [l.split()[1] for l in status.splitlines()
                      if l.startswith("Seccomp_filters:")][0]
    out["unshare"] = sys_errno(272, 0x10000000)
    out["subreaper"] = sys_errno(157, 36, 0)
    """
    assert _results(body, True) == {"filters": "2", "unshare": 1, "subreaper": 1}
