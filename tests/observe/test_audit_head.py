"""The signed head file against the stored chain, at start and in verify.

Someone who can write the store *and* the data dir of a stopped node edits a
signed record in the middle of the chain, deletes the checkpoints after it,
re-numbers and re-hashes the rest and deletes ``audit-head.json``: the node
must refuse to start (exit 3, naming the cause) instead of signing the forged
chain, unless told ``--accept-data-loss`` (then the loss is audited, critical).
A kill -9 between a checkpoint's commit and the head file's write must never
cause a refusal: those states are built directly (no timing), by cutting the
store back to a checkpoint and putting an older head file (or none) beside it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from ramparts.observe.chain import record_hash
from tests.conftest import RunningNode
from tests.startup import up_refused

SIGNED_KINDS = ("audit.checkpoint", "audit.anchor")
COLS = ("id", "ts", "node", "part", "pseq", "kind", "decision", "principal", "action",
        "resource", "request_id", "detail", "prev", "hash")


def _deny(node: RunningNode, n: int, tag: str) -> None:
    for i in range(n):
        node.control.get(f"/v1/{tag}-{i}", headers={"authorization": "Bearer wrong"})


def _node(tmp_path: Path) -> RunningNode:
    # Checkpoints only from verify runs, shutdowns and the first tick: no clock in the test.
    return RunningNode(tmp_path / "data", {"RAMPARTS_AUDIT_CHECKPOINT_INTERVAL": "1h"})


def _db(node: RunningNode) -> sqlite3.Connection:
    return sqlite3.connect(node.data_dir / "state.db", timeout=30, isolation_level=None)


def _chain(node: RunningNode) -> list[dict[str, Any]]:
    with _db(node) as conn:
        rows = conn.execute(f"SELECT {', '.join(COLS)} FROM audit_events "  # noqa: S608
                            "WHERE part IS NOT NULL ORDER BY pseq").fetchall()
    return [dict(zip(COLS, r, strict=True)) for r in rows]


def _first_checkpoint(node: RunningNode) -> dict[str, Any]:
    """The node's first checkpoint, written by its first tick: waited for, on a busy machine."""
    deadline = time.monotonic() + 60
    while True:
        found = [r for r in _chain(node) if r["kind"] == "audit.checkpoint"]
        if found or time.monotonic() > deadline:
            assert found, "no checkpoint within 60 s of the start"
            return found[0]
        time.sleep(0.2)


def _head(node: RunningNode) -> dict[str, Any]:
    return dict(json.loads((node.data_dir / "audit-head.json").read_text())["signed"])


def _cut_after(node: RunningNode, seq: int) -> None:
    with _db(node) as conn:
        conn.execute("DELETE FROM audit_events WHERE part IS NOT NULL AND pseq > ?", (seq,))


def _verifies(node: RunningNode) -> None:
    out = node.cli("audit-log", "verify", "--json")
    assert out.returncode == 0, out.stdout + out.stderr


