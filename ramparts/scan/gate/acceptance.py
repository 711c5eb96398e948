"""Accepted risks, applied to a result: ``--accept-risk ID --reason TEXT`` and the baseline."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from ramparts.scan.baseline import Baseline, BaselineEntry, BaselineError
from ramparts.scan.findings import Finding
from ramparts.scan.gate.result import Acceptance, GateResult


def _check_labels(entry: BaselineEntry, f: Finding, name: str) -> None:
    """A baseline entry's ``rule``/``path`` must describe the finding its id accepts.

    They are what a reviewer of the baseline reads; an entry labelled "a
    missing timeout in other.py" must not silently accept a path traversal
    in h.py.  The line after ``path:`` is not compared: it moves with edits.
    """
    if entry.rule is not None and entry.rule != f.rule_id:
        raise BaselineError(f"{name}: entry {entry.id}.rule: says {entry.rule} but the finding "
                            f"with this id is {f.rule_id} at {f.location}")
    if entry.path is not None:
        file = re.sub(r":\d+$", "", entry.path.strip()).removeprefix("./")
        if file != f.path:
            raise BaselineError(f"{name}: entry {entry.id}.path: says {entry.path} but the "
                                f"finding with this id is in {f.path} ({f.rule_id})")


def apply_acceptances(
    result: GateResult, accept: list[Acceptance], baseline: Baseline | None, day: date
) -> None:
    by_id = {a.id: a for a in accept}
    matched: set[str] = set()
    used_baseline: set[str] = set()
    expired: dict[str, BaselineEntry] = {}
    # an id written before scopes were part of it matches only a finding no other shares
    legacy = Counter(f.legacy_id for f in result.findings)
    for f in result.findings:
        fid = f.id
        if fid in by_id:
            matched.add(fid)
            a = by_id[fid]
            f.accepted = {"source": "accept-risk", "reason": a.reason}
            if a.actor:
                f.accepted["actor"] = a.actor
            continue
        entry = None
        if baseline is not None:
            entry = baseline.get(fid)
            if entry is None and legacy[f.legacy_id] == 1:  # unambiguous: one finding has it
                entry = baseline.get(f.legacy_id)
        if entry is None:
            continue
        _check_labels(entry, f, baseline.name if baseline else "baseline")
        used_baseline.add(entry.id)
        if entry.expired(day):
            expired[entry.id] = entry
            continue
        f.accepted = {"source": f"baseline:{baseline.name}" if baseline else "baseline",
                      "reason": entry.reason, "expires": entry.expires.isoformat()}
    result.expired = list(expired.values())
    for e in result.expired:
        result.notes.append(f"baseline entry {e.id} expired on {e.expires.isoformat()}: "
                            "the finding counts again (renew it with a new reason, or fix it)")
    result.unused_acceptances = [a.id for a in accept if a.id not in matched]
    for fid in result.unused_acceptances:
        result.notes.append(f"--accept-risk {fid} matches no finding of this scan")
    if baseline is not None:
        stale = [i for i in baseline.entries if i not in used_baseline]
        if stale:
            result.notes.append(f"{len(stale)} baseline entr{'y' if len(stale) == 1 else 'ies'} "
                                f"in {baseline.name} match no finding any more: "
                                + ", ".join(stale[:5]) + ("..." if len(stale) > 5 else ""))
