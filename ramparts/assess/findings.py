"""What the posture audit reports: findings, the controls they fail, and the score.

The score is computed per control, not per finding, so that an app with fifty
routes is not scored below one with five for the same mistake::

    score = round(100 * sum(weight of passing controls) / sum(weight of all controls))

A control passes when it has no finding.  Weights follow severity: critical
10, high 6, medium 3, low 1 (``catalog.Level.weight``).  Every control of the
catalogue is evaluated on every run (node-level ones too when ``--app`` narrows
the app-level checks), so scores of two runs are comparable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ramparts.assess.catalog import CONTROLS, OWASP_SERVERLESS, Control, control

__all__ = ["Finding", "PostureReport", "score"]


@dataclass(frozen=True)
class Finding:
    """One failed control on one resource, with the evidence that shows it."""

    rule: str
    resource: str  # what to fix: route, function, key id, secret ARN, node setting
    evidence: str
    app: str | None = None
    function: str | None = None

    @property
    def control(self) -> Control:
        return control(self.rule)

    def to_dict(self) -> dict[str, Any]:
        c = self.control
        return {
            "rule": self.rule,
            "title": c.title,
            "severity": str(c.severity),
            "scope": c.scope,
            "platform_control": c.platform_control,
            "owasp": list(c.owasp),
            "app": self.app,
            "function": self.function,
            "resource": self.resource,
            "evidence": self.evidence,
            "remediation": c.remediation,
        }


def score(findings: list[Finding]) -> int:
    """The documented formula above, over the whole catalogue."""
    failing = {f.rule for f in findings}
    total = sum(c.severity.weight for c in CONTROLS)
    passing = sum(c.severity.weight for c in CONTROLS if c.id not in failing)
    return round(100 * passing / total)


@dataclass
class PostureReport:
    """The audit's result; ``to_dict`` is the JSON every output format is rendered from."""

    node: str
    generated_at: float
    app: str | None
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was looked at but is not a finding
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ordered = sorted(
            self.findings,
            key=lambda f: (-f.control.severity.rank, f.rule, f.app or "", f.resource),
        )
        failing = {f.rule for f in self.findings}
        counts = {str(c.severity): 0 for c in CONTROLS}
        for f in self.findings:
            counts[str(f.control.severity)] += 1
        return {
            "node": self.node,
            "generated_at": self.generated_at,
            "app": self.app,
            "score": score(self.findings),
            "counts": counts,
            "options": self.options,
            "controls": [
                {
                    "id": c.id,
                    "title": c.title,
                    "severity": str(c.severity),
                    "weight": c.severity.weight,
                    "scope": c.scope,
                    "platform_control": c.platform_control,
                    "owasp": list(c.owasp),
                    "checks": c.checks,
                    "remediation": c.remediation,
                    "passed": c.id not in failing,
                    "findings": sum(1 for f in self.findings if f.rule == c.id),
                }
                for c in CONTROLS
            ],
            "owasp": OWASP_SERVERLESS,
            "findings": [f.to_dict() for f in ordered],
            "notes": self.notes,
        }
