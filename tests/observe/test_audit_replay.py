"""Journal replay and sink delivery of the audit log, on a real SQLite store and data dir.

A node that dies leaves its journal behind; the next ``AuditLog`` on that data
dir stores what was not stored (once, by id) and hands every journaled record
to the sinks, with its chain fields.  (Killing a real node is
``test_audit_durability``; here the first log is simply never closed.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ramparts.crypto.signing import VersionSigner
from ramparts.observe.audit import AuditLog
from ramparts.observe.chain import record_hash
from ramparts.observe.evidence import verify_store
from ramparts.store.sql import SQLStore


class Collect:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def deliver(self, records: Sequence[dict[str, Any]]) -> None:
        self.records.extend(records)


def _emit(log: AuditLog, n: int, tag: str) -> None:
    for i in range(n):
        log.emit("test.event", decision="deny", principal="ip:192.0.2.1", action="t:Act",
                 resource=f"{tag}-{i}", token="sk_live_" + "a" * 24)


def test_replay_stores_once_and_delivers_with_chain_fields(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    signer = VersionSigner(Ed25519PrivateKey.generate(), created=True)

    async def first() -> list[dict[str, Any]]:
        sink = Collect()
        log = AuditLog(store, "n1", data_dir=tmp_path, partition="node-a", signer=signer)
        log.add_sink(sink)
        _emit(log, 5, "stored")
        await log.flush()  # stored and delivered, but the journal is not trimmed yet
        _emit(log, 4, "unstored")  # journaled only: the "crash" comes now
        return sink.records

    delivered = asyncio.run(first())
    assert [r["seq"] for r in delivered] == [1, 2, 3, 4, 5]
    assert all(r["partition"] == "node-a" and r["hash"] for r in delivered)
    assert all(r["prev"] == p["hash"] for p, r in zip(delivered, delivered[1:], strict=False))
    # Redacted before anything was written: the journal, the store and the sinks alike.
    assert all("sk_live_" not in str(r["detail"]) for r in delivered)
    journal = b"".join(p.read_bytes() for p in (tmp_path / "audit-journal").iterdir())
    assert b"sk_live_" not in journal and journal.count(b"\n") == 9

    async def second() -> list[dict[str, Any]]:
        sink = Collect()
        log = AuditLog(store, "n2", data_dir=tmp_path, partition="node-a", signer=signer)
        log.add_sink(sink)
        await log.close()  # stores the replay, signs a checkpoint, trims the journal
        return sink.records

    redelivered = asyncio.run(second())
    resources = sorted(r["resource"] for r in redelivered if r["kind"] == "test.event")
    # All nine reach the sinks (the five stored ones again: receivers dedup on id) ...
    assert resources == sorted([f"stored-{i}" for i in range(5)]
                               + [f"unstored-{i}" for i in range(4)])
    rows = store.audit_chain_page("node-a", 0, 100)
    # ... but each is stored once, and the chain goes on where it was.
    assert sorted(r["resource"] for r in rows if r["kind"] == "test.event") == resources
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(record_hash(r) == r["hash"] for r in rows)
    assert rows[-1]["kind"] == "audit.checkpoint"
    assert not list((tmp_path / "audit-journal").iterdir())
    head = AuditLog(store, "n3", data_dir=tmp_path, partition="node-a").read_head()
    result = verify_store(store, signer.verify, heads={"node-a": head})
    assert result["ok"], result["problem"]
    store.close()


def _line(n: int) -> dict[str, Any]:
    return {"id": f"a{n}", "ts": float(n), "node": "n", "kind": "k", "decision": "deny",
            "principal": "p", "action": "a", "resource": "r", "request_id": None,
            "detail": {"n": n}}


def test_journal_rotation_keeps_every_record_until_discarded(tmp_path: Path) -> None:
    from ramparts.observe.journal import Journal

    directory = tmp_path / "audit-journal"
    journal = Journal(directory, rotate_bytes=500)
    for i in range(5):
        journal.append(_line(i), sync=True)
    rotated = journal.rotate_if_large()
    assert len(rotated) == 1 and rotated[0].exists()
    journal.retire()  # syncs (a sync was asked for) and closes the old segment
    for i in range(5, 8):
        journal.append(_line(i), sync=False)
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in directory.iterdir())
    # A "crash" now: the next start finds both segments, records in order.
    again = Journal(directory)
    assert [r["detail"]["n"] for r in again.leftovers()] == list(range(8))
    # Once stored, the rotated segment goes; the tail's segment stays until its turn.
    Journal.discard(rotated)
    third = Journal(directory)
    assert [r["detail"]["n"] for r in third.leftovers()] == [5, 6, 7]
    for j in (journal, again, third):
        j.close(empty=False)


def test_a_damaged_journal_line_is_skipped_not_stalling(tmp_path: Path) -> None:
    from ramparts.observe.journal import Journal

    directory = tmp_path / "audit-journal"
    journal = Journal(directory)
    journal.append({"id": "x1", "ts": 1.0, "node": "n", "kind": "k", "decision": "deny",
                    "principal": "p", "action": "a", "resource": "r", "request_id": None,
                    "detail": {}}, sync=False)
    journal.close(empty=False)
    (segment,) = directory.iterdir()
    with segment.open("ab") as fh:
        fh.write(b'{"id": "x2", "kind": 7}\n{"id": "x3", "ts": 2.0, "no')  # junk, then a cut line
    assert [r["id"] for r in Journal(directory).leftovers()] == ["x1"]
