"""secret-exfiltration: a handler reads secrets it is not granted.

policy-denial-burst raises the alert; the playbook quarantines the function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ramparts.respond.drills.base import Check, Scenario, check_quarantined
from ramparts.respond.drills.node import ThrowawayNode

FUNCTION = "report"
READS = 15  # policy-denial-burst: 10 refusals within 60 s

MANIFEST = f"""
app: drill-exfil
functions:
  {FUNCTION}:
    handler: h.py:handler
    secrets: [report-token]
"""
# A compromised handler walks the secret store for names it was never granted.
HANDLER = f"""
from ramparts import AccessDenied

NAMES = ["db-password", "stripe-key", "admin-token", "aws-root", "github-token"]

def handler(event, context):
    refused = 0
    for i in range({READS}):
        try:
            context.secrets.get(NAMES[i % len(NAMES)] + "-" + str(i))
        except AccessDenied:
            refused += 1
    return {{"refused": refused}}
"""


class SecretExfiltration(Scenario):
    name = "secret-exfiltration"
    summary = f"a handler tries to read {READS} secrets it is not granted; it is quarantined"
    rules = ("policy-denial-burst",)
    containment = "quarantine"
    playbook_file = "secret-exfiltration.yaml"

    def app(self) -> tuple[str, dict[str, str]]:
        return MANIFEST, {"h.py": HANDLER}

    def attack(self, node: ThrowawayNode, work_dir: Path) -> None:
        node.post(f"/v1/functions/{FUNCTION}/invoke", json={"event": {}})

    def verify_contained(self, node: ThrowawayNode, incident: dict[str, Any]) -> Check:
        return check_quarantined(node, FUNCTION)
