"""Supply-chain checks: accepted scan risks near expiry, advisories in live versions.

RP-A016 reads the acceptances of each app's latest successful deploy (the
``scan.risk_accepted`` records the deploy wrote just before its ``scan.gate``
record): a baseline entry past its expiry, or within ``--expiry-warning``
days of it.  A one-deploy ``--accept-risk`` has no expiry and is not judged.
RP-A017 reads the ``advisory.detected`` records of the node's re-check
(``ramparts advisories check``, and the node's daily run) against the live
versions.  RP-A018 fires when the node has no advisory source, its periodic
re-check is off, the latest re-check found no source, or no re-check
succeeded within two days (counted from the node's start at the earliest).
Not checked: advisories published since the last re-check (run one first).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from ramparts.assess.audit.inputs import DAY, PostureInputs
from ramparts.assess.findings import Finding

_CHECK_MAX_AGE = 2.0  # days: the node re-checks daily


def _accepted_in_last_deploy(events: list[dict[str, Any]], app: str) -> list[dict[str, Any]]:
    resource = f"app:{app}"
    mine = [
        e
        for e in events
        if e.get("resource") == resource and e.get("kind") in ("scan.gate", "scan.risk_accepted")
    ]
    mine.sort(key=lambda e: e["seq"])
    gates = [i for i, e in enumerate(mine) if e["kind"] == "scan.gate"]
    if not gates:
        return []
    start = gates[-2] + 1 if len(gates) > 1 else 0
    return [e for e in mine[start : gates[-1]] if e["kind"] == "scan.risk_accepted"]


def check_acceptances(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    today = datetime.fromtimestamp(inputs.now, UTC).date()
    warn = inputs.options.expiry_warning
    for app in inputs.apps():
        for event in _accepted_in_last_deploy(inputs.events, app):
            detail = event.get("detail") or {}
            raw = detail.get("expires")
            if not isinstance(raw, str):
                continue
            try:
                expires = date.fromisoformat(raw)
            except ValueError:
                continue
            left = (expires - today).days
            if left >= 0 and left > warn:
                continue
            state = f"expired on {raw}" if left < 0 else f"expires {raw}, in {left} day(s)"
            where = f"{detail.get('path')}:{detail.get('line')}" if detail.get("path") else ""
            found.append(
                Finding(
                    "RP-A016",
                    f"finding {detail.get('id')} ({detail.get('rule')} {where})".strip(),
                    f"accepted in {detail.get('source') or 'a baseline'}: {state}; reason: "
                    f"{str(detail.get('reason') or '')[:200]}",
                    app,
                )
            )
    return found


def check_advisories(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    live = {(fn.name, fn.version[:12]): fn for fn in inputs.functions}
    seen: set[tuple[str, str, str, str]] = set()
    for event in inputs.events:
        if event.get("kind") != "advisory.detected":
            continue
        _, _, rest = str(event.get("resource", "")).partition(":")
        name, _, version = rest.partition(":")
        fn = live.get((name, version))
        detail = event.get("detail") or {}
        key = (name, version, str(detail.get("advisory")), str(detail.get("package")))
        if fn is None or key in seen:
            continue
        seen.add(key)
        fixed = detail.get("fixed_in")
        found.append(
            Finding(
                "RP-A017",
                f"function:{name}:{version} {detail.get('package')} {detail.get('installed')}",
                f"{detail.get('advisory')} ({detail.get('severity')})"
                + (f", fixed in {fixed}" if fixed else ", no fixed version"),
                fn.app,
                name,
            )
        )
    return found


def check_advisory_recheck(inputs: PostureInputs) -> list[Finding]:
    """No source, no periodic re-check, a failing one, or none for two days of uptime."""
    node = inputs.node
    runs = sorted(
        (e for e in inputs.events if e.get("kind") == "advisory.check"), key=lambda e: e["seq"]
    )
    ok = [e for e in runs if e.get("decision") == "allow"]
    problems = []
    if node.advisories_off:
        problems.append("no advisory source (--advisories off)")
    if node.advisory_check_interval <= 0:
        problems.append("the periodic re-check is off (--advisory-check-interval 0)")
    if runs and runs[-1].get("decision") != "allow":
        why = [e for e in inputs.events if e.get("kind") == "advisory.check_unavailable"]
        latest = max(why, key=lambda e: e["seq"]) if why else {}
        reason = str((latest.get("detail") or {}).get("reason") or "")
        problems.append(
            "the latest re-check found no advisory source"
            + (f" ({reason[:200]})" if reason else "")
        )
    # the node's first periodic run is one interval after its start: allow for that
    since = max([float(e["ts"]) for e in ok] + [node.started_at])
    limit = max(_CHECK_MAX_AGE, node.advisory_check_interval / DAY + 1)
    if not problems and (inputs.now - since) / DAY > limit:
        problems.append(
            f"no successful re-check in {limit:g} days"
            if ok
            else "live versions were never re-checked against advisories"
        )
    return [Finding("RP-A018", "advisories", "; ".join(problems))] if problems else []
