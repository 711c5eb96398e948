"""The worker's whole filesystem: a fresh read-only root laid out as on Lambda.

Built inside the sandbox's own mount namespace, then made the root with
``pivot_root`` and the host's tree detached, so nothing that is not bound in
here exists for the handler: not the data dir, not the node's virtualenv,
not other functions, not the host's /tmp.

    /var/task            the version's code (read-only)            LAMBDA_TASK_ROOT
    /opt/python          the version's own dependencies (read-only)
    /var/runtime/...     the ``ramparts`` package (read-only)
    <python prefix>      the interpreter's install, at its own path (read-only;
                         its site-packages hidden)
    /usr /lib /lib64     system libraries (read-only)
    /etc                 a handful of files: ld.so.cache, localtime, ssl, mime
                         types, and a generated passwd/group/hosts
    /dev                 null zero full random urandom, a private /dev/shm
    /proc                this sandbox's own PID namespace only
    /tmp                 private tmpfs, capped at ``tmp_mb``, noexec

The binds are made with the node's own rights (a root node gives up root
only afterwards), so a data dir of mode 0700 can still be bound; the paths
behind them are never traversed by the sandboxed uid.  Runs inside the
sandbox; stdlib only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ramparts.sandbox import _libc as libc

# Built as bubblewrap does: a scratch tmpfs over /tmp (a directory that exists
# everywhere, so nothing is created on the host) becomes the root for a while,
# with the host's tree at OLD and the new root being assembled at ROOT.
BASE = "/tmp"  # noqa: S108 - in the sandbox's own mount namespace
OLD = "/oldroot"
ROOT = "/newroot"
TASK_ROOT = "/var/task"
DEPS_ROOT = "/opt/python"
PIP_REPORT = ".pip-report.json"  # pip's --report in DEPS_ROOT; read and removed by the host
RUNTIME_ROOT = "/var/runtime"
TMP = "/tmp"  # noqa: S108 - the sandbox's own private tmpfs
SHM = "/dev/shm"  # noqa: S108 - likewise

_SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32")
_ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/mime.types",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
)
_DEVICES = ("null", "zero", "full", "random", "urandom")
_MERGED_USR_LINKS = ("bin", "sbin", "lib", "lib64", "lib32", "libx32")


@dataclass(frozen=True)
class Bind:
    """One read-only (or, for nothing but devices, read-write) bind into the root."""

    source: str
    target: str
    writable: bool = False


def system_binds() -> list[tuple[str, str]]:
    """(source, target) for the host's system dirs and /etc files that exist."""
    out: list[tuple[str, str]] = []
    for d in _SYSTEM_DIRS:
        if os.path.isdir(d) and not os.path.islink(d):
            out.append((d, d))
    for f in _ETC_FILES:
        if os.path.exists(f):
            out.append((os.path.realpath(f), f))
    return out


def build(
    binds: list[Bind],
    *,
    hide: list[str],
    tmp_mb: int,
    passwd: str,
    group: str,
) -> None:
    """Lay out the new root under ROOT and pivot into it; the old root is detached.

    Must run in a fresh mount namespace (and PID namespace, for /proc) with
    CAP_SYS_ADMIN in the owning user namespace.
    """
    libc.mount(None, "/", None, libc.MS_REC | libc.MS_PRIVATE, None)
    libc.mount("tmpfs", BASE, "tmpfs", libc.MS_NOSUID | libc.MS_NODEV, "mode=0700,size=64k")
    os.mkdir(BASE + OLD)
    libc.pivot_root(BASE, BASE + OLD)
    os.chdir("/")
    os.mkdir(ROOT)
    libc.mount("tmpfs", ROOT, "tmpfs", libc.MS_NOSUID | libc.MS_NODEV, "mode=0755,size=16m")
    # Merged-/usr hosts have /bin -> usr/bin and the like; keep the same links.
    for name in _MERGED_USR_LINKS:
        host = OLD + "/" + name
        if os.path.islink(host):
            os.symlink(os.readlink(host), ROOT + "/" + name)
    for b in binds:
        _bind(b)
    for path in hide:
        # A tree we bound (the Python prefix, /usr) may contain something the
        # handler must not see (site-packages, a venv or data dir under /usr).
        target = ROOT + path
        if os.path.isdir(target):
            libc.mount(
                "tmpfs",
                target,
                "tmpfs",
                libc.MS_RDONLY | libc.MS_NOSUID | libc.MS_NODEV,
                "mode=0555,size=4k",
            )
    _etc(passwd, group)
    _dev()
    _mkdir(ROOT + "/proc")
    libc.mount(
        "proc", ROOT + "/proc", "proc", libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC, None
    )
    _mkdir(ROOT + TMP)
    # noexec: nothing written at run time is executed or mapped as code (allow_exec
    # names files in the read-only code dir only).
    libc.mount(
        "tmpfs",
        ROOT + TMP,
        "tmpfs",
        libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC,
        f"mode=1777,size={int(tmp_mb)}m",
    )
    libc.umount(OLD, libc.MNT_DETACH)  # the host's tree, gone for good
    os.mkdir(ROOT + "/.old")
    libc.pivot_root(ROOT, ROOT + "/.old")
    os.chdir("/")
    libc.umount("/.old", libc.MNT_DETACH)
    os.rmdir("/.old")
    # The root itself read-only: only /tmp and /dev/shm take writes.
    libc.mount(
        None,
        "/",
        None,
        libc.MS_REMOUNT | libc.MS_BIND | libc.MS_RDONLY | libc.MS_NOSUID | libc.MS_NODEV,
        None,
    )


def _mkdir(path: str) -> None:
    os.makedirs(path, mode=0o755, exist_ok=True)


def _bind(b: Bind) -> None:
    target = ROOT + b.target
    src = OLD + b.source
    if os.path.isdir(src):
        _mkdir(target)
    else:
        _mkdir(os.path.dirname(target))
        if not os.path.exists(target):
            with open(target, "w"):
                pass
    libc.mount(src, target, None, libc.MS_BIND | libc.MS_REC, None)
    flags = libc.MS_REMOUNT | libc.MS_BIND | libc.MS_NOSUID | libc.statvfs_mount_flags(target)
    if not b.writable:
        flags |= libc.MS_RDONLY
    libc.mount(None, target, None, flags, None)


def _etc(passwd: str, group: str) -> None:
    etc = ROOT + "/etc"
    _mkdir(etc)
    files = {
        "passwd": passwd,
        "group": group,
        "hosts": "127.0.0.1 localhost\n::1 localhost\n",
        "hostname": "localhost\n",
        "resolv.conf": "",  # names resolve on the host, through the egress proxy
    }
    for name, text in files.items():
        with open(os.path.join(etc, name), "w") as f:
            f.write(text)


def _dev() -> None:
    dev = ROOT + "/dev"
    _mkdir(dev)
    libc.mount("tmpfs", dev, "tmpfs", libc.MS_NOSUID | libc.MS_NOEXEC, "mode=0755,size=64k")
    for name in _DEVICES:
        host = "/dev/" + name
        if not os.path.exists(OLD + host):  # the host's tree, until the final pivot
            continue
        _bind(Bind(host, "/dev/" + name, writable=True))
    _mkdir(dev + "/shm")
    libc.mount(
        "tmpfs",
        dev + "/shm",
        "tmpfs",
        libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC,
        "mode=1777,size=16m",
    )
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, f"{dev}/{name}")
