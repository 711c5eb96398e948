"""A throw-away node for one drill: its own temp data dir, free loopback ports.

The drill never talks to the operator's node.  It runs ``ramparts up`` as a
subprocess with an environment stripped of every ``RAMPARTS_*`` setting (so an
operator's webhook, SMTP server, detections dir or state URL cannot leak in) and
of the host's proxy variables, and talks to it without proxies,
waits for the admin listener, reads the admin token the node wrote, and stops
the node (its whole process group) when the drill ends.  If this process dies
first (``kill -9``), the node notices and stops itself (``watchdog``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from ramparts.registry.artifacts import pack_app
from ramparts.respond.drills.errors import DrillError
from ramparts.respond.drills.watchdog import PARENT_ENV, write_owner

START_TIMEOUT = 90.0
# the host's proxy settings are not the drill node's: it needs no network, and its own
# clients must reach loopback directly
PROXY_VARS = frozenset({"http_proxy", "https_proxy", "all_proxy", "no_proxy"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayNode:
    """``ramparts up`` on ``work_dir/data`` with a gateway and an admin listener on loopback."""

    def __init__(self, work_dir: Path, up_args: list[str]) -> None:
        self.work_dir = work_dir
        self.data_dir = work_dir / "data"
        self.port = free_port()
        self.admin_port = free_port()
        self.up_args = up_args
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = work_dir / "node.log"
        # trust_env=False: the host's HTTP(S)_PROXY/ALL_PROXY must not carry the drill's
        # loopback requests (they failed as "did not start" through a proxy)
        self.gateway = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}", timeout=30, trust_env=False
        )
        self.control = httpx.Client(
            base_url=f"http://127.0.0.1:{self.admin_port}", timeout=120, trust_env=False
        )

    def start(self) -> ThrowawayNode:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("RAMPARTS_") and k.lower() not in PROXY_VARS
        }
        env["RAMPARTS_DATA_DIR"] = str(self.data_dir)
        # the node stops itself (and removes work_dir) once this process is gone, even
        # killed with -9; the owner record lets a later drill reap what is left (watchdog)
        env[PARENT_ENV] = str(os.getpid())
        write_owner(self.work_dir)
        cmd = [
            sys.executable, "-m", "ramparts.cli.main", "up",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--admin-host", "127.0.0.1", "--admin-port", str(self.admin_port),
            # the scripted attackers are documentation addresses sent as X-Forwarded-For
            "--forwarded-allow-ips", "127.0.0.1",
            *self.up_args,
        ]  # fmt: skip
        with open(self._log, "ab") as log:
            self._proc = subprocess.Popen(  # noqa: S603 - our own CLI, no shell
                cmd, env=env, stdout=log, stderr=log, start_new_session=True
            )
        write_owner(self.work_dir, self._proc.pid)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise DrillError(f"the drill's node exited at start: {self.log_tail()}")
            try:
                if self.control.get("/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise DrillError(f"the drill's node did not start within {START_TIMEOUT:.0f}s")
        token = (self.data_dir / "admin-token").read_text().strip()
        self.control.headers["authorization"] = f"Bearer {token}"
        return self

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self._log.read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def interrupt(self) -> None:
        """SIGTERM to the node's session from another thread (a drill being cancelled): the
        drill's next call to it fails at once, and ``stop`` finishes the job."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to the node's whole session (its workers too)."""
        self.gateway.close()
        self.control.close()
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of its session (workers, zygote), even if the node exited
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    # -- control API -------------------------------------------------------------------------
    def get(self, path: str, **params: Any) -> Any:
        r = self.control.get(path, params=params or None)
        if r.status_code != 200:
            raise DrillError(f"GET {path}: {r.status_code} {_code(r)}")
        return r.json()

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.control.post(path, **kw)

    def deploy(self, app_dir: Path) -> httpx.Response:
        return self.control.post("/v1/deploy", content=pack_app(app_dir))

    def audit_count(self) -> int:
        """How many audit records are stored (listing them flushes the node's buffer)."""
        total, after = 0, 0
        while True:
            page = self.get("/v1/audit", limit=1000, after=after)["events"]
            total += len(page)
            if len(page) < 1000:
                return total
            after = page[-1]["seq"]


def _code(r: httpx.Response) -> str:
    try:
        return str(r.json().get("code", ""))
    except ValueError:
        return ""
