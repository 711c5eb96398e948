"""The finding model shared by every scanner family, and the severity scale.

Every scanner (bandit, our taint rules, detect-secrets, dependency matching,
manifest lint) produces ``Finding`` objects; the gate sorts, baselines and
renders them without knowing which family made them.  A finding's ``id`` is a
stable fingerprint (rule, file, the enclosing def/class of code findings, the
text of the flagged line, and for dependencies the package and advisory), not
the line number, so that
accepting a risk survives unrelated edits above it but not a change to the
flagged code itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from ramparts.errors import InvalidRequest


class Severity(IntEnum):
    """Ordered so that ``finding.severity >= threshold`` means "blocks"."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            choices = ", ".join(s.name.lower() for s in cls)
            raise InvalidRequest(
                f"unknown severity {value!r}: use one of {choices}", code="invalid_severity"
            ) from None

    def __str__(self) -> str:
        return self.name.lower()


FAMILIES = ("sast", "taint", "logic", "secrets", "deps", "manifest", "policy", "gate", "iac")


@dataclass(frozen=True)
class Rule:
    """What a rule id means; SARIF lists these under ``tool.driver.rules``."""

    rule_id: str
    family: str
    name: str
    description: str
    cwe: str | None = None


@dataclass
class Finding:
    rule_id: str
    severity: Severity
    path: str  # relative to the scanned directory, '/'-separated
    line: int
    message: str
    remediation: str
    family: str
    cwe: str | None = None
    column: int = 1
    fingerprint_text: str = ""  # what the id is derived from besides rule and path
    accepted: dict[str, str] | None = None  # {"source", "reason", "expires"} once accepted
    extra: dict[str, Any] = field(default_factory=dict)

    scope: str | None = None  # enclosing def/class qualname of a code finding ("<module>")

    @property
    def id(self) -> str:
        """Stable fingerprint; for code, the enclosing function is part of it.

        Without the scope, the same line copied into another function (an
        admin-only helper's line pasted into a public handler) would carry the
        same id and be silently covered by the old acceptance.
        """
        if self.scope is None:
            return self.legacy_id
        return _digest(self.rule_id, self.path, self.scope, _normalised(self.fingerprint_text))

    @property
    def legacy_id(self) -> str:
        """The id before scopes were part of it: baselines written then still hold these."""
        return _digest(self.rule_id, self.path, _normalised(self.fingerprint_text))

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "rule_id": self.rule_id,
            "severity": str(self.severity),
            "path": self.path,
            "line": self.line,
            "cwe": self.cwe,
            "message": self.message,
            "remediation": self.remediation,
            "family": self.family,
        }
        if self.accepted:
            out["accepted"] = dict(self.accepted)
        if self.extra:
            out.update(self.extra)
        return out


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]


def sort_key(f: Finding) -> tuple[int, str, int, str]:
    return (-int(f.severity), f.path, f.line, f.rule_id)


# -- the compact JSON form the result cache keeps (``cache.py``) --------------------------
def to_rows(findings: list[Finding]) -> list[list[Any]]:
    """Findings as JSON lists (no ``accepted``/``scope``: the gate sets those every scan)."""
    return [
        [
            f.rule_id,
            int(f.severity),
            f.path,
            f.line,
            f.message,
            f.remediation,
            f.family,
            f.cwe,
            f.column,
            f.fingerprint_text,
        ]
        for f in findings
    ]


def rows_well_formed(rows: Any) -> bool:
    """Whether ``rows`` has the shape ``to_rows`` makes (a cache entry is checked first)."""
    return isinstance(rows, list) and all(isinstance(r, list) and len(r) == 10 for r in rows)


def from_rows(rows: list[list[Any]]) -> list[Finding]:
    return [
        Finding(
            rule_id=r[0],
            severity=Severity(r[1]),
            path=r[2],
            line=r[3],
            message=r[4],
            remediation=r[5],
            family=r[6],
            cwe=r[7],
            column=r[8],
            fingerprint_text=r[9],
        )
        for r in rows
    ]
