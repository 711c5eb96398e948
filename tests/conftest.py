"""Shared fixtures: a real node process on free loopback ports, and app builders."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ramparts.registry.artifacts import pack_app

REPO = Path(__file__).resolve().parent.parent


def _shared_dir() -> Path:
    """The workplace's shared test data: $RAMPARTS_SHARED_DIR, else ../shared beside the repo."""
    env = os.environ.get("RAMPARTS_SHARED_DIR")
    if env:
        return Path(env)
    beside = REPO.parent / "shared"
    return beside if beside.is_dir() else Path("/work/shared")


SHARED = _shared_dir()
OSV_SNAPSHOT = SHARED / "advisories" / "pypa" / "vulns"
HOOK_SECRET = "whsec_dGVzdHNlY3JldA=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_app(root: Path, manifest: str, files: dict[str, str]) -> Path:
    """Write an app dir: ramparts.yaml plus handler files (dedented)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "ramparts.yaml").write_text(textwrap.dedent(manifest))
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


class RunningNode:
    """A ``ramparts up`` subprocess and clients for its gateway and control API."""

    def __init__(self, data_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.admin_port = free_port()
        self.env = {
            **os.environ,
            "RAMPARTS_DATA_DIR": str(data_dir),
            "RAMPARTS_URL": f"http://127.0.0.1:{self.admin_port}",
            **(extra_env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.gateway = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        self.control = httpx.Client(base_url=f"http://127.0.0.1:{self.admin_port}", timeout=60)

    def command(self) -> list[str]:
        """The ``ramparts up`` command line (subclasses start it another way)."""
        return [
            sys.executable,
            "-m",
            "ramparts.cli.main",
            "up",
            "--port",
            str(self.port),
            "--admin-port",
            str(self.admin_port),
        ]

    def start(self, **popen: Any) -> RunningNode:
        log = open(self.data_dir.parent / f"node-{self.admin_port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.command(),
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
            **popen,
        )
        return self._wait_started()

    def _wait_started(self) -> RunningNode:
        assert self.proc is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("node exited at start:\n" + self.log_text())
            try:
                if self.control.get("/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise RuntimeError("node did not start:\n" + self.log_text())
        token = (self.data_dir / "admin-token").read_text().strip()
        self.control.headers["authorization"] = f"Bearer {token}"
        return self

    def log_text(self) -> str:
        path = self.data_dir.parent / f"node-{self.admin_port}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def kill9(self) -> None:
        """SIGKILL the node and everything it started (its whole session)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        if self.proc is not None and self.proc.poll() is None:
            self.kill9()
        self.gateway.close()
        self.control.close()

    # -- helpers -------------------------------------------------------------------------------
    def deploy(self, app_dir: Path) -> httpx.Response:
        return self.control.post("/v1/deploy", content=pack_app(app_dir))

    def deploy_ok(self, app_dir: Path) -> dict[str, Any]:
        r = self.deploy(app_dir)
        assert r.status_code == 200, r.text
        return r.json()

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ramparts.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            input=stdin,
        )

    def cli_in_process(
        self, *args: str, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The same ``ramparts`` command run inside the test process (Typer's CliRunner).

        It saves a Python start-up and the CLI's imports (most of a second of CPU)
        per call, for tests that run a command many times; such a test still runs
        it through ``cli`` at least once, so the real entry point stays covered.
        An exception that a subprocess would have printed as a traceback is put in
        stderr as one, so a "no Traceback" assertion keeps its meaning.
        """
        from typer.testing import CliRunner

        runner = CliRunner()
        with runner.isolation():  # the CLI's consoles, made at import, see no terminal
            from ramparts.cli.main import app

        env = {k: v for k, v in self.env.items() if k.startswith("RAMPARTS_")}
        result = runner.invoke(app, list(args), input=stdin, env=env)
        stderr = result.stderr
        if result.exc_info is not None and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(*result.exc_info))
        return subprocess.CompletedProcess(
            ["ramparts", *args], result.exit_code, result.stdout, stderr
        )

    def invocations(self, function: str) -> list[dict[str, Any]]:
        r = self.control.get(f"/v1/functions/{function}/logs", params={"limit": 1000})
        assert r.status_code == 200, r.text
        return r.json()["invocations"]

    def wait_invocations(
        self, function: str, count: int, timeout: float = 20.0, status: str | None = None
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        rows: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            rows = [
                r for r in self.invocations(function) if status is None or r["status"] == status
            ]
            if len(rows) >= count:
                return rows
            time.sleep(0.1)
        raise AssertionError(f"{function}: {len(rows)} of {count} invocations after {timeout}s")

    def audit(self) -> list[dict[str, Any]]:
        """Every audit event so far (the API pages 1,000 at a time, oldest first)."""
        events: list[dict[str, Any]] = []
        while True:
            page = self.control.get(
                "/v1/audit", params={"limit": 1000, "after": events[-1]["seq"] if events else 0}
            ).json()["events"]
            events.extend(page)
            if len(page) < 1000:
                return events


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("node")
    running = RunningNode(
        base / "data",
        {
            "RAMPARTS_MAX_BODY_BYTES": str(1024 * 1024),
        },
    )
    running.start()
    try:
        # webhook tests verify with this secret of app "ev" (tests/events/test_delivery.py),
        # kept in the node's encrypted secret store; set before that app's first deploy
        done = running.cli(
            "secrets", "set", "hook-secret", "--app", "ev", "--stdin", stdin=HOOK_SECRET
        )
        assert done.returncode == 0, done.stderr
        yield running
    finally:
        running.close()
