"""Process privileges, exercised in real child interpreters.

Every test runs a fresh ``python -I -S`` (as the sandbox does) with and
without the layer, so it fails both when the layer stops working and when the
"attack" would not have worked anyway.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ramparts.errors import SandboxError
from ramparts.sandbox import privileges

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: the control shows what root could do"
)

PRELUDE = f"""
import sys
sys.path[:0] = [{str(REPO)!r}]
import ctypes, errno, json, os, signal, subprocess, time
APPLY = sys.argv[1] == "1"
ARGS = json.loads(sys.argv[2])
from ramparts.errors import SandboxError
from ramparts.sandbox import privileges
libc = ctypes.CDLL(None, use_errno=True)
Z = ctypes.c_ulong(0)
out = {{}}

def os_errno(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except OSError as exc:
        return exc.errno
    return 0

def status(field, path="/proc/self/status"):
    with open(path) as fh:
        return [l.split()[1] for l in fh if l.startswith(field + ":")][0]

def become_nobody():
    os.setgroups([])
    os.setresgid({NOBODY}, {NOBODY}, {NOBODY})
    os.setresuid({NOBODY}, {NOBODY}, {NOBODY})
"""


def _results(body: str, apply: bool, args: dict[str, object] | None = None) -> dict[str, object]:
    code = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, "1" if apply else "0", json.dumps(args or {})],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


@needs_root
def test_root_without_capabilities_cannot_chown_or_bypass_file_modes(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("x")
    private = tmp_path / "private"
    private.write_text("someone else's")
    private.chmod(0o600)
    os.chown(private, 12345, 12345)
    tmp_path.chmod(0o755)
    body = """
    if APPLY:
        privileges.drop_capabilities()
    out["uid"] = os.geteuid()
    out["chown"] = os_errno(os.chown, ARGS["victim"], 12345, 12345)
    out["read_private"] = os_errno(lambda: open(ARGS["private"]).read())
    out["CapEff"], out["CapPrm"], out["CapBnd"], out["CapAmb"], out["CapInh"] = (
        status(name) for name in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh")
    )
    # execve as uid 0 must not refill the sets from the (now empty) bounding set.
    out["exec_CapEff"] = subprocess.run(
        ["/bin/grep", "^CapEff:", "/proc/self/status"], capture_output=True, text=True
    ).stdout.split()[1]
    """
    args = {"victim": str(victim), "private": str(private)}
    with_layer = _results(body, True, args)
    os.chown(victim, 0, 0)
    without = _results(body, False, args)
    zero = "0" * 16
    assert without["uid"] == 0
    assert without["chown"] == 0 and without["read_private"] == 0
    assert without["CapEff"] != zero and without["exec_CapEff"] != zero
    assert with_layer == {
        "uid": 0,
        "chown": 1,  # EPERM
        "read_private": 13,  # EACCES
        "CapEff": zero,
        "CapPrm": zero,
        "CapBnd": zero,
        "CapAmb": zero,
        "CapInh": zero,
        "exec_CapEff": zero,
    }


@needs_root
def test_drop_capabilities_fails_closed_without_cap_setpcap() -> None:
    # A plain user cannot empty its bounding set: the call must raise, not half-succeed.
    body = """
    become_nobody()
    try:
        privileges.drop_capabilities()
        out["result"] = "dropped"
    except SandboxError as exc:
        out["result"] = str(exc)
    """
    result = _results(body, True)["result"]
    assert "PR_CAPBSET_DROP" in str(result) and "EPERM" in str(result)


def test_per_thread_settings_refuse_a_second_thread() -> None:
    body = """
    import threading
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    for name in ("no_new_privs", "drop_capabilities"):
        try:
            getattr(privileges, name)()
            out[name] = "applied"
        except SandboxError as exc:
            out[name] = str(exc)
    stop.set()
    worker.join()
    out["NoNewPrivs"] = status("NoNewPrivs")
    """
    result = _results(body, True)
    assert "2 threads" in str(result["no_new_privs"])
    assert "2 threads" in str(result["drop_capabilities"])
    assert result["NoNewPrivs"] == "0"


def test_no_new_privs_is_set_and_inherited_across_exec() -> None:
    body = """
    if APPLY:
        privileges.no_new_privs()
    out["self"] = status("NoNewPrivs")
    out["exec"] = subprocess.run(
        ["/bin/grep", "^NoNewPrivs:", "/proc/self/status"], capture_output=True, text=True
    ).stdout.split()[1]
    """
    assert _results(body, False) == {"self": "0", "exec": "0"}
    assert _results(body, True) == {"self": "1", "exec": "1"}


@needs_root
def test_not_dumpable_hides_memory_and_environ_from_same_uid_peers() -> None:
    body = """
    PR_SET_DUMPABLE = 4
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    target = os.fork()
    if target == 0:
        become_nobody()  # a uid change resets dumpable to fs.suid_dumpable ...
        if APPLY:
            privileges.not_dumpable()
        else:  # ... so the control makes it dumpable again, like a normal process
            libc.prctl(PR_SET_DUMPABLE, ctypes.c_ulong(1), Z, Z, Z)
        os.write(ready_w, b"1")
        os.read(done_r, 1)
        os._exit(0)
    os.read(ready_r, 1)
    peer = os.fork()
    if peer == 0:
        become_nobody()
        os._exit(os_errno(lambda: open(f"/proc/{target}/environ", "rb").read()))
    out["peer_read_environ"] = os.waitstatus_to_exitcode(os.waitpid(peer, 0)[1])
    os.write(done_w, b"1")
    os.waitpid(target, 0)
    """
    assert _results(body, False) == {"peer_read_environ": 0}
    assert _results(body, True) == {"peer_read_environ": 13}  # EACCES


def test_pdeathsig_kills_the_orphan_when_its_parent_dies() -> None:
    body = """
    PR_SET_CHILD_SUBREAPER = 36
    # Orphans come back to us, so we can tell "killed" from "still running".
    libc.prctl(PR_SET_CHILD_SUBREAPER, ctypes.c_ulong(1), Z, Z, Z)
    ready_r, ready_w = os.pipe()
    pid_r, pid_w = os.pipe()
    middle = os.fork()
    if middle == 0:
        if os.fork() == 0:
            if APPLY:
                privileges.set_pdeathsig(signal.SIGKILL)
            os.write(pid_w, b"%d" % os.getpid())
            os.write(ready_w, b"1")
            time.sleep(10)
            os._exit(0)
        os.read(ready_r, 1)
        os._exit(0)  # the parent dies; with pdeathsig, so does the orphan
    os.waitpid(middle, 0)
    orphan = int(os.read(pid_r, 16))
    deadline = time.monotonic() + 0.5
    out["orphan"] = "running"
    while time.monotonic() < deadline:
        pid, status = os.waitpid(orphan, os.WNOHANG)
        if pid:
            out["orphan"] = f"signal {os.WTERMSIG(status)}"
            break
        time.sleep(0.01)
    if out["orphan"] == "running":
        os.kill(orphan, signal.SIGKILL)
        os.waitpid(orphan, 0)
    """
    assert _results(body, False) == {"orphan": "running"}
    assert _results(body, True) == {"orphan": f"signal {int(signal.SIGKILL)}"}


@pytest.mark.parametrize("sig", [0, -1, 1000, True])
def test_set_pdeathsig_rejects_invalid_signals(sig: int) -> None:
    # Validation happens before any prctl, so this is safe in the test process.
    with pytest.raises(SandboxError, match="invalid parent-death signal"):
        privileges.set_pdeathsig(sig)
