"""Practice checks: is a detection answered by a playbook, and is the audit itself run?

RP-A025: a loaded detection rule of severity high or critical that no stored
playbook matches by its ``match`` (rule ids, or a minimum severity the rule
meets; an empty ``match`` matches every rule).  A playbook narrowed to one
function or app counts as covering the rule: the audit cannot tell which
functions an alert will name.  Such an alert still opens an incident, but
nothing acts until a responder does.

RP-A026: no earlier ``ramparts audit`` (``posture.audit`` record) within
``--audit-max-age`` days; a trail younger than that is not yet due.  The run
being made is recorded after its report, so it never counts itself.  Pentest
and drill runs are not recorded on the node (``ramparts pentest`` reads the
node's inventory and attacks its gateway from outside; drills run on a
throw-away node and keep their history where they ran), so this control
cannot see them.
"""

from __future__ import annotations

from ramparts.assess.audit.inputs import DAY, PostureInputs
from ramparts.assess.findings import Finding

_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
SEVERE = frozenset({"high", "critical"})


def _covers(playbook: dict[str, object], rule: dict[str, str]) -> bool:
    rules = playbook.get("rules") or ()
    if rules and rule["id"] not in rules:  # type: ignore[operator]
        return False
    minimum = playbook.get("severity")
    return minimum is None or _RANK.get(rule["severity"], -1) >= _RANK[str(minimum)]


def check_playbook_coverage(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    for rule in inputs.detection_rules:
        if rule["severity"] not in SEVERE:
            continue
        if any(_covers(p, rule) for p in inputs.playbooks):
            continue
        found.append(
            Finding(
                "RP-A025",
                f"rule:{rule['id']}",
                f"{rule['severity']} rule {rule['id']} ({rule['title']}): no stored playbook "
                "matches it; its alerts open an incident and nothing acts",
            )
        )
    return found


def check_audit_runs(inputs: PostureInputs) -> list[Finding]:
    limit = inputs.options.audit_max_age
    runs = [e for e in inputs.events if e.get("kind") == "posture.audit"]
    if not runs:
        begun = inputs.trail_since if inputs.trail_since is not None else inputs.now
        age = (inputs.now - begun) / DAY
        if age <= limit and limit > 0:
            return []
        return [
            Finding(
                "RP-A026",
                "posture audit",
                f"no earlier ramparts audit run on this node; its oldest audit record is "
                f"{age:.1f} days old (limit {limit:g} days)",
            )
        ]
    last = max(runs, key=lambda e: e["seq"])
    age = (inputs.now - float(last["ts"])) / DAY
    if age > limit:
        return [
            Finding(
                "RP-A026",
                "posture audit",
                f"last ramparts audit run {age:.1f} days ago (audit record {last['seq']}; "
                f"limit {limit:g} days)",
            )
        ]
    return []
