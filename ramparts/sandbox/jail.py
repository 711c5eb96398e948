"""Putting a fresh zygote process inside its sandbox, before any user code runs.

The zygote's process (forked by the zygote template, or a fresh ``python -I
-S``) starts as the node's user; the first thing it does is call ``enter``:

1. ``unshare`` mount, PID, network, IPC, UTS and cgroup namespaces.  A root
   node does this as root, so the namespaces belong to the host's user
   namespace and the sandbox's own user namespace, made last, holds no power
   over them; an unprivileged node unshares a user namespace with them,
   mapping its one uid to the sandbox user (993, Lambda's ``sbx_user1051``);
2. bring up loopback and bind the egress forwarder (127.0.0.1:3128) and the
   node-endpoint listener;
3. fork: the child becomes PID 1 of the new PID namespace and goes on to be
   the zygote; the parent stays behind as the *keeper*, outside the PID
   namespace, where no handler can see or signal it.  It reports the
   zygote's pid, passes proxied connections to the host and exits with the
   zygote.  On a root node it first becomes the version's host uid;
4. the zygote lays out its filesystem (``filesystem.build``: binds made with
   the node's rights, so a 0700 data dir can be a source), then, on a root
   node, becomes the version's own host uid from a reserved range (per-uid
   limits such as RLIMIT_NPROC become per function) in a user namespace of
   its own that maps it to 993: the handler is never root, not even inside.

``seal`` then sets rlimits, Landlock, drops every capability, sets
no-new-privileges and non-dumpable, and installs the seccomp filter.  Each of
these stops the attacks of the sandbox test suite on its own.  Stdlib only,
plus the sandbox modules beside it.
"""

from __future__ import annotations

import encodings.ascii  # noqa: F401 - the keeper decodes after it lost the host's paths
import json
import os
import resource
import signal
import socket
import struct
import sys
import traceback
from typing import Any

from ramparts.errors import SandboxError
from ramparts.sandbox import _libc as libc
from ramparts.sandbox import filesystem, forwarder, landlock, privileges, seccomp

SANDBOX_UID = 993
SANDBOX_GID = 990
SANDBOX_USER = "sbx_user1051"
HOSTNAME = "localhost"

_NAMESPACES = (
    libc.CLONE_NEWUSER
    | libc.CLONE_NEWNS
    | libc.CLONE_NEWPID
    | libc.CLONE_NEWNET
    | libc.CLONE_NEWIPC
    | libc.CLONE_NEWUTS
)


def enter(sb: dict[str, Any]) -> None:
    """Move this process into a new sandbox; returns in the zygote (PID 1 inside).

    ``sb`` is the sandbox part of the zygote's config (see
    ``ramparts.runtime.supervisor``).  Any failure raises ``SandboxError``:
    the zygote then reports it and exits, and the deploy or call fails closed.
    """
    try:
        _enter(sb)
    except SandboxError:
        raise
    except OSError as exc:
        raise SandboxError(f"sandbox setup failed: {exc.strerror or exc}") from None


def _enter(sb: dict[str, Any]) -> None:
    binds = _binds(sb)
    uid = sb.get("host_uid")
    as_root = uid is not None and os.geteuid() == 0
    if as_root:
        # The namespaces belong to the host's user namespace: the sandbox's own user
        # namespace, made later, holds no power over its mounts, network or PIDs.
        libc.unshare(_NAMESPACES & ~libc.CLONE_NEWUSER | _cgroup_flag(sb))
    else:
        _own_user_namespace(_NAMESPACES | _cgroup_flag(sb))
    libc.loopback_up()
    libc.sethostname(HOSTNAME)
    listeners = [(forwarder.bind_listener(), forwarder.PROXY_TAG)]
    node_port = sb.get("node_port")
    if node_port:
        # The node's own endpoint at its public (loopback) URL, relayed by the host as is.
        listeners.append((forwarder.bind_listener(int(node_port)), forwarder.NODE_TAG))
    egress_fd = int(sb["egress_fd"])
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(ready_r)
        if as_root:
            _switch_uid(int(uid))  # leaving root drops every capability with it
        _keeper(pid, listeners, egress_fd, int(sb["ctl_fd"]), ready_w, has_caps=not as_root)
    os.close(ready_w)
    for listener, _ in listeners:
        listener.close()
    os.close(egress_fd)
    privileges.set_pdeathsig(signal.SIGKILL)
    # Wait until the keeper told the host our pid, so that frame comes first.
    os.read(ready_r, 1)
    os.close(ready_r)
    filesystem.build(
        binds,
        hide=[p for p in sb.get("hide", []) if p],
        tmp_mb=int(sb.get("tmp_mb", 512)),
        passwd=f"{SANDBOX_USER}:x:{SANDBOX_UID}:{SANDBOX_GID}::/tmp:/sbin/nologin\n",
        group=f"{SANDBOX_USER}:x:{SANDBOX_GID}:\n",
    )
    if as_root:
        _switch_uid(int(uid))
        _own_user_namespace(libc.CLONE_NEWUSER)
    os.chdir(filesystem.TASK_ROOT)
    _relocate_runtime()


