"""OSV records reduced to ``Advisory`` rows, and whether a PyPI version is affected.

Matching follows the OSV schema with ``packaging`` version semantics: an
``ECOSYSTEM`` range's events are sorted, ``introduced`` opens, ``fixed``
closes (exclusive) and ``last_affected`` closes (inclusive); a version named
in ``versions`` is affected too.  ``GIT`` ranges say nothing about a PyPI
release and are ignored.  Withdrawn advisories are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ramparts.scan.findings import Severity

_GHSA_SEVERITY = {
    "LOW": Severity.LOW,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}
Pin = tuple[str, Version]  # (canonical package name, exact version)


@dataclass(frozen=True)
class _Range:
    events: tuple[tuple[str, Version], ...]  # (kind, version), sorted; kind: introduced|fixed|last


@dataclass
class Advisory:
    """One OSV record, reduced to what matching and reporting need for one package."""

    id: str
    package: str  # canonical name
    summary: str
    aliases: tuple[str, ...] = ()
    severity: Severity = Severity.HIGH
    severity_known: bool = False
    cwe: str | None = None
    ranges: list[_Range] = field(default_factory=list)
    versions: frozenset[Version] = frozenset()

    def affects(self, version: Version) -> bool:
        if version in self.versions:
            return True
        return any(_in_range(version, r) for r in self.ranges)

    def fixed_for(self, version: Version) -> str | None:
        """The lowest fixed release above ``version`` in a range that affects it."""
        fixes = [
            v
            for r in self.ranges
            if _in_range(version, r)
            for kind, v in r.events
            if kind == "fixed" and v > version
        ]
        if not fixes and version in self.versions:
            fixes = [
                v for r in self.ranges for kind, v in r.events if kind == "fixed" and v > version
            ]
        return str(min(fixes)) if fixes else None

    @property
    def title(self) -> str:
        cves = [a for a in self.aliases if a.startswith("CVE-")]
        return self.id + (f" ({', '.join(cves[:2])})" if cves else "")


def _in_range(version: Version, rng: _Range) -> bool:
    affected = False
    for kind, v in rng.events:
        if kind == "introduced" and version >= v:
            affected = True
        elif kind == "fixed" and version >= v:
            affected = False
        elif kind == "last" and version > v:
            affected = False
    return affected


def _version(text: Any) -> Version | None:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def _severity(record: dict[str, Any]) -> tuple[Severity, bool]:
    """GHSA's rating, else the highest CVSS base score, else HIGH (unknown: fail closed)."""
    db = record.get("database_specific")
    if isinstance(db, dict) and isinstance(db.get("severity"), str):
        sev = _GHSA_SEVERITY.get(db["severity"].upper())
        if sev is not None:
            return sev, True
    best: float | None = None
    for item in record.get("severity") or []:
        if not isinstance(item, dict) or not isinstance(item.get("score"), str):
            continue
        score = _cvss_score(item.get("type", ""), item["score"])
        if score is not None:
            best = score if best is None else max(best, score)
    if best is None:
        return Severity.HIGH, False
    if best >= 9.0:
        return Severity.CRITICAL, True
    if best >= 7.0:
        return Severity.HIGH, True
    if best >= 4.0:
        return Severity.MEDIUM, True
    return Severity.LOW, True


def _cvss_score(kind: str, vector: str) -> float | None:
    try:
        if kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            from cvss import CVSS3

            return float(CVSS3(vector).base_score)
        if kind == "CVSS_V4" or vector.startswith("CVSS:4"):
            from cvss import CVSS4

            return float(CVSS4(vector).base_score)
    except Exception:  # noqa: BLE001 - a malformed vector only loses the rating
        return None
    return None


def parse_record(record: Any, wanted: set[str] | None = None) -> list[Advisory]:
    """OSV record -> one ``Advisory`` per PyPI package it names (filtered by ``wanted``)."""
    if not isinstance(record, dict) or record.get("withdrawn"):
        return []
    rid = str(record.get("id") or "")
    if not rid:
        return []
    severity, known = _severity(record)
    db = record.get("database_specific")
    cwes = db.get("cwe_ids") if isinstance(db, dict) else None
    cwe = str(cwes[0]) if isinstance(cwes, list) and cwes else None
    summary = str(record.get("summary") or record.get("details") or "").strip()
    summary = " ".join(summary.split())
    if len(summary) > 160:
        summary = summary[:157].rstrip() + "..."
    aliases = tuple(str(a) for a in record.get("aliases") or [] if isinstance(a, str))
    out: dict[str, Advisory] = {}
    for aff in record.get("affected") or []:
        if not isinstance(aff, dict):
            continue
        pkg = aff.get("package") or {}
        if not isinstance(pkg, dict) or not str(pkg.get("ecosystem", "")).startswith("PyPI"):
            continue
        name = canonicalize_name(str(pkg.get("name", "")))
        if not name or (wanted is not None and name not in wanted):
            continue
        adv = out.setdefault(name, Advisory(rid, name, summary, aliases, severity, known, cwe))
        for rng in aff.get("ranges") or []:
            if not isinstance(rng, dict) or rng.get("type") != "ECOSYSTEM":
                continue
            events: list[tuple[str, Version]] = []
            for ev in rng.get("events") or []:
                if not isinstance(ev, dict):
                    continue
                for key, kind in (("introduced", "introduced"), ("fixed", "fixed"),
                                  ("last_affected", "last")):
                    if key in ev:
                        v = Version("0") if str(ev[key]) == "0" else _version(ev[key])
                        if v is not None:
                            events.append((kind, v))
            if events:
                # at equal versions "introduced" comes first, as the OSV spec's algorithm expects
                order = {"introduced": 0, "fixed": 1, "last": 2}
                events.sort(key=lambda e: (e[1], order[e[0]]))
                adv.ranges.append(_Range(tuple(events)))
        listed = {v for v in (_version(x) for x in aff.get("versions") or []) if v is not None}
        if listed:
            adv.versions = adv.versions | frozenset(listed)
    return list(out.values())
