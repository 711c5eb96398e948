"""audit-tampering: edit a stored audit record -> verify fails -> audit-verification-failure.

The attack is what an intruder with write access to the state store does: it
changes one byte-range of a chained audit record in the node's SQLite file.
Then the verification an operator schedules runs (``POST /v1/audit/verify``,
what ``ramparts audit-log verify`` calls); its failure is audited and the
shipped rule raises a critical alert; the playbook snapshots evidence.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from ramparts.respond.drills.base import Check, Scenario
from ramparts.respond.drills.errors import DrillError
from ramparts.respond.drills.node import ThrowawayNode

MANIFEST = """
app: drill-audit
functions:
  ledger:
    handler: h.py:handler
"""
HANDLER = """
def handler(event, context):
    return {"ok": True}
"""


class AuditTampering(Scenario):
    name = "audit-tampering"
    summary = "one stored audit record is edited; verification fails and evidence is snapshot"
    rules = ("audit-verification-failure",)
    containment = "snapshot_evidence"
    playbook_file = "audit-tampering.yaml"

    def app(self) -> tuple[str, dict[str, str]]:
        return MANIFEST, {"h.py": HANDLER}

    def attack(self, node: ThrowawayNode, work_dir: Path) -> None:
        node.audit_count()  # flush: the records to edit are on disk
        db = sqlite3.connect(node.data_dir / "state.db", timeout=30, isolation_level=None)
        try:
            row = db.execute(
                "SELECT part, pseq FROM audit_events WHERE part IS NOT NULL AND kind = "
                "'registry.deploy' ORDER BY pseq LIMIT 1"
            ).fetchone()
            if row is None:
                raise DrillError("audit-tampering: no chained deploy record to edit")
            db.execute(
                "UPDATE audit_events SET resource = resource || '-forged' "
                "WHERE part = ? AND pseq = ?",
                row,
            )
        finally:
            db.close()
        node.post("/v1/audit/verify")

    def verify_contained(self, node: ThrowawayNode, incident: dict[str, Any]) -> Check:
        if not (incident.get("evidence") or incident.get("has_evidence")):
            return Check("contained", False, "the incident holds no evidence snapshot")
        return Check("contained", True, "a signed evidence snapshot is kept on the incident")
