"""backdoored-dependency: deploy an app pinning a package with a known advisory.

The drill's node checks dependencies against a small advisory set shipped with
the drill (``advisories/``: one synthetic OSV record for a package that does
not exist, ``ramparts-drill-backdoor``), so the drill needs no network and
never names a real package.  The deploy gate refuses the app
(``deploy-gate-refusal``) and the playbook keeps a signed evidence snapshot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ramparts.respond.drills.base import Check, Scenario, write_app
from ramparts.respond.drills.node import ThrowawayNode

ADVISORIES = Path(__file__).resolve().parent / "advisories"
FUNCTION = "importer"

MANIFEST = f"""
app: drill-supply
functions:
  {FUNCTION}:
    handler: h.py:handler
"""
HANDLER = """
def handler(event, context):
    return {"ok": True}
"""


class BackdooredDependency(Scenario):
    name = "backdoored-dependency"
    summary = "an app pinning a package with a critical advisory is deployed; the gate refuses it"
    rules = ("deploy-gate-refusal",)
    containment = "snapshot_evidence"
    playbook_file = "backdoored-dependency.yaml"

    def __init__(self) -> None:
        self._refused_on: set[str] = set()

    def up_args(self, work_dir: Path) -> list[str]:
        return ["--advisories", str(ADVISORIES)]

    def attack(self, node: ThrowawayNode, work_dir: Path) -> None:
        files = {"h.py": HANDLER, "requirements.txt": "ramparts-drill-backdoor==1.0.0\n"}
        app_dir = write_app(work_dir / "backdoored", MANIFEST, files)
        r = node.deploy(app_dir)
        body = r.json() if r.status_code == 422 else {}
        # what the gate refused on, as "RULE ADVISORY-ID" (checked by verify_contained)
        self._refused_on = {
            f"{f.get('rule_id')} {'RAMPARTS-DRILL-0001' in str(f.get('message'))}"
            for f in body.get("findings", [])
        }

    def verify_contained(self, node: ThrowawayNode, incident: dict[str, Any]) -> Check:
        deployed = [f["name"] for f in node.get("/v1/functions")["functions"]]
        if FUNCTION in deployed:
            return Check("contained", False, f"the backdoored app was deployed ({FUNCTION} exists)")
        if "RP-D001 True" not in self._refused_on:
            return Check(
                "contained",
                False,
                "the deploy was not refused for the drill's advisory (RP-D001 RAMPARTS-DRILL-0001)",
            )
        if not (incident.get("evidence") or incident.get("has_evidence")):
            return Check("contained", False, "the incident holds no evidence snapshot")
        return Check(
            "contained",
            True,
            "the gate refused the deploy (RP-D001 RAMPARTS-DRILL-0001); "
            "a signed evidence snapshot is kept",
        )
