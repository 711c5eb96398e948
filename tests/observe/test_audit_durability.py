"""A kill -9 under load loses no audit record of an acknowledged action.

A real ``ramparts up`` subprocess takes concurrent control requests: denials
(a wrong admin token, each on its own path, answered 401) and admin actions
(``POST /v1/gc``, answered 200).  The node's whole process group is killed
with SIGKILL while requests are in flight; after a restart on the same data
dir every acknowledged denial has its record, there are at least as many
admin-action records as acknowledged admin requests, and the chain verifies.
Runs on the embedded SQLite store and on PostgreSQL (skipped where absent).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningNode
from tests.postgres import temporary_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield ""  # the embedded default under the data dir
        return
    with temporary_database() as url:
        yield url


class Load:
    """Client threads that remember exactly what the node acknowledged."""

    def __init__(self, node: RunningNode, threads: int = 4) -> None:
        self.node = node
        self.stop = threading.Event()
        self.denied: list[str] = []  # paths answered 401
        self.admin_ok = 0  # POST /v1/gc answered 200
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        token = self.node.control.headers["authorization"]
        base = f"http://127.0.0.1:{self.node.admin_port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                try:
                    if n % 3:
                        path = f"/v1/probe-{uuid.uuid4().hex}"
                        r = client.get(path, headers={"authorization": "Bearer not-the-token"})
                        if r.status_code == 401:
                            with self._lock:
                                self.denied.append(path)
                    else:
                        r = client.post("/v1/gc", headers={"authorization": token})
                        if r.status_code == 200:
                            with self._lock:
                                self.admin_ok += 1
                except httpx.HTTPError:
                    if self.node.proc is not None and self.node.proc.poll() is not None:
                        return
                    time.sleep(0.01)

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def join(self) -> None:
        self.stop.set()
        for t in self._threads:
            t.join(timeout=30)


def test_kill9_under_load_loses_no_acknowledged_audit_record(
    tmp_path: Path, state_url: str
) -> None:
    env = {"RAMPARTS_STATE_URL": state_url} if state_url else {}
    data = tmp_path / "data"
    node = RunningNode(data, env)
    node.start()
    try:
        load = Load(node)
        load.start()
        deadline = time.monotonic() + 60
        while len(load.denied) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(load.denied) >= 300, "the load did not get going"
        node.kill9()  # mid-flight: requests are still being answered
        load.join()
        denied, admin_ok = set(load.denied), load.admin_ok
        assert admin_ok > 0

        again = RunningNode(data, env)
        again.start()
        try:
            events = again.audit()
            denial_paths = {
                e["resource"] for e in events
                if e["kind"] == "control.auth" and e["decision"] == "deny"
            }
            missing = denied - denial_paths
            assert not missing, f"{len(missing)} of {len(denied)} acknowledged denials lost"
            gc_records = [
                e for e in events
                if e["kind"] == "registry.gc" and e["principal"] == "admin"
            ]
            assert len(gc_records) >= admin_ok
            # Stored once each, replay or not, and the chain is whole.
            ids = [e["id"] for e in events if e.get("id")]
            assert len(ids) == len(set(ids))
            verdict = again.control.post("/v1/audit/verify").json()
            assert verdict["ok"], verdict["problem"]
        finally:
            again.close()
    finally:
        node.close()
