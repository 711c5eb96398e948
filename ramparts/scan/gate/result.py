"""What the gate is asked (``GateOptions``, ``Acceptance``) and what it answers (``GateResult``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ramparts.scan.advisories import AdvisorySource
from ramparts.scan.baseline import Baseline, BaselineEntry
from ramparts.scan.exclusions import Exclusion, grouped
from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.reqfile import InstallPolicy


@dataclass(frozen=True)
class Acceptance:
    """One ``--accept-risk ID --reason TEXT``: applies to this scan or deploy only."""

    id: str
    reason: str
    actor: str | None = None


@dataclass
class GateOptions:
    fail_on: Severity = Severity.HIGH
    baseline: Baseline | None = None  # explicit (--baseline); else the app's own file
    use_app_baseline: bool = True
    accept: list[Acceptance] = field(default_factory=list)
    advisories: AdvisorySource | None = None
    # What the installing node allows requirements files (its index, source builds); the
    # CLI does not know the node's and judges by the strict default.
    install_policy: InstallPolicy = field(default_factory=InstallPolicy)
    # Run the per-file scanners in worker processes on big trees (``runner.py``; the CLI
    # sets it, the node does not: a deploy is small and the node's cores serve requests).
    parallel: bool = False
    # Where per-file results are cached between scans (``cache.py``); None: no cache.
    cache_dir: Path | None = None


@dataclass
class GateResult:
    findings: list[Finding]  # every finding, sorted, accepted ones marked
    rules: dict[str, Rule]
    notes: list[str]
    fail_on: Severity
    expired: list[BaselineEntry] = field(default_factory=list)
    unused_acceptances: list[str] = field(default_factory=list)
    baseline: str | None = None
    has_manifest: bool = True
    files: int = 0
    lines: int = 0
    seconds: float = 0.0
    excluded: list[Exclusion] = field(default_factory=list)  # shipped files left unread

    @property
    def open(self) -> list[Finding]:
        return [f for f in self.findings if not f.accepted]

    @property
    def accepted(self) -> list[Finding]:
        return [f for f in self.findings if f.accepted]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.open if f.severity >= self.fail_on]

    @property
    def passed(self) -> bool:
        return not self.blocking

    def counts(self) -> dict[str, int]:
        out = {str(s): 0 for s in sorted(Severity, reverse=True)}
        for f in self.open:
            out[str(f.severity)] += 1
        return out

    def summary(self) -> dict[str, Any]:
        """What a deploy report carries: small, and without the non-blocking detail."""
        return {
            "passed": self.passed,
            "fail_on": str(self.fail_on),
            "counts": self.counts(),
            "accepted": [_short(f) for f in self.accepted],
            "notes": list(self.notes),
            "excluded": grouped(self.excluded),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "fail_on": str(self.fail_on),
            "findings": [f.to_dict() for f in self.open],
            "accepted": [f.to_dict() for f in self.accepted],
            "expired_baseline_entries": [
                {"id": e.id, "expires": e.expires.isoformat(), "reason": e.reason}
                for e in self.expired
            ],
            "notes": list(self.notes),
            "excluded": [e.to_dict() for e in self.excluded],
            "summary": {"counts": self.counts(), "files": self.files, "lines": self.lines,
                        "seconds": round(self.seconds, 3)},
        }


def _short(f: Finding) -> dict[str, Any]:
    out = {"id": f.id, "rule_id": f.rule_id, "severity": str(f.severity), "path": f.path,
           "line": f.line, "message": f.message}
    if f.accepted:
        out["accepted"] = dict(f.accepted)
    return out


def blocking_details(result: GateResult) -> list[dict[str, Any]]:
    """The findings a refused deploy lists: ids to accept, relative paths only."""
    return [{**_short(f), "cwe": f.cwe, "remediation": f.remediation} for f in result.blocking]
