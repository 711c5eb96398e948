"""The scenario contract and the shape of a drill's result.

A scenario says what it deploys, how it attacks, which detection rules must
fire, which playbook step is the containment, and how to check from outside
that the containment holds (the address is refused, the function answers 503).
A scenario whose detection does not exist sets ``unavailable`` to the reason;
the runner then reports it as not available instead of faking a pass.
"""

from __future__ import annotations

import textwrap
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ramparts.respond.drills.node import ThrowawayNode

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"

# The handler of a drill app that only has to answer: the attack is on the gateway.
OK_HANDLER = """
def handler(event, context):
    return {"statusCode": 200, "body": "ok"}
"""


@dataclass(frozen=True)
class Check:
    """One pass/fail check of a drill, with the reason a reader can act on."""

    name: str
    passed: bool
    reason: str


@dataclass
class DrillResult:
    scenario: str
    started_at: float
    status: str = "failed"  # passed | failed | not_available
    checks: list[Check] = field(default_factory=list)
    ttd_seconds: float | None = None  # attack start -> first expected alert raised
    ttc_seconds: float | None = None  # attack start -> containment step done
    incident: str | None = None
    reason: str = ""
    # how the run was set up, for the history: a scheduled run (the node's --drill-every)
    # or a manual one, with the shipped rule set or a --detections dir ("custom"), and the
    # scenario's shipped playbook, a --playbook file ("custom") or none (--without-playbook)
    scheduled: bool = False
    detections: str = "shipped"  # shipped | custom
    playbook: str = "shipped"  # shipped | custom | none

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Scenario(ABC):
    """One scripted attack and what a well-defended node does about it."""

    name: str = ""
    summary: str = ""
    rules: tuple[str, ...] = ()  # detection rules that must raise an alert
    containment: str = ""  # the playbook action whose completion is "contained"
    playbook_file: str = ""  # under playbooks/
    unavailable: str | None = None  # why this scenario cannot run, when it cannot

    def up_args(self, work_dir: Path) -> list[str]:
        """Extra ``ramparts up`` options this scenario needs (files go under work_dir)."""
        return []

    def app(self) -> tuple[str, dict[str, str]] | None:
        """(ramparts.yaml, {file: text}) deployed before the attack, or None."""
        return None

    def playbook(self) -> str:
        return (PLAYBOOKS / self.playbook_file).read_text()

    @abstractmethod
    def attack(self, node: ThrowawayNode, work_dir: Path) -> None:
        """Run the scripted attack (returns once the attack traffic is sent)."""

    @abstractmethod
    def verify_contained(self, node: ThrowawayNode, incident: dict[str, Any]) -> Check:
        """Check from outside that the containment took effect."""


def write_app(root: Path, manifest: str, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "ramparts.yaml").write_text(textwrap.dedent(manifest))
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def check_quarantined(node: ThrowawayNode, function: str) -> Check:
    """The function is on the quarantine list and an invocation answers 503."""
    held = [q["function"] for q in node.get("/v1/quarantines")["quarantines"]]
    if function not in held:
        return Check("contained", False, f"{function} is not quarantined (quarantined: {held})")
    r = node.post(f"/v1/functions/{function}/invoke", json={"event": {}})
    code = r.json().get("code") if r.status_code >= 400 else None
    if r.status_code != 503 or code != "function_quarantined":
        return Check("contained", False, f"{function} still runs ({r.status_code})")
    return Check("contained", True, f"{function} is quarantined: 503 function_quarantined")


def check_blocked(
    node: ThrowawayNode,
    path: str,
    attacker: str,
    bystander: str,
    *,
    passed: str,
    in_block_list: bool = False,
) -> Check:
    """The attacker's address gets 403 on ``path`` while a bystander's is served.

    Both are sent as ``X-Forwarded-For`` from loopback.  With ``in_block_list``
    the address must also be on the run-time block list (``/v1/waf/blocks``),
    so a refusal for another reason does not pass as containment.  ``passed``
    is the reason reported when it holds.
    """
    blocked = node.gateway.get(path, headers={"x-forwarded-for": attacker})
    other = node.gateway.get(path, headers={"x-forwarded-for": bystander})
    if blocked.status_code != 403:
        return Check(
            "contained", False, f"the attacker {attacker} still gets {blocked.status_code}"
        )
    if other.status_code != 200:
        return Check("contained", False, f"a bystander is refused too ({other.status_code})")
    if in_block_list:
        cidrs = [b["cidr"] for b in node.get("/v1/waf/blocks")["blocks"]]
        if f"{attacker}/32" not in cidrs:
            return Check("contained", False, f"{attacker} is not in the run-time block list")
    return Check("contained", True, passed)
