"""Two nodes on one PostgreSQL each append their own audit chain; either verifies both.

Skipped with a reason where PostgreSQL is not reachable on 127.0.0.1:5432.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningNode
from tests.postgres import temporary_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    with temporary_database() as url:
        yield url


def test_two_nodes_two_chains_and_a_tampered_one_is_named(pg_url: str, tmp_path: Path) -> None:
    import psycopg

    env = {
        "RAMPARTS_STATE_URL": pg_url,
        # Nodes sharing a store share the master key (and so the signing key).
        "RAMPARTS_MASTER_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "RAMPARTS_AUDIT_CHECKPOINT_INTERVAL": "1h",
    }
    a = RunningNode(tmp_path / "a", env).start()
    b = RunningNode(tmp_path / "b", env).start()
    try:
        for node, tag in ((a, "a"), (b, "b")):
            for i in range(5):
                node.control.get(f"/v1/{tag}-{i}", headers={"authorization": "Bearer wrong"})
            assert node.control.post("/v1/audit/verify").json()["ok"]
        part_b = (tmp_path / "b" / "node-identity").read_text().strip()
        verdict = a.control.post("/v1/audit/verify").json()
        assert verdict["ok"], verdict["problem"]
        parts = {p["partition"]: p for p in verdict["partitions"]}
        assert len(parts) == 2 and part_b in parts
        assert all(p["records"] >= 6 and p["checkpoints"] >= 1 for p in parts.values())

        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("UPDATE audit_events SET resource = resource || 'x' WHERE part = %s "
                         "AND pseq = 3", (part_b,))
        out = a.cli("audit-log", "verify")
        assert out.returncode == 1
        assert f"partition {part_b}, record 3: modified" in " ".join(out.stdout.split())
    finally:
        a.close()
        b.close()
