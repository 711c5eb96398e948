"""injection-burst: a burst of injection payloads the WAF blocks.

Not available: the WAF refuses such requests (``gateway.waf``, deny) and audits
each one, but no shipped detection rule watches ``gateway.waf`` records, so no
alert is raised and no playbook can act.  Rather than fake a pass, the scenario
reports itself as not available until such a rule ships.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ramparts.respond.drills.base import Check, Scenario
from ramparts.respond.drills.node import ThrowawayNode


class InjectionBurst(Scenario):
    name = "injection-burst"
    summary = "a burst of injection payloads blocked by the WAF; the address is blocked"
    containment = "block_ip"
    unavailable = (
        "no shipped detection rule watches WAF refusals (audit kind gateway.waf), "
        "so a blocked injection burst raises no alert for a playbook to act on"
    )

    def attack(self, node: ThrowawayNode, work_dir: Path) -> None:  # pragma: no cover
        raise NotImplementedError(self.unavailable)

    def verify_contained(
        self, node: ThrowawayNode, incident: dict[str, Any]
    ) -> Check:  # pragma: no cover
        raise NotImplementedError(self.unavailable)