def test_rewritten_middle_with_head_deleted_is_refused_at_start(tmp_path: Path) -> None:
    node = _node(tmp_path).start()
    try:
        _deny(node, 14, "early")
        assert node.control.post("/v1/audit/verify").json()["ok"]  # a checkpoint mid-chain
        _deny(node, 8, "late")
        assert node.control.post("/v1/audit/verify").json()["ok"]
    finally:
        node.close()
    chain = _chain(node)
    first_cp = next(r["pseq"] for r in chain if r["kind"] == "audit.checkpoint" and r["pseq"] > 3)
    victim = next(r for r in chain if r["pseq"] > first_cp and r["kind"] not in SIGNED_KINDS)
    # The forgery: the victim edited, every signed record after it dropped, the rest
    # re-numbered and re-hashed; the head file deleted.
    kept = [r for r in chain if r["pseq"] <= victim["pseq"] or r["kind"] not in SIGNED_KINDS]
    prev = None
    forged = []
    for seq, r in enumerate(kept, 1):
        rec = {**r, "partition": r["part"], "seq": seq, "prev": prev or r["prev"]}
        if r["id"] == victim["id"]:
            rec["principal"] = "ip:198.51.100.7"
        rec["hash"] = record_hash(rec)
        prev = rec["hash"]
        forged.append(rec)
    with _db(node) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM audit_events WHERE part IS NOT NULL")
        for rec in forged:
            conn.execute(
                f"INSERT INTO audit_events ({', '.join(COLS)}) "  # noqa: S608
                f"VALUES ({', '.join('?' * len(COLS))})",
                tuple(rec[c] if c not in ("part", "pseq") else rec[{"part": "partition",
                                                                     "pseq": "seq"}[c]]
                      for c in COLS),
            )
        conn.execute("COMMIT")
    (node.data_dir / "audit-head.json").unlink()

    out = up_refused(node.data_dir)
    assert out.returncode == 3, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert "audit-head.json" in text and "--accept-data-loss" in text
    assert "Traceback" not in text
    assert not (node.data_dir / "audit-head.json").exists()  # nothing signed meanwhile

    accepted = _node(tmp_path)
    accepted.data_dir = node.data_dir
    accepted.command = lambda: [*RunningNode.command(accepted), "--accept-data-loss"]  # type: ignore[method-assign]
    accepted.start()
    try:
        losses = [e for e in accepted.audit() if e["kind"] == "storage.data_loss_accepted"]
        assert losses and losses[0]["detail"]["severity"] == "critical"
        assert losses[0]["resource"] == "file:audit-head.json"
        assert losses[0]["detail"]["check"] == "audit-head"
    finally:
        accepted.close()


def test_head_file_rolled_back_past_two_checkpoints_is_refused(tmp_path: Path) -> None:
    node = _node(tmp_path).start()
    try:
        _deny(node, 4, "a")
        assert node.control.post("/v1/audit/verify").json()["ok"]
        old_head = (node.data_dir / "audit-head.json").read_bytes()
        _deny(node, 4, "b")
        assert node.control.post("/v1/audit/verify").json()["ok"]
    finally:
        node.close()  # the shutdown checkpoint: two signed records after the old head
    (node.data_dir / "audit-head.json").write_bytes(old_head)
    out = up_refused(node.data_dir)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "audit-head.json" in out.stdout + out.stderr


def test_kill_between_checkpoint_commit_and_head_write_starts(tmp_path: Path) -> None:
    """The stored checkpoint is the chain's last record; the head file is the one before."""
    node = _node(tmp_path).start()
    try:
        _deny(node, 4, "a")
        assert node.control.post("/v1/audit/verify").json()["ok"]
        old_head = (node.data_dir / "audit-head.json").read_bytes()
        _deny(node, 4, "b")
        assert node.control.post("/v1/audit/verify").json()["ok"]
        newest = _head(node)
    finally:
        node.kill9()
        node.close()
    _cut_after(node, newest["seq"])  # what a kill right after the commit leaves
    (node.data_dir / "audit-head.json").write_bytes(old_head)
    again = _node(tmp_path)
    again.data_dir = node.data_dir
    again.start()
    try:
        _verifies(again)
        assert _head(again)["seq"] >= newest["seq"]
        assert not any(e["kind"] == "storage.data_loss_accepted" for e in again.audit())
    finally:
        again.close()


def test_kill_before_the_first_head_write_starts(tmp_path: Path) -> None:
    """A fresh node killed right after storing its first checkpoint: no head file yet."""
    node = _node(tmp_path).start()
    try:
        _deny(node, 3, "a")
        first = _first_checkpoint(node)
    finally:
        node.kill9()
        node.close()
    _cut_after(node, first["pseq"])
    (node.data_dir / "audit-head.json").unlink(missing_ok=True)  # written or not yet
    again = _node(tmp_path)
    again.data_dir = node.data_dir
    again.start()
    try:
        _verifies(again)
    finally:
        again.close()


def test_verify_names_a_missing_head_file(tmp_path: Path) -> None:
    node = _node(tmp_path).start()
    try:
        _deny(node, 3, "a")
        assert node.control.post("/v1/audit/verify").json()["ok"]
        (node.data_dir / "audit-head.json").unlink()
        out = node.cli("audit-log", "verify", "--json")
        assert out.returncode == 1, out.stdout
        assert json.loads(out.stdout)["problem"]["code"] == "head_missing"
    finally:
        node.close()


