"""What a hostile handler tries, as a deployed function with no role.

Imported three ways by the sandbox attack suite: at module scope (in the
zygote, at import), from the handler, and inside a child process the
manifest allows.  Every attack returns ``{"attack", "succeeded", "detail"}``;
``succeeded`` means the attacker got what it wanted.  Stdlib only.
"""

import ctypes
import glob
import json
import os
import socket
import subprocess
import time

CLONE_NEWUSER = 0x10000000
PTRACE_ATTACH = 16
PR_SET_NAME = 15


def _read(path):
    with open(path, "rb") as f:
        return f.read(64)


def read_master_key(t):
    return _read(t["data_dir"] + "/master.key")


def read_admin_token(t):
    return _read(t["data_dir"] + "/admin-token")


def read_state_db(t):
    return _read(t["data_dir"] + "/state.db")


def read_node_environ(t):
    return _read(f"/proc/{t['node_pid']}/environ")


def read_sibling_mem(t):
    """/proc/<pid>/mem of any other process we can see (the zygote, sibling workers)."""
    errors = []
    for pid in [t["node_pid"], *sorted(p for p in os.listdir("/proc") if p.isdigit())]:
        if str(pid) == str(os.getpid()):
            continue
        try:
            with open(f"/proc/{pid}/maps") as f:
                line = f.readline()
            start = int(line.split("-")[0], 16)
            with open(f"/proc/{pid}/mem", "rb") as f:
                f.seek(start)
                return f"read {len(f.read(16))} bytes of pid {pid}"
        except (OSError, ValueError, IndexError) as exc:
            errors.append(f"{pid}: {type(exc).__name__}")
    raise PermissionError("; ".join(errors) or "no process to read")


def list_processes(t):
    """Success: the node, or another function, shows up in our /proc."""
    seen = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if b"ramparts.cli.main" in cmdline or t["victim_marker"].encode() in cmdline:
            seen.append(pid)
    if str(t["node_pid"]) in os.listdir("/proc"):
        seen.append("node pid")
    if seen:
        return seen
    raise LookupError("only the sandbox's own processes are visible")


def rewrite_victim_code(t):
    path = t["victim_file"]
    try:
        os.chmod(path, 0o644)
    except OSError:
        pass
    with open(path, "a") as f:
        f.write("\n# tampered\n")
    return "rewrote " + path


def rewrite_own_code(t):
    with open("/var/task/attacks.py", "a") as f:
        f.write("\n# tampered\n")
    return "rewrote own code"


def _connect(port):
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        return f"connected to {port}"


def connect_control(t):
    return _connect(t["admin_port"])


def connect_redis(t):
    return _connect(6379)


def connect_postgres(t):
    return _connect(5432)


def _proxy_connect(target):
    with socket.create_connection(("127.0.0.1", 3128), timeout=10) as s:
        s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        answer = s.recv(200).decode("latin-1")
    if answer.startswith("HTTP/1.1 200"):
        return "proxy let us through to " + target
    raise PermissionError(answer.splitlines()[0] if answer else "no answer")


def egress_not_allowed(t):
    return _proxy_connect("blocked.example:443")


def egress_to_control(t):
    return _proxy_connect(f"127.0.0.1:{t['admin_port']}")


def egress_to_control_by_any_address(t):
    """The manifest allows 0.0.0.0, [::] and 127.0.0.2 on the control port: still refused."""
    won = []
    for target in (
        f"0.0.0.0:{t['admin_port']}",
        f"[::]:{t['admin_port']}",
        f"127.0.0.2:{t['admin_port']}",
        "0.0.0.0:6379",
    ):
        try:
            won.append(_proxy_connect(target))
        except OSError:
            pass
    if won:
        return "; ".join(won)
    raise PermissionError("every local address of the control API and Redis refused")


def vsock_listen(t):
    """AF_VSOCK goes around the network namespace to the VM's host."""
    s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    s.bind((socket.VMADDR_CID_ANY, 51234))
    s.listen(1)
    s.close()
    return "listening on vsock"


def become_dumpable(t):
    """A dumpable process's memory is readable by its siblings through /proc."""
    libc = _libc()
    if libc.prctl(4, 1, 0, 0, 0) == 0 and libc.prctl(3, 0, 0, 0, 0) == 1:
        return "dumpable again"
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def exec_from_memfd(t):
    """ld.so copied into an anonymous file and executed with execveat: no path, no rule."""
    loader = (glob.glob("/lib64/ld-linux*.so*") + glob.glob("/lib/*-linux-gnu/ld-linux*.so*"))[0]
    fd = os.memfd_create("loader")
    with open(loader, "rb") as f:
        os.write(fd, f.read())
    pid = os.fork()
    if pid == 0:
        libc = _libc()
        argv = (ctypes.c_char_p * 3)(b"ld.so", b"/bin/true", None)
        envp = (ctypes.c_char_p * 1)(None)
        libc.syscall(322, fd, b"", argv, envp, 0x1000)  # execveat(fd, "", AT_EMPTY_PATH)
        os._exit(99)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return "ran /bin/true through ld.so from a memfd"
    raise PermissionError(f"exit {os.waitstatus_to_exitcode(status)}")


