"""Tamper evidence of the audit log, against a real node and its real SQLite file.

Each test edits the node's ``state.db`` the way an intruder with write access
to the database would, checks that ``ramparts audit-log verify`` fails and
names the first bad record, then puts the rows back exactly (the node keeps
appending meanwhile), so the chain verifies again for the next test.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ramparts.observe.chain import record_hash
from tests.conftest import RunningNode

COLS = ("seq", "ts", "node", "kind", "decision", "principal", "action", "resource",
        "request_id", "detail", "id", "part", "pseq", "prev", "hash")


@pytest.fixture(scope="module")
def anode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("auditnode")
    # Checkpoints come from the verify runs here, not the clock: no periodic one moves the
    # signed head while a test has cut the chain.
    running = RunningNode(base / "data", {"RAMPARTS_AUDIT_CHECKPOINT_INTERVAL": "1h"})
    running.start()
    # Some decisions to chain: denied control requests (each one a "deny" record).
    for i in range(12):
        running.control.get(f"/v1/status-{i}", headers={"authorization": "Bearer wrong"})
    assert running.control.post("/v1/audit/verify").json()["ok"]  # a checkpoint mid-chain
    for i in range(6):
        running.control.get(f"/v1/late-{i}", headers={"authorization": "Bearer wrong"})
    yield running
    running.close()


def _db(node: RunningNode) -> sqlite3.Connection:
    conn = sqlite3.connect(node.data_dir / "state.db", timeout=30, isolation_level=None)
    return conn


def _only_partition(node: RunningNode) -> str:
    with _db(node) as conn:
        (part,) = conn.execute("SELECT DISTINCT part FROM audit_events "
                               "WHERE part IS NOT NULL").fetchone()
    return str(part)


def _rows(node: RunningNode, part: str) -> list[tuple[Any, ...]]:
    with _db(node) as conn:
        return conn.execute(
            f"SELECT {', '.join(COLS)} FROM audit_events WHERE part = ? ORDER BY pseq",  # noqa: S608
            (part,),
        ).fetchall()


def _restore(node: RunningNode, rows: list[tuple[Any, ...]]) -> None:
    """Put these rows back exactly (by id), whatever was done to them.

    The listing cursor (``seq``) is left to the database: SQLite hands a cut-off
    tail's rowids to the rows the node appended since.
    """
    with _db(node) as conn:
        conn.execute("BEGIN IMMEDIATE")
        for row in rows:
            conn.execute("DELETE FROM audit_events WHERE id = ?", (row[10],))
        for row in rows:
            conn.execute(
                f"INSERT INTO audit_events ({', '.join(COLS[1:])}) "  # noqa: S608
                f"VALUES ({', '.join('?' * (len(COLS) - 1))})",
                row[1:],
            )
        conn.execute("COMMIT")


def _verify(node: RunningNode) -> tuple[int, dict[str, Any]]:
    # in-process (as most commands here; a few go through the real entry point): this
    # file ran 22 CLI subprocesses, several per test
    out = node.cli_in_process("audit-log", "verify", "--json")
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, json.loads(out.stdout)


def _middle(node: RunningNode) -> tuple[str, list[tuple[Any, ...]], int]:
    part = _only_partition(node)
    rows = _rows(node, part)
    assert len(rows) > 10
    return part, rows, len(rows) // 2


def test_clean_chain_verifies_with_summary(anode: RunningNode) -> None:
    out = anode.cli("audit-log", "verify")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "audit log verifies" in out.stdout
    assert "audit chains" in out.stdout and "signer key id" in out.stdout
    code, result = _verify(anode)
    assert code == 0 and result["ok"]
    (part,) = result["partitions"]
    assert part["checkpoints"] >= 1
    # The API rows carry the chain fields, and a checkpoint is a chain record.
    events = anode.audit()
    assert {"partition", "chain_seq", "prev", "hash", "id"} <= set(events[-1])
    assert any(e["kind"] == "audit.checkpoint" for e in events)
    assert any(e["kind"] == "audit.verify" and e["decision"] == "allow" for e in events)
    # The old listing still works, chain fields included.
    listed = anode.cli_in_process("audit-log", "list", "--json", "--limit", "5")
    assert listed.returncode == 0, listed.stderr
    assert all(r["chain_seq"] and r["partition"] for r in json.loads(listed.stdout))


def test_modified_byte_is_named(anode: RunningNode) -> None:
    part, rows, k = _middle(anode)
    pseq = rows[k][12]
    with _db(anode) as conn:
        conn.execute("UPDATE audit_events SET resource = resource || 'x' WHERE part = ? "
                     "AND pseq = ?", (part, pseq))
    try:
        code, result = _verify(anode)
        assert code == 1
        assert result["problem"]["partition"] == part
        assert result["problem"]["seq"] == pseq
        assert result["problem"]["code"] == "modified"
    finally:
        _restore(anode, [rows[k]])
    assert _verify(anode)[0] == 0, _verify(anode)[1]["problem"]
    # The failed run was itself audited as a denial.
    assert any(e["kind"] == "audit.verify" and e["decision"] == "deny"
               and e["detail"]["problem"] == "modified" for e in anode.audit())


def test_deleted_record_is_named(anode: RunningNode) -> None:
    part, rows, k = _middle(anode)
    pseq = rows[k][12]
    with _db(anode) as conn:
        conn.execute("DELETE FROM audit_events WHERE part = ? AND pseq = ?", (part, pseq))
    try:
        code, result = _verify(anode)
        assert code == 1
        assert result["problem"]["code"] == "deleted"
        assert result["problem"]["seq"] == pseq + 1
        assert str(pseq) in result["problem"]["message"]
    finally:
        _restore(anode, [rows[k]])
    assert _verify(anode)[0] == 0, _verify(anode)[1]["problem"]


def test_swapped_records_are_named(anode: RunningNode) -> None:
    part, rows, k = _middle(anode)
    a, b = rows[k][12], rows[k + 1][12]
    with _db(anode) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE audit_events SET pseq = -1 WHERE part = ? AND pseq = ?", (part, a))
        conn.execute("UPDATE audit_events SET pseq = ? WHERE part = ? AND pseq = ?", (a, part, b))
        conn.execute("UPDATE audit_events SET pseq = ? WHERE part = ? AND pseq = -1", (b, part))
        conn.execute("COMMIT")
    try:
        code, result = _verify(anode)
        assert code == 1
        assert result["problem"]["seq"] == a
        assert result["problem"]["code"] == "reordered"
    finally:
        _restore(anode, [rows[k], rows[k + 1]])
    assert _verify(anode)[0] == 0, _verify(anode)[1]["problem"]


def test_truncated_tail_is_named(anode: RunningNode) -> None:
    """Cutting records off the end (the last checkpoint with them) shows against the head."""
    part = _only_partition(anode)
    assert _verify(anode)[0] == 0  # this run's checkpoint is the signed head now
    head = json.loads((anode.data_dir / "audit-head.json").read_text())["signed"]
    with _db(anode) as conn:  # what is cut is what gets restored: one transaction
        conn.execute("BEGIN IMMEDIATE")
        tail = conn.execute(
            f"SELECT {', '.join(COLS)} FROM audit_events WHERE part = ? AND pseq >= ?",  # noqa: S608
            (part, head["seq"] - 3),
        ).fetchall()
        conn.execute("DELETE FROM audit_events WHERE part = ? AND pseq >= ?",
                     (part, head["seq"] - 3))
        conn.execute("COMMIT")
    try:
        code, result = _verify(anode)
        assert code == 1
        assert result["problem"]["code"] == "truncated"
        assert result["problem"]["seq"] == head["seq"] - 3
    finally:
        _restore(anode, tail)
    assert _verify(anode)[0] == 0, _verify(anode)[1]["problem"]


def test_rehashed_forgery_without_the_key_is_detected(anode: RunningNode) -> None:
    """Rewrite one early record and re-hash everything after it: the signatures give it away."""
    part = _only_partition(anode)
    rows = _rows(anode, part)
    forged_rows = []
    prev = rows[0][13]
    for i, row in enumerate(rows):
        rec = dict(zip(COLS, row, strict=True))
        rec = {**rec, "partition": part, "seq": rec["pseq"], "prev": prev}
        if i == 2:
            rec["principal"] = "ip:203.0.113.9"
        rec["hash"] = record_hash(rec)
        prev = rec["hash"]
        forged_rows.append(rec)
    with _db(anode) as conn:
        conn.execute("BEGIN IMMEDIATE")
        for rec in forged_rows:
            conn.execute("UPDATE audit_events SET principal = ?, prev = ?, hash = ? "
                         "WHERE id = ?", (rec["principal"], rec["prev"], rec["hash"], rec["id"]))
        conn.execute("COMMIT")
    try:
        code, result = _verify(anode)
        assert code == 1
        assert result["problem"]["code"] in ("bad_signature", "replaced")
        # Every hash and link is right: only a signature can have caught it.
        first_checkpoint = next(r["pseq"] for r in forged_rows
                                if r["kind"] == "audit.checkpoint" and r["pseq"] > rows[2][12])
        assert result["problem"]["seq"] == first_checkpoint
    finally:
        _restore(anode, rows)
    assert _verify(anode)[0] == 0, _verify(anode)[1]["problem"]


def test_export_verifies_offline_and_an_edit_fails(anode: RunningNode, tmp_path: Path) -> None:
    out_file = tmp_path / "audit.json"
    out = anode.cli("audit-log", "export", "--from", "1970-01-01T00:00:00Z", "-o", str(out_file))
    assert out.returncode == 0, out.stdout + out.stderr
    doc = json.loads(out_file.read_text())
    key_id = doc["key_id"]
    # Offline: no node URL at all.
    env_free = ["--url", "http://127.0.0.1:9"]
    ok = anode.cli("audit-log", "verify", "--file", str(out_file), *env_free)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert key_id in ok.stdout and "not pinned" in ok.stdout
    pinned = anode.cli_in_process(
        "audit-log", "verify", "--file", str(out_file), "--public-key", key_id
    )
    assert pinned.returncode == 0, pinned.stdout
    pem = tmp_path / "signer.pem"
    pem.write_text(doc["public_key"])
    assert anode.cli_in_process("audit-log", "verify", "--file", str(out_file), "--public-key",
                     str(pem)).returncode == 0
    wrong = anode.cli_in_process("audit-log", "verify", "--file", str(out_file), "--public-key",
                      "0123456789abcdef")
    assert wrong.returncode == 1 and "wrong_key" in wrong.stdout

    # One byte of one record edited: named, exit 1.
    recs = doc["partitions"][0]["records"]
    recs[3]["resource"] = recs[3]["resource"] + "x"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    bad = anode.cli_in_process("audit-log", "verify", "--file", str(edited))
    assert bad.returncode == 1
    assert f"record {recs[3]['seq']}: modified" in bad.stdout

    # The last record dropped: the signed statement's end is missing.
    doc = json.loads(out_file.read_text())
    doc["partitions"][0]["records"].pop()
    edited.write_text(json.dumps(doc))
    bad = anode.cli_in_process("audit-log", "verify", "--file", str(edited), "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["problem"]["code"] == "truncated"


def test_export_cut_at_the_start_or_spliced_fails_pinned(anode: RunningNode,
                                                          tmp_path: Path) -> None:
    """The signed statement covers where each partition starts, not only where it ends."""
    out_file = tmp_path / "audit.json"
    assert anode.cli_in_process("audit-log", "export", "-o", str(out_file)).returncode == 0
    doc = json.loads(out_file.read_text())
    key_id = doc["key_id"]
    part = doc["partitions"][0]
    first_seq = part["records"][0]["seq"]

    def check(edited_doc: dict[str, Any]) -> dict[str, Any]:
        edited = tmp_path / "edited.json"
        edited.write_text(json.dumps(edited_doc))
        out = anode.cli_in_process(
            "audit-log", "verify", "--file", str(edited), "--public-key", key_id, "--json"
        )
        assert out.returncode == 1, out.stdout + out.stderr
        return dict(json.loads(out.stdout)["problem"])

    # The first three records cut off, the anchor moved to the new first record's prev.
    cut = json.loads(out_file.read_text())
    recs = cut["partitions"][0]["records"]
    del recs[:3]
    cut["partitions"][0]["anchor_prev"] = recs[0]["prev"]
    problem = check(cut)
    assert problem["code"] == "truncated" and problem["seq"] == first_seq

    # A later export's statement (a different start) over the first export's records.
    mid = recs[0]["ts"]
    later_file = tmp_path / "later.json"
    assert anode.cli_in_process("audit-log", "export", "--from", str(mid), "-o",
                     str(later_file)).returncode == 0
    later = json.loads(later_file.read_text())
    spliced = {**later, "partitions": [
        {**doc["partitions"][0],
         "records": doc["partitions"][0]["records"]
         + [r for r in later["partitions"][0]["records"]
            if r["seq"] > doc["partitions"][0]["records"][-1]["seq"]]},
    ]}
    assert check(spliced)["code"] == "inserted"
    # The same partition twice (the second from the other export).
    twice = {**later, "partitions": later["partitions"] + doc["partitions"]}
    assert check(twice)["code"] == "inserted"
    # An old-format file is refused by name, not verified.
    old = tmp_path / "old.json"
    old.write_text(json.dumps({**doc, "format": "ramparts-audit-export/1"}))
    out = anode.cli_in_process("audit-log", "verify", "--file", str(old))
    assert out.returncode == 1 and "export/1" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_bad_export_input_is_a_clear_error(anode: RunningNode, tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    out = anode.cli("audit-log", "verify", "--file", str(junk))
    assert out.returncode != 0 and "not a JSON audit export" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    out = anode.cli_in_process("audit-log", "export", "--from", "yesterday", "-o", str(junk))
    assert out.returncode != 0 and "--from" in out.stdout + out.stderr
    r = anode.control.get("/v1/audit/export", params={"from": "abc"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_argument"


def test_records_deleted_at_the_start_without_an_anchor_are_named(anode: RunningNode) -> None:
    part = _only_partition(anode)
    rows = _rows(anode, part)
    with _db(anode) as conn:
        conn.execute("DELETE FROM audit_events WHERE part = ? AND pseq <= ?",
                     (part, rows[1][12]))
    try:
        code, result = _verify(anode)
        assert code == 1 and result["problem"]["code"] == "deleted"
        assert result["problem"]["seq"] == rows[2][12]
    finally:
        _restore(anode, rows[:2])


def test_unchained_row_written_after_the_chain_began_is_named(anode: RunningNode) -> None:
    """A row with no chain fields, added after chaining began, is not 'from before the
    chain': it was inserted, and verify fails."""
    with _db(anode) as conn:
        conn.execute(
            "INSERT INTO audit_events (ts, node, kind, decision, principal, action, resource, "
            "request_id, detail, id, part, pseq, prev, hash) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,NULL,NULL,NULL,NULL)",
            (time.time(), "n1", "control.auth", "allow", "admin", "control:POST",
             "/v1/deploy", None, "{}", "e" * 32),
        )
        (store_seq,) = conn.execute("SELECT seq FROM audit_events WHERE id = ?",
                                    ("e" * 32,)).fetchone()
    try:
        listed = anode.cli_in_process("audit-log", "list", "--json", "--limit", "5")
        assert listed.returncode == 0 and "e" * 32 in listed.stdout
        code, result = _verify(anode)
        assert code == 1
        assert result["problem"]["code"] == "inserted"
        assert result["problem"]["seq"] == store_seq
        out = anode.cli_in_process("audit-log", "verify")
        assert out.returncode == 1 and "inserted" in out.stdout
        assert "records from before the chain" not in out.stdout
    finally:
        with _db(anode) as conn:
            conn.execute("DELETE FROM audit_events WHERE id = ?", ("e" * 32,))
    assert _verify(anode)[0] == 0