def _cgroup_flag(sb: dict[str, Any]) -> int:
    return libc.CLONE_NEWCGROUP if sb.get("cgroup_ns", True) else 0


def _switch_uid(uid: int) -> None:
    """Become the version's own host uid; every capability goes with root."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    privileges.set_pdeathsig(signal.SIGKILL)  # a uid change clears it
    if os.getppid() == 1:
        os._exit(0)  # the parent died before we got here


def _own_user_namespace(flags: int) -> None:
    """Unshare with a new user namespace mapping our one uid to the sandbox user."""
    _prctl(_PR_SET_DUMPABLE, 1)  # /proc/self/uid_map is writable only when dumpable
    outer_uid, outer_gid = os.geteuid(), os.getegid()
    libc.unshare(flags)
    libc.write_file("/proc/self/setgroups", "deny")
    libc.write_file("/proc/self/uid_map", f"{SANDBOX_UID} {outer_uid} 1\n")
    libc.write_file("/proc/self/gid_map", f"{SANDBOX_GID} {outer_gid} 1\n")


def _relocate_runtime() -> None:
    """Point the already-imported ``ramparts`` packages at their path inside the sandbox."""
    old = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../ramparts
    new = filesystem.RUNTIME_ROOT + "/ramparts"
    for name, module in list(sys.modules.items()):
        if name != "ramparts" and not name.startswith("ramparts."):
            continue
        path = getattr(module, "__path__", None)
        if isinstance(path, list):
            path[:] = [new + p[len(old) :] if p.startswith(old) else p for p in path]


def preload(pyseccomp_path: str | None, sb: dict[str, Any]) -> None:
    """Import now what the sandbox needs later, while the host's paths still exist.

    pyseccomp lives in the node's environment, which the sandbox never sees: it is
    loaded from its file, and libseccomp with it (finding it runs ldconfig).
    """
    import importlib.util

    if pyseccomp_path and "pyseccomp" not in sys.modules:
        spec = importlib.util.spec_from_file_location("pyseccomp", pyseccomp_path)
        if spec is None or spec.loader is None:
            raise SandboxError("pyseccomp is not importable")
        module = importlib.util.module_from_spec(spec)
        sys.modules["pyseccomp"] = module
        import ctypes.util

        # pyseccomp finds libc and libseccomp with find_library, which runs ldconfig
        # (a process, ~5 ms each): the host looked them up once for every zygote.
        known = {k: v for k, v in (sb.get("libs") or {}).items() if v}
        real = ctypes.util.find_library
        ctypes.util.find_library = lambda name: known.get(name) or real(name)
        try:
            spec.loader.exec_module(module)
        finally:
            ctypes.util.find_library = real
    skip = sb.get("skip") or ()
    if "seccomp" not in skip and not seccomp.available():
        raise SandboxError("seccomp is not available")


def seal(sb: dict[str, Any]) -> None:
    """The last layers, once the filesystem is in place: limits, Landlock, privileges, seccomp."""
    skip = set(sb.get("skip") or ())
    try:
        _rlimits(sb)
        privileges.no_new_privs()
        if "landlock" not in skip:
            _landlock(sb)
        privileges.drop_capabilities()
        privileges.not_dumpable()
        if "seccomp" not in skip:
            seccomp.install_filter()
    except OSError as exc:
        raise SandboxError(f"sandbox setup failed: {exc.strerror or exc}") from None


def _landlock(sb: dict[str, Any]) -> None:
    landlock.restrict(
        read_only=[
            "/usr",
            "/lib",
            "/lib64",
            "/lib32",
            "/libx32",
            "/etc",
            "/proc",
            "/dev/urandom",
            "/dev/random",
            filesystem.TASK_ROOT,
            filesystem.DEPS_ROOT,
            filesystem.RUNTIME_ROOT,
            *sb.get("read_only", []),
        ],
        read_write=[
            filesystem.TMP,
            filesystem.SHM,
            "/dev/null",
            "/dev/zero",
            "/dev/full",
            *(target for _, target in sb.get("writable", [])),
        ],
        executable=_executables(sb),
        connect_ports=[forwarder.PROXY_PORT, *([sb["node_port"]] if sb.get("node_port") else [])],
        bind_ports=[],
    )


def _executables(sb: dict[str, Any]) -> list[str]:
    """allow_exec, plus the ELF loader the kernel opens (with exec rights) to start them.

    Landlock cannot tell "load as interpreter" from "execute", so a function that may
    run a program may also run ``ld.so PROGRAM``; /tmp is noexec and the code dir is
    read-only, and the kernel layers confine whatever runs.
    """
    # Regular files only: a directory rule would make all below it executable.
    allowed = [p for p in sb.get("allow_exec", []) if os.path.isfile(p)]
    if allowed:
        import glob

        for pattern in (
            "/lib64/ld-linux*.so*",
            "/lib/ld-linux*.so*",
            "/lib/ld-musl*.so*",
            "/usr/lib/*-linux-gnu/ld-linux*.so*",
            "/lib/*-linux-gnu/ld-linux*.so*",
        ):
            allowed.extend(glob.glob(pattern))
    return allowed


def _rlimits(sb: dict[str, Any]) -> None:
    limits = sb.get("limits") or {}
    pairs = [
        (resource.RLIMIT_NPROC, limits.get("processes")),
        (resource.RLIMIT_NOFILE, limits.get("open_files")),
        (resource.RLIMIT_FSIZE, limits.get("file_size")),
        (resource.RLIMIT_CORE, 0),
    ]
    if sb.get("rlimit_data"):
        pairs.append((resource.RLIMIT_DATA, sb["rlimit_data"]))
    for which, value in pairs:
        if value is None:
            continue
        value = int(value)
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY and hard < value:
            value = hard
        resource.setrlimit(which, (value, value))


def _binds(sb: dict[str, Any]) -> list[filesystem.Bind]:
    binds: list[filesystem.Bind] = []

    def add(source: str, target: str) -> None:
        if not os.path.exists(source):
            raise SandboxError(f"cannot bind {target} into the sandbox: it does not exist")
        binds.append(filesystem.Bind(source, target))

    for source, target in filesystem.system_binds():
        add(source, target)
    system = [t for _, t in filesystem.system_binds()]
    for prefix in sb.get("python", []):
        if not any(prefix == d or prefix.startswith(d + "/") for d in system):
            add(prefix, prefix)
    add(sb["code_dir"], filesystem.TASK_ROOT)
    if sb.get("deps_dir"):
        add(sb["deps_dir"], filesystem.DEPS_ROOT)
    add(sb["runtime_pkg"], filesystem.RUNTIME_ROOT + "/ramparts")
    for source, target in sb.get("extra_ro", []):
        add(source, target)
    for source, target in sb.get("writable", []):
        # The one place a sandbox writes outside /tmp: the deploy-time installer's target.
        if not os.path.isdir(source):
            raise SandboxError(f"cannot bind {target} into the sandbox: not a directory")
        binds.append(filesystem.Bind(source, target, writable=True))
    return binds


def _keeper(
    zygote: int,
    listeners: list[tuple[socket.socket, bytes]],
    egress_fd: int,
    ctl_fd: int,
    ready: int,
    *,
    has_caps: bool,
) -> None:
    """The parent left outside the PID namespace: report the zygote, forward egress, wait."""
    code = 1
    try:
        ctl = socket.socket(fileno=ctl_fd)
        # One frame in the runtime's framing (4-byte length, JSON): the zygote's real pid.
        body = json.dumps({"zygote_pid": zygote}).encode()
        ctl.sendall(struct.pack(">I", len(body)) + body)
        ctl.close()
        # Sealed before the zygote may go on: its pivot_root changes our root too.
        if has_caps:  # in its own user namespace: full capabilities there, until now
            privileges.drop_capabilities()
        privileges.no_new_privs()
        privileges.not_dumpable()
        seccomp.install_filter()
        stop = os.pidfd_open(zygote)
        os.write(ready, b"1")
        os.close(ready)
        keep = sorted({sock.fileno() for sock, _ in listeners} | {egress_fd, stop})
        low = 3
        for fd in keep:
            os.closerange(low, fd)
            low = fd + 1
        os.closerange(low, 65536)
        forwarder.serve(listeners, socket.socket(fileno=egress_fd), stop)
        _, status = os.waitpid(zygote, 0)
        code = os.waitstatus_to_exitcode(status)
        code = code if code >= 0 else 128 - code
    except BaseException:  # noqa: BLE001 - the keeper never returns into the runtime
        traceback.print_exc()  # to the zygote's stderr pipe: the node logs it
    finally:
        os._exit(code & 0xFF)


_PR_SET_DUMPABLE = 4


def _prctl(option: int, arg: int) -> None:
    import ctypes

    if libc.libc().prctl(option, ctypes.c_ulong(arg), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def python_roots() -> list[str]:
    """The interpreter's install dirs to bind (read-only, at their own paths)."""
    roots = {os.path.realpath(sys.base_prefix)}
    lib = os.path.dirname(os.path.realpath(os.__file__))  # .../lib/python3.11
    if not any(lib.startswith(r + "/") for r in roots):
        roots.add(lib)
    return sorted(roots)
