"""Requirements against an advisory source: RP-D001 and RP-D002, with RP-D003 merged in."""

from __future__ import annotations

from typing import Any

from packaging.version import Version

from ramparts.scan.advisories import AdvisoriesUnavailable, AdvisorySource
from ramparts.scan.deps.files import collect, include_problems, unsafe_options
from ramparts.scan.deps.parse import Requirement
from ramparts.scan.deps.ranges import beyond
from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.reqfile import InstallPolicy
from ramparts.scan.source import SourceTree

RULES = [
    Rule("RP-D001", "deps", "vulnerable-dependency",
         "A pinned dependency has a known vulnerability (OSV advisory).", "CWE-1395"),
    Rule("RP-D002", "deps", "unpinned-dependency",
         "A dependency is not pinned to one version, so it cannot be checked.", "CWE-1357"),
    Rule("RP-D003", "deps", "unsafe-requirements-option",
         "A requirements file includes files outside the app, names another index, host or "
         "URL, or builds from source.", "CWE-829"),
]


def scan(
    tree: SourceTree, source: AdvisorySource | None, policy: InstallPolicy | None = None
) -> tuple[list[Finding], list[str]]:
    reqs, notes = collect(tree)
    findings: list[Finding] = unsafe_options(tree, policy or InstallPolicy())
    findings += include_problems(tree)
    for r in reqs:
        if r.pinned or r.constraint:
            continue
        findings.append(
            Finding(
                rule_id="RP-D002",
                severity=Severity.LOW,
                path=r.path,
                line=r.line,
                message=f"{r.spec} is not pinned ({r.problem}): it cannot be checked against "
                "advisories and may change between deploys",
                remediation="pin one release (name==X.Y.Z) or commit a lock file "
                "(poetry.lock, uv.lock, Pipfile.lock)",
                family="deps",
                cwe="CWE-1357",
                fingerprint_text=f"{r.name}\x1f{r.spec}",
            )
        )
    ranged = [r for r in reqs if r.version is None and r.bounds is not None]
    pins = sorted({(r.name, r.version) for r in reqs if r.version is not None}
                  | {(r.name, r.bounds[0]) for r in ranged if r.bounds is not None}, key=str)
    if not pins:
        return findings, notes
    if source is None:
        notes.append(f"advisories unavailable: {len(pins)} pinned dependencies were not checked "
                     "(no advisory source; use --advisories PATH or `ramparts advisories sync`)")
        return findings, notes
    try:
        matched = source.match(pins)
    except AdvisoriesUnavailable as exc:
        notes.append(f"advisories unavailable: {len(pins)} pinned dependencies were not checked "
                     f"({exc.message})")
        return findings, notes
    notes.append(f"{len(pins)} pinned dependencies checked against {source.description}")
    for r in reqs:
        if r.version is None:
            continue
        findings += _vulnerable(r, r.version, matched.get((r.name, r.version), []), "")
    for r in ranged:
        assert r.bounds is not None
        low, high, inclusive = r.bounds
        every = []
        for adv in matched.get((r.name, low), []):
            fixed = adv.fixed_for(low)
            # the fix for the lowest allowed release lies beyond the range: no release the
            # range admits is outside that advisory's affected range
            if fixed is None or beyond(Version(fixed), high, inclusive):
                every.append(adv)
        findings += _vulnerable(r, low, every, f" (every release {r.spec} allows is affected)")
    return findings, notes


def _vulnerable(r: Requirement, version: Version, advisories: list[Any], why: str
                ) -> list[Finding]:
    findings: list[Finding] = []
    for adv in advisories:
        fixed = adv.fixed_for(version)
        findings.append(
            Finding(
                rule_id="RP-D001",
                severity=adv.severity,
                path=r.path,
                line=r.line,
                message=f"{f'{r.name} {r.version}' if r.version else r.spec} is affected by "
                f"{adv.title}: "
                f"{adv.summary}{why}"
                + ("" if adv.severity_known else " (no severity published; treated as high)"),
                remediation=(f"upgrade {r.name} to {fixed} or later" if fixed else
                             f"no fixed release of {r.name} is published: remove or "
                             "replace it, or accept the risk explicitly"),
                family="deps",
                cwe=adv.cwe or "CWE-1395",
                fingerprint_text=f"{r.name}\x1f{r.version or r.spec}\x1f{adv.id}",
                extra={"package": r.name, "version": str(r.version or r.spec),
                       "advisory": adv.id, "fixed_version": fixed},
            )
        )
    return findings