def spawn_shell(t):
    out = subprocess.run(["/bin/sh", "-c", "echo pwned"], capture_output=True, timeout=5)
    if b"pwned" in out.stdout:
        return "shell ran"
    raise RuntimeError(f"exit {out.returncode}")


def fork_bomb(t):
    """Fork until refused; success means more than the manifest's process limit."""
    children = []
    try:
        for _ in range(int(t["nproc"]) * 3):
            pid = os.fork()
            if pid == 0:
                time.sleep(3)
                os._exit(0)
            children.append(pid)
    except OSError as exc:
        refused = f"refused after {len(children)}: {exc.strerror}"
    else:
        refused = None
    for pid in children:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except OSError:
            pass
    if refused is None or len(children) > int(t["nproc"]):
        return f"forked {len(children)}"
    raise OSError(refused)


def fill_tmp(t):
    chunk = b"x" * (1024 * 1024)
    written = 0
    try:
        with open("/tmp/fill", "wb") as f:
            for _ in range(int(t["tmp_fill_mb"])):
                f.write(chunk)
                written += 1
            f.flush()
    finally:
        try:
            os.unlink("/tmp/fill")
        except OSError:
            pass
    return f"wrote {written} MiB"


def load_library(t):
    """Copy a real shared library into /tmp and load it: native code from outside the deps."""
    src = next(
        p for p in glob.glob("/usr/lib/x86_64-linux-gnu/libm.so.6") + glob.glob("/lib*/libm.so.6")
    )
    with open(src, "rb") as f, open("/tmp/evil.so", "wb") as g:
        g.write(f.read())
    lib = ctypes.CDLL("/tmp/evil.so")
    return f"loaded {lib}"


def load_system_library(t):
    """A system library by full path: outside the function's deps, so hooks refuse it.

    Not in ATTACKS: a child process has no hooks, and loading libm buys it nothing the
    kernel layers do not already confine; this one checks the hook itself.
    """
    lib = ctypes.CDLL(glob.glob("/usr/lib/*-linux-gnu/libm.so.6")[0])
    return f"loaded {lib}"


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def syscall_unshare(t):
    if _libc().unshare(CLONE_NEWUSER) == 0:
        return "unshared a user namespace"
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def syscall_ptrace(t):
    if _libc().ptrace(PTRACE_ATTACH, 1, 0, 0) == 0:
        return "attached to pid 1"
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def syscall_mount(t):
    if _libc().mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None) == 0:
        return "mounted"
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def write_pth(t):
    """A .pth in any site-packages we can find, or the node's own virtualenv."""
    candidates = set(glob.glob("/**/site-packages", recursive=False))
    for pattern in (
        "/usr/lib/python3*/*-packages",
        "/usr/local/lib/python3*/*-packages",
        t["python_prefix"] + "/lib/python3*/site-packages",
        t["venv"] + "/lib/python3*/site-packages",
    ):
        candidates.update(glob.glob(pattern))
    errors = []
    for d in sorted(candidates):
        try:
            with open(os.path.join(d, "evil.pth"), "w") as f:
                f.write("import os\n")
            return "wrote " + d
        except OSError as exc:
            errors.append(f"{d}: {exc.strerror}")
    raise PermissionError("; ".join(errors) or "no site-packages visible")


ATTACKS = {
    f.__name__: f
    for f in (
        read_master_key,
        read_admin_token,
        read_state_db,
        read_node_environ,
        read_sibling_mem,
        list_processes,
        rewrite_victim_code,
        rewrite_own_code,
        connect_control,
        connect_redis,
        connect_postgres,
        egress_not_allowed,
        egress_to_control,
        egress_to_control_by_any_address,
        vsock_listen,
        become_dumpable,
        exec_from_memfd,
        spawn_shell,
        fork_bomb,
        fill_tmp,
        load_library,
        syscall_unshare,
        syscall_ptrace,
        syscall_mount,
        write_pth,
    )
}


EXTRA = {"load_system_library": load_system_library}


def run(name, targets):
    try:
        detail = {**ATTACKS, **EXTRA}[name](targets)
        return {"attack": name, "succeeded": True, "detail": str(detail)[:300]}
    except BaseException as exc:  # RuntimeViolation too: that is the point
        return {"attack": name, "succeeded": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}


def run_all(targets):
    return [run(name, targets) for name in ATTACKS]


def targets_from_env():
    """What the test tells the attacker (the node's data dir, pid, ports...)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets.json")) as f:
        return json.load(f)
