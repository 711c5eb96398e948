"""Run ``ramparts up`` expecting it to refuse to start, and corrupt files the way crashes do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.conftest import free_port


def up_refused(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """``ramparts up`` on ``data_dir``; it must exit by itself (a node that starts fails this)."""
    admin_port = free_port()
    cmd = [
        sys.executable, "-m", "ramparts.cli.main", "up",
        "--port", str(free_port()), "--admin-port", str(admin_port), *args,
    ]
    full_env = {**os.environ, "RAMPARTS_DATA_DIR": str(data_dir), **(env or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            cmd, env=full_env, stdout=out, stderr=err, text=True, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        started = False
        while proc.poll() is None and time.monotonic() < deadline and not started:
            try:
                started = httpx.get(f"http://127.0.0.1:{admin_port}/healthz").status_code == 200
            except httpx.HTTPError:
                time.sleep(0.1)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            out.seek(0)
            err.seek(0)
            what = "started" if started else "neither started nor exited"
            raise AssertionError(f"ramparts up {what}:\n{out.read()}\n{err.read()[-3000:]}")
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(cmd, proc.returncode, out.read(), err.read())


def wal_frames(wal: Path) -> tuple[int, int]:
    """(frame count, frame size) of a SQLite WAL file, from its header."""
    data = wal.read_bytes()
    page_size = int.from_bytes(data[8:12], "big")
    frame = 24 + page_size
    return (len(data) - 32) // frame, frame


def corrupt(path: Path, offset: int, length: int) -> None:
    """Overwrite ``length`` bytes at ``offset`` with random ones (what a bad disk or crash does)."""
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(os.urandom(length))
