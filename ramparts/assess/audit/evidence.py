"""Evidence checks: has the audit chain been verified lately, and did it verify?

Every ``ramparts audit-log verify`` run is itself an audit record
(``audit.verify``; decision ``deny`` when the chain failed).  RP-A014 fires
when the latest run failed, RP-A013 when there is no run within
``--verify-max-age`` days (a trail younger than that is not yet due).  The
audit does not verify the chain itself: a verification writes a checkpoint
and is the operator's act.
"""

from __future__ import annotations

from ramparts.assess.audit.inputs import DAY, PostureInputs
from ramparts.assess.findings import Finding


def check_audit_chain(inputs: PostureInputs) -> list[Finding]:
    runs = [e for e in inputs.events if e.get("kind") == "audit.verify"]
    limit = inputs.options.verify_max_age
    if not runs:
        # a trail younger than the limit has not yet been due for a verification
        begun = inputs.trail_since if inputs.trail_since is not None else inputs.now
        age = (inputs.now - begun) / DAY
        if age <= limit and limit > 0:
            return []
        return [
            Finding(
                "RP-A013",
                "audit log",
                f"the audit chain has never been verified; its oldest record is {age:.1f} "
                f"days old (limit {limit:g} days)",
            )
        ]
    last = max(runs, key=lambda e: e["seq"])
    if last.get("decision") == "deny":
        detail = last.get("detail") or {}
        where = (
            f" at {detail.get('bad_partition')}#{detail.get('bad_seq')}"
            if detail.get("bad_partition")
            else ""
        )
        return [
            Finding(
                "RP-A014",
                "audit log",
                f"the latest verification (audit record {last['seq']}) failed: "
                f"{detail.get('problem') or 'problem'}{where}",
            )
        ]
    age = (inputs.now - float(last["ts"])) / DAY
    if age > inputs.options.verify_max_age:
        return [
            Finding(
                "RP-A013",
                "audit log",
                f"last verified {age:.1f} days ago (limit {inputs.options.verify_max_age:g} days)",
            )
        ]
    return []
