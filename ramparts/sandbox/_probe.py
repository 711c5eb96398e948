"""The probe's child process: set every layer up for real and say which worked.

Run by ``layers.probe`` in a throwaway interpreter; prints one JSON object
``{layer: [ok, detail]}``.  Everything is imported before the uid changes:
afterwards the interpreter's own files may be out of reach.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

from ramparts.sandbox import _libc as libc
from ramparts.sandbox import landlock, privileges, seccomp

_PR_SET_DUMPABLE = 4
_UNSHARE = (
    ("mount_namespace", libc.CLONE_NEWNS),
    ("network_namespace", libc.CLONE_NEWNET),
    ("ipc_namespace", libc.CLONE_NEWIPC),
    ("uts_namespace", libc.CLONE_NEWUTS),
    ("cgroup_namespace", libc.CLONE_NEWCGROUP),
    ("pid_namespace", libc.CLONE_NEWPID),
)


def main(uid_arg: str) -> None:
    out: dict[str, list[object]] = {}
    seccomp_ok = seccomp.available()  # loads libseccomp while ldconfig is reachable
    uid = int(uid_arg) if uid_arg else None
    try:
        if uid is not None and os.geteuid() == 0:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            out["per_function_uid"] = [True, f"uid {uid}"]
        else:
            out["per_function_uid"] = [False, "the node is not root: functions share its uid"]
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
        outer_u, outer_g = os.geteuid(), os.getegid()
        libc.unshare(libc.CLONE_NEWUSER)
        libc.write_file("/proc/self/setgroups", "deny")
        libc.write_file("/proc/self/uid_map", f"993 {outer_u} 1\n")
        libc.write_file("/proc/self/gid_map", f"990 {outer_g} 1\n")
        out["user_namespace"] = [True, "uid 993 inside, unprivileged"]
    except OSError as exc:
        out["user_namespace"] = [False, str(exc)]
        print(json.dumps(out))
        return
    for name, flag in _UNSHARE:
        try:
            libc.unshare(flag)
            out[name] = [True, ""]
        except OSError as exc:
            out[name] = [False, str(exc)]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, json.dumps(_inside(seccomp_ok)).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.waitpid(pid, 0)
    try:
        inside = json.loads(data or b"{}")
    except ValueError:
        inside = {"layers": [False, "the probe child died"]}
    for name, value in inside.items():
        if name not in out or out[name][0]:
            out[name] = value
    print(json.dumps(out))


def _inside(seccomp_ok: bool) -> dict[str, list[object]]:
    """In the new namespaces, as PID 1: mount /proc, then apply the sealing layers."""
    res: dict[str, list[object]] = {}
    try:
        libc.mount(None, "/", None, libc.MS_REC | libc.MS_PRIVATE, None)
        libc.mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m")  # noqa: S108 - our own mount ns
        os.mkdir("/tmp/proc")  # noqa: S108
        libc.mount(
            "proc",
            "/tmp/proc",  # noqa: S108
            "proc",
            libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC,
            None,
        )
        pids = [p for p in os.listdir("/tmp/proc") if p.isdigit()]  # noqa: S108
        res["pid_namespace"] = [pids == ["1"], f"own /proc shows {len(pids)} process(es)"]
    except OSError as exc:
        res["mount_namespace"] = [False, f"cannot mount /proc in the sandbox: {exc}"]
    try:
        libc.loopback_up()
    except OSError as exc:
        res["network_namespace"] = [False, f"cannot bring up loopback: {exc}"]
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (1024, 1024))
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
        res["limits"] = [True, "rlimits"]
    except (OSError, ValueError) as exc:
        res["limits"] = [False, str(exc)]
    try:
        privileges.drop_capabilities()
        privileges.not_dumpable()
        privileges.no_new_privs()
        res["no_new_privs"] = [True, ""]
        if seccomp_ok:
            seccomp.install_filter()
            res["seccomp"] = [True, "filter installed"]
        else:
            res["seccomp"] = [False, "libseccomp or kernel support missing"]
        abi = landlock.abi_version()
        if abi >= 4:
            landlock.restrict(read_only=["/"], read_write=[], executable=[], connect_ports=[3128])
            res["landlock"] = [True, f"ABI {abi}: files and TCP"]
        elif abi:
            res["landlock"] = [False, f"ABI {abi}: TCP rules need ABI 4 (Linux 6.7)"]
        else:
            res["landlock"] = [False, "not enabled in this kernel"]
    except Exception as exc:  # noqa: BLE001 - reported, per layer
        res["layers"] = [False, f"{type(exc).__name__}: {exc}"]
    return res


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
