"""SARIF 2.1.0 rendering of a gate result, for CI and GitHub code scanning.

One run, tool ``ramparts``, every rule that can fire listed once under
``tool.driver.rules`` with its CWE tag and a ``security-severity`` score (what
GitHub sorts alerts by).  Accepted findings stay in the log with an
``external`` suppression carrying the reason, so code scanning shows them as
dismissed rather than losing them.  Locations are relative URIs under the
``%SRCROOT%`` base: no absolute path of the scanning machine is written.
``partialFingerprints`` carries the finding id, so alerts track the same
finding across runs the way a baseline does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import ramparts
from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.gate import GateResult

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
}
# GitHub buckets: >= 9.0 critical, >= 7.0 high, >= 4.0 medium, else low
_SCORE = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
          Severity.LOW: "2.0"}


def _rule(rule: Rule, default: Severity) -> dict[str, Any]:
    tags = ["security", rule.family]
    if rule.cwe:
        tags.append(f"external/cwe/{rule.cwe.lower()}")
    return {
        "id": rule.rule_id,
        "name": rule.name,
        "shortDescription": {"text": rule.description},
        "fullDescription": {"text": rule.description},
        "help": {"text": f"{rule.description} See docs/scanning.md for {rule.rule_id}."},
        "defaultConfiguration": {"level": _LEVEL[default]},
        "properties": {"tags": tags, "security-severity": _SCORE[default]},
    }


def _result(f: Finding, index: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "level": _LEVEL[f.severity],
        "message": {"text": f"{f.message}. Fix: {f.remediation}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(f.path), "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": max(1, f.line), "startColumn": max(1, f.column)},
                }
            }
        ],
        "partialFingerprints": {"rampartsFindingId/v1": f.id},
        "properties": {
            "id": f.id,
            "severity": str(f.severity),
            "security-severity": _SCORE[f.severity],
            "family": f.family,
            "remediation": f.remediation,
        },
    }
    if f.cwe:
        out["properties"]["cwe"] = f.cwe
    if f.accepted:
        out["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{f.accepted.get('reason', '')} "
                f"({f.accepted.get('source', 'accepted')}"
                + (f", expires {f.accepted['expires']}" if f.accepted.get("expires") else "")
                + ")",
            }
        ]
    return out


def to_sarif(result: GateResult) -> dict[str, Any]:
    """The SARIF log (a dict; ``json.dumps`` it)."""
    highest: dict[str, Severity] = {}
    for f in result.findings:
        highest[f.rule_id] = max(highest.get(f.rule_id, f.severity), f.severity)
    rule_ids = sorted(result.rules)
    for f in result.findings:  # a finding whose rule was not registered still gets one
        if f.rule_id not in result.rules:
            result.rules[f.rule_id] = Rule(f.rule_id, f.family, f.rule_id, f.message, f.cwe)
            rule_ids.append(f.rule_id)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    rules = [_rule(result.rules[rid], highest.get(rid, Severity.MEDIUM)) for rid in rule_ids]
    notifications = [
        {"level": "warning" if "unavailable" in n or "expired" in n else "note",
         "message": {"text": n}}
        for n in result.notes
    ] + [
        {"level": "note",
         "message": {"text": f"not scanned: {e.path}: {e.reason}"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": e.path}}}]}
        for e in result.excluded
    ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ramparts",
                        "fullName": "Ramparts deploy-time scan",
                        "version": ramparts.__version__,
                        "semanticVersion": ramparts.__version__,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": notifications,
                        "properties": {"passed": result.passed, "failOn": str(result.fail_on)},
                    }
                ],
                "results": [_result(f, index[f.rule_id]) for f in result.findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
