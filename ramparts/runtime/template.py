"""The zygote template: one warm interpreter per node that forks new zygotes.

Starting a zygote from scratch means a new interpreter, importing the
runtime, the sandbox modules and libseccomp: about 40 ms before the sandbox
is even entered.  The template does all of that once, runs no user code ever,
and forks a fresh process per zygote start; the child then runs exactly what
BOOTSTRAP runs (``zygote.main``), sandbox entry included.

Protocol over its one socket (frames as in ``ipc``):

    host -> {"op": "spawn", "cfg": {...}, "env": {...}, "cwd": "..."}
            with three descriptors: the zygote's control socket, its egress
            channel (or /dev/null) and the write end of its stderr pipe
    template -> {"pid": N}  (or {"error": "..."})

EOF ends the template.  Every child is put in its own session, dies with the
template (PR_SET_PDEATHSIG), and is reaped by the kernel (SIGCHLD ignored).
Stdlib only, like the rest of the runtime.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from typing import Any

from ramparts.runtime import ipc, zygote

# Runs in ``python -I -S -c``, with the runtime dir, libseccomp's path and the
# template's socket in argv.
BOOTSTRAP = """\
import sys
sys.dont_write_bytecode = True
import json
_cfg = json.loads(sys.argv[1])
_std = [p for p in sys.path if p and 'site-packages' not in p]
sys.path[:] = [_cfg['runtime_dir']] + _std
from ramparts.runtime.template import serve
serve(_cfg, _std)
"""


def serve(cfg: dict[str, Any], std: list[str]) -> None:
    """Preload everything a zygote imports, then fork one per request until EOF."""
    sock = socket.socket(fileno=int(cfg["sock_fd"]))
    zygote._set_pdeathsig()
    if cfg.get("sandbox"):
        from ramparts.sandbox import jail

        jail.preload(cfg.get("pyseccomp"), {"libs": cfg.get("libs") or {}})
        import ramparts.sandbox.hooks  # noqa: F401
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        try:
            msg, fds = ipc.recv_fd_frame(sock)
        except (OSError, ipc.FrameError):
            return
        if msg is None:
            return
        if not isinstance(msg, dict) or msg.get("op") != "spawn" or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            ipc.send_frame(sock, {"error": "bad request"})
            continue
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                sock.close()
                _child(msg, fds, std)
                code = 0
            except BaseException:  # noqa: BLE001 - never return into the template's loop
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        ipc.send_frame(sock, {"pid": pid})


def _child(msg: dict[str, Any], fds: list[int], std: list[str]) -> None:
    """In the forked child: become what BOOTSTRAP would have started, then run it."""
    ctl, egress, err = fds
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    zygote._set_pdeathsig()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(err, 2)
    cfg = msg["cfg"]
    keep = {0, 1, 2, ctl, egress}
    for fd in _open_fds():
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    cfg["ctl_fd"] = ctl
    sb = cfg.get("sandbox")
    if sb:
        sb["ctl_fd"] = ctl
        sb["egress_fd"] = egress
    else:
        os.close(egress)
    os.environ.clear()  # zygote.main applies the function's environment in its sandbox
    os.environ.update({str(k): str(v) for k, v in (msg.get("env") or {}).items()})
    os.chdir(str(msg["cwd"]))
    sys.path[:] = (
        [cfg["code_dir"]]
        + ([cfg["deps_dir"]] if cfg.get("deps_dir") else [])
        + [cfg["runtime_dir"]]
        + std
    )
    sys.argv[:] = ["ramparts-zygote"]
    zygote.main(cfg)


def _open_fds() -> list[int]:
    try:
        return [int(x) for x in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 1024))


def config(
    *,
    sock_fd: int,
    runtime_dir: str,
    sandbox: bool,
    pyseccomp: str | None,
    libs: dict[str, str | None],
) -> str:
    """The single argv entry the template's BOOTSTRAP reads."""
    return json.dumps(
        {
            "sock_fd": sock_fd,
            "runtime_dir": runtime_dir,
            "sandbox": sandbox,
            "pyseccomp": pyseccomp,
            "libs": libs,
        }
    )