def test_inserted_record_is_named(anode: RunningNode) -> None:
    """A forged record spliced in with a correct hash and link: the one after it breaks.

    Runs last: the chain may keep a gap afterwards (see the end).
    """
    part, rows, k = _middle(anode)
    after = rows[k]
    later = _rows(anode, part)[k + 1:]
    with _db(anode) as conn:
        conn.execute("BEGIN IMMEDIATE")
        for row in reversed(later):  # make room: renumber the rest, from the end
            conn.execute("UPDATE audit_events SET pseq = pseq + 1 WHERE part = ? AND pseq = ?",
                         (part, row[12]))
        forged = {
            "id": "f" * 32, "ts": after[1], "node": after[2], "partition": part,
            "seq": after[12] + 1, "kind": "control.auth", "decision": "allow",
            "principal": "admin", "action": "control:GET", "resource": "/v1/status",
            "request_id": None, "detail": "{}", "prev": after[14],
        }
        forged["hash"] = record_hash(forged)
        conn.execute(
            "INSERT INTO audit_events (ts, node, kind, decision, principal, action, resource, "
            "request_id, detail, id, part, pseq, prev, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (forged["ts"], forged["node"], forged["kind"], forged["decision"],
             forged["principal"], forged["action"], forged["resource"], None, "{}",
             forged["id"], part, forged["seq"], forged["prev"], forged["hash"]),
        )
        conn.execute("COMMIT")
    try:
        code, result = _verify(anode)
        assert code == 1
        assert result["problem"]["seq"] == after[12] + 2
        assert result["problem"]["code"] == "reordered"
    finally:
        with _db(anode) as conn:
            conn.execute("DELETE FROM audit_events WHERE id = ?", ("f" * 32,))
        _restore(anode, later)
    # If the node, refused by the renumbered table, stored records from the tampered head
    # before the rows were back, the seq the shifted rows had taken stays a gap: named.
    code, result = _verify(anode)
    if code == 1:
        assert result["problem"]["code"] == "deleted"
        assert result["problem"]["seq"] > later[-1][12]



