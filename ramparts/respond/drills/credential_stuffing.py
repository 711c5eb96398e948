"""credential-stuffing: many bad API keys from one address -> failed-auth-burst -> block_ip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ramparts.respond.drills.base import OK_HANDLER, Check, Scenario, check_blocked
from ramparts.respond.drills.node import ThrowawayNode

ATTACKER = "203.0.113.66"  # TEST-NET-3, sent as X-Forwarded-For from loopback
BYSTANDER = "198.51.100.23"
ATTEMPTS = 30

MANIFEST = """
app: drill-stuffing
functions:
  account:
    handler: h.py:handler
    triggers:
      - http: {method: GET, path: /account, auth: api_key}
  status:
    handler: h.py:handler
    triggers:
      - http: {method: GET, path: /status, auth: none}
"""


class CredentialStuffing(Scenario):
    name = "credential-stuffing"
    summary = f"{ATTEMPTS} guessed API keys from one address; the address is blocked in the WAF"
    rules = ("failed-auth-burst",)
    containment = "block_ip"
    playbook_file = "credential-stuffing.yaml"

    def app(self) -> tuple[str, dict[str, str]]:
        return MANIFEST, {"h.py": OK_HANDLER}

    def attack(self, node: ThrowawayNode, work_dir: Path) -> None:
        for i in range(ATTEMPTS):
            node.gateway.get(
                "/account",
                headers={"x-forwarded-for": ATTACKER, "x-api-key": f"rk_drill{i:04d}.guessed"},
            )

    def verify_contained(self, node: ThrowawayNode, incident: dict[str, Any]) -> Check:
        return check_blocked(
            node,
            "/status",
            ATTACKER,
            BYSTANDER,
            passed=f"{ATTACKER} gets 403 waf_blocked; others are served",
        )