def _accepting(tmp_path: Path, data_dir: Path) -> RunningNode:
    node = _node(tmp_path)
    node.data_dir = data_dir
    node.command = lambda: [*RunningNode.command(node), "--accept-data-loss"]  # type: ignore[method-assign]
    return node


def test_changed_identity_does_not_hide_a_cut_chain(tmp_path: Path) -> None:
    """The old partition's tail cut after a checkpoint, node-identity replaced and the head
    file deleted: the node would start a fresh chain and leave the cut one as "another
    node's", whose tail nobody checks.  On a SQLite store every chain in it is this data
    dir's own, so the start is refused."""
    node = _node(tmp_path).start()
    try:
        _deny(node, 10, "early")
        assert node.control.post("/v1/audit/verify").json()["ok"]  # a checkpoint mid-chain
        _deny(node, 10, "late")
    finally:
        node.close()
    old_part = (node.data_dir / "node-identity").read_text().strip()
    chain = _chain(node)
    mid_cp = next(r["pseq"] for r in chain if r["kind"] == "audit.checkpoint" and r["pseq"] > 3)
    assert chain[-1]["pseq"] > mid_cp + 5
    _cut_after(node, mid_cp)
    (node.data_dir / "node-identity").write_text("node-0123456789abcdef\n")
    (node.data_dir / "audit-head.json").unlink()

    out = up_refused(node.data_dir)
    text = out.stdout + out.stderr
    assert out.returncode == 3, text
    assert old_part in text and "--accept-data-loss" in text and "Traceback" not in text
    assert not (node.data_dir / "audit-head.json").exists()  # nothing signed meanwhile

    # Accepted: audited as critical, and remembered (the next start is not refused again).
    accepted = _accepting(tmp_path, node.data_dir).start()
    try:
        losses = [e for e in accepted.audit() if e["kind"] == "storage.data_loss_accepted"]
        assert losses and losses[0]["detail"]["severity"] == "critical"
        assert old_part in losses[0]["detail"]["detail"]
    finally:
        accepted.close()
    again = _node(tmp_path)
    again.data_dir = node.data_dir
    again.start()
    try:
        _verifies(again)
    finally:
        again.close()
    # The old chain cut again, now behind the head this data dir remembers for it: refused.
    _cut_after_in(node, old_part, mid_cp - 2)
    out = up_refused(node.data_dir)
    assert out.returncode == 3 and old_part in out.stdout + out.stderr, out.stdout + out.stderr


def _cut_after_in(node: RunningNode, part: str, seq: int) -> None:
    with _db(node) as conn:
        conn.execute("DELETE FROM audit_events WHERE part = ? AND pseq > ?", (part, seq))


def test_verify_says_when_no_head_vouches_for_a_tail(tmp_path: Path) -> None:
    """A partition no head file covers (another node's on a shared store) verifies only up
    to its last checkpoint: the report says so instead of a plain "ok"."""
    from ramparts.observe.chain import public_key_verifier
    from ramparts.observe.evidence import load_public_key, verify_store
    from ramparts.store import open_store

    node = _node(tmp_path).start()
    try:
        _deny(node, 6, "x")
        export = tmp_path / "export.json"
        assert node.cli("audit-log", "export", "-o", str(export)).returncode == 0
    finally:
        node.close()
    key = load_public_key(json.loads(export.read_text())["public_key"].encode(), source="export")
    verify = public_key_verifier(key)
    chain = _chain(node)
    part, last = chain[-1]["part"], chain[-1]
    store = open_store(f"sqlite:///{node.data_dir / 'state.db'}")
    try:
        result = verify_store(store, verify, heads={})
        (rep,) = result["partitions"]
        assert result["ok"] and rep["tail_vouched"] is False
        assert rep["note"] == (f"ok up to its last checkpoint at seq {rep['last_signed_seq']}; "
                               "tail not vouched for")
        vouched = verify_store(store, verify, heads={},
                               retired={part: {"seq": last["pseq"], "hash": last["hash"]}})
        assert vouched["ok"] and vouched["partitions"][0]["tail_vouched"] is True
        beyond = verify_store(store, verify, heads={},
                              retired={part: {"seq": last["pseq"] + 3, "hash": last["hash"]}})
        assert not beyond["ok"] and beyond["problem"]["code"] == "truncated"
    finally:
        store.close()