def test_export_with_duplicate_keys_or_unhashed_fields_is_malformed(anode: RunningNode,
                                                                     tmp_path: Path) -> None:
    """A field the hash does not cover, or a key given twice (a JSON parser keeps one of
    the two, another tool may show the other), must not pass as verified evidence."""
    out_file = tmp_path / "audit.json"
    assert anode.cli_in_process("audit-log", "export", "-o", str(out_file)).returncode == 0
    text = out_file.read_text()
    doc = json.loads(text)

    def check(body: str, needle: str) -> None:
        edited = tmp_path / "edited.json"
        edited.write_text(body)
        out = anode.cli_in_process("audit-log", "verify", "--file", str(edited), "--json")
        both = out.stdout + out.stderr
        assert out.returncode == 1, both
        assert "Traceback" not in both
        assert "malformed" in both and needle in both, both

    # A duplicate key inside a record: the second "principal" would win in most parsers.
    rec = doc["partitions"][0]["records"][2]
    first = json.dumps(rec)
    dup = first[:-1] + ', "principal": "ip:198.51.100.7"}'
    check(json.dumps(doc).replace(first, dup, 1), "principal")
    # A duplicate top-level key.
    check(json.dumps(doc)[:-1] + ', "format": "ramparts-audit-export/2"}', "format")
    # An extra field in a record, in a partition entry, in the statement.
    extra = json.loads(text)
    extra["partitions"][0]["records"][2]["note"] = "approved by the CISO"
    check(json.dumps(extra), "note")
    extra = json.loads(text)
    extra["partitions"][0]["comment"] = "x"
    check(json.dumps(extra), "comment")
    extra = json.loads(text)
    extra["unsigned_note"] = "x"
    check(json.dumps(extra), "unsigned_note")


def test_deeply_nested_export_is_a_clear_error(anode: RunningNode, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000)
    out = anode.cli("audit-log", "verify", "--file", str(deep))
    both = out.stdout + out.stderr
    assert out.returncode == 1, both
    assert "not a JSON audit export" in both and "Traceback" not in both
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 200_000 + "]" * 200_000)
    out = anode.cli_in_process("audit-log", "verify", "--file", str(nested))
    both = out.stdout + out.stderr
    assert out.returncode == 1 and "Traceback" not in both, both
