"""Landlock, exercised in real child interpreters.

Every test runs a fresh ``python -I -S`` (as the sandbox does) with and
without the restriction, so it fails both when the layer stops confining and
when the "attack" would not have worked anyway.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from ramparts.sandbox import landlock

REPO = Path(__file__).resolve().parents[2]
ABI = landlock.abi_version()

pytestmark = pytest.mark.skipif(ABI < 1, reason="Landlock is not enabled in this kernel")

# What the interpreter itself needs after the restriction: its stdlib (for
# imports made later) and the system libraries that executables load.
STDLIB = sysconfig.get_paths()["stdlib"]
SYSTEM_LIBS = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"]

PRELUDE = f"""
import sys
sys.path[:0] = [{str(REPO)!r}]
import errno, json, os, socket, subprocess
APPLY = sys.argv[1] == "1"
ARGS = json.loads(sys.argv[2])
from ramparts.sandbox import landlock
out = {{}}

def os_errno(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except OSError as exc:
        return exc.errno
    return 0
"""


def _results(body: str, apply: bool, args: dict[str, object]) -> dict[str, object]:
    code = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, "1" if apply else "0", json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "data.txt").write_text("public")
    (tmp_path / "rw").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret")
    for name in ("bin_ok", "bin_no"):
        (tmp_path / name).mkdir()
        shutil.copy2("/bin/true", tmp_path / name / "true")
    return {name: str(tmp_path / name) for name in ("ro", "rw", "outside", "bin_ok", "bin_no")}


def test_abi_version_reports_the_kernel() -> None:
    assert ABI >= 1


def test_filesystem_reads_writes_and_exec_follow_the_rules(tree: dict[str, str]) -> None:
    body = """
    T = ARGS["tree"]
    if APPLY:
        out["abi"] = landlock.restrict(
            read_only=[T["ro"], ARGS["stdlib"]],
            read_write=[T["rw"]],
            executable=[T["bin_ok"], *ARGS["libs"]],
        )

    def read(path):
        with open(path) as fh:
            return fh.read()

    def write(path):
        with open(path, "w") as fh:
            fh.write("x")

    out["read_ro"] = os_errno(read, T["ro"] + "/data.txt")
    out["read_outside"] = os_errno(read, T["outside"] + "/secret.txt")
    out["list_outside"] = os_errno(os.listdir, T["outside"])
    out["write_ro"] = os_errno(write, T["ro"] + "/new.txt")
    out["write_rw"] = os_errno(write, T["rw"] + "/new.txt")
    out["mkdir_rw"] = os_errno(os.mkdir, T["rw"] + "/sub")
    out["unlink_rw"] = os_errno(os.unlink, T["rw"] + "/new.txt")
    out["exec_ok"] = os_errno(subprocess.run, [T["bin_ok"] + "/true"], check=True)
    out["exec_no"] = os_errno(subprocess.run, [T["bin_no"] + "/true"], check=True)
    # Write xor execute: a binary dropped into a writable tree cannot run.
    out["exec_rw"] = os_errno(subprocess.run, [T["rw"] + "/dropped"], check=True)
    # The interpreter keeps working, including imports it had not made yet.
    import fractions
    out["python"] = str(fractions.Fraction(1, 3) * 3)
    """
    args = {"tree": tree, "stdlib": STDLIB, "libs": SYSTEM_LIBS}
    shutil.copy2("/bin/true", Path(tree["rw"]) / "dropped")
    with_layer = _results(body, True, args)
    shutil.rmtree(Path(tree["rw"]) / "sub", ignore_errors=True)
    without = _results(body, False, args)
    assert without == {
        "read_ro": 0,
        "read_outside": 0,
        "list_outside": 0,
        "write_ro": 0,
        "write_rw": 0,
        "mkdir_rw": 0,
        "unlink_rw": 0,
        "exec_ok": 0,
        "exec_no": 0,
        "exec_rw": 0,
        "python": "1",
    }
    assert with_layer == {
        "abi": ABI,
        "read_ro": 0,
        "read_outside": 13,  # EACCES -> PermissionError
        "list_outside": 13,
        "write_ro": 13,
        "write_rw": 0,
        "mkdir_rw": 0,
        "unlink_rw": 0,
        "exec_ok": 0,
        "exec_no": 13,
        "exec_rw": 13,
        "python": "1",
    }


@pytest.mark.skipif(ABI < 4, reason="TCP port rules need Landlock ABI 4 (Linux 6.7)")
def test_tcp_connect_and_bind_only_to_allowed_ports() -> None:
    body = """
    listeners = []
    for _ in range(2):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        listeners.append(s)
    allowed, other = (s.getsockname()[1] for s in listeners)
    if APPLY:
        landlock.restrict(read_only=[], read_write=[], executable=[], connect_ports=[allowed])

    def connect(port):
        # Not create_connection: it imports encodings.idna lazily, which the
        # empty read_only list would refuse before the connect is even tried.
        with socket.socket() as c:
            c.settimeout(2)
            c.connect(("127.0.0.1", port))

    def bind():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))

    out["allowed"] = os_errno(connect, allowed)
    out["other"] = os_errno(connect, other)
    out["bind"] = os_errno(bind)
    # UDP is outside Landlock's reach (documented); it must keep working.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind(("127.0.0.1", 0))
        out["udp"] = 0
    """
    with_layer, without = _results(body, True, {}), _results(body, False, {})
    assert without == {"allowed": 0, "other": 0, "bind": 0, "udp": 0}
    assert with_layer == {"allowed": 0, "other": 13, "bind": 13, "udp": 0}


@pytest.mark.skipif(ABI < 6, reason="scoping needs Landlock ABI 6 (Linux 6.12)")
def test_scoped_blocks_signals_and_abstract_sockets_outside_the_domain() -> None:
    body = """
    import signal
    # A process outside the domain: forked before restrict, exits on EOF.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os._exit(0)
    os.close(r)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(f"\\0ramparts-landlock-test-{os.getpid()}")
    server.listen()
    landlock.restrict(read_only=[], read_write=[], executable=[], scoped=APPLY)

    def connect():
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.connect(server.getsockname())

    out["signal"] = os_errno(os.kill, pid, signal.SIGCONT)
    out["abstract"] = os_errno(connect)
    os.close(w)
    os.waitpid(pid, 0)
    """
    with_scope, without = _results(body, True, {}), _results(body, False, {})
    assert without == {"signal": 0, "abstract": 0}
    assert with_scope == {"signal": 1, "abstract": 1}  # EPERM


def test_missing_paths_are_skipped_and_files_get_file_rights(tree: dict[str, str]) -> None:
    body = """
    T = ARGS["tree"]
    if APPLY:
        landlock.restrict(
            read_only=["/nonexistent/ramparts", T["ro"] + "/data.txt/below-a-file"],
            read_write=[T["rw"]],
            executable=[T["outside"] + "/secret.txt"],  # a file: exec+read, no dir rights
        )
    with open(T["outside"] + "/secret.txt") as fh:
        out["read_file_rule"] = fh.read()
    out["read_sibling"] = os_errno(os.listdir, T["outside"])
    """
    args = {"tree": tree}
    assert _results(body, False, args) == {"read_file_rule": "secret", "read_sibling": 0}
    assert _results(body, True, args) == {"read_file_rule": "secret", "read_sibling": 13}


def test_refuses_a_multithreaded_process_and_bad_ports() -> None:
    body = """
    import threading
    from ramparts.errors import SandboxError
    try:
        landlock.restrict(read_only=[], read_write=[], executable=[], connect_ports=[70000])
    except SandboxError as exc:
        out["bad_port"] = str(exc)
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        landlock.restrict(read_only=[], read_write=[], executable=[])
    except SandboxError as exc:
        out["threads"] = str(exc)
    stop.set()
    worker.join()
    # Neither attempt restricted anything: the file system is still open.
    out["read_after"] = os_errno(os.listdir, "/")
    """
    result = _results(body, True, {})
    assert "invalid TCP port 70000" in str(result["bad_port"])
    assert "2 threads" in str(result["threads"])
    assert result["read_after"] == 0
