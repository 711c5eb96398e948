"""SARIF 2.1.0 rendering of a posture report, following ``ramparts.scan.sarif``.

One run, tool ``ramparts``, every catalogue control listed under
``tool.driver.rules`` with its OWASP Serverless mapping as tags and a
``security-severity`` score (GitHub's buckets).  A finding has no source
line: it is located logically, by the resource it names (an app's route, a
function, a key, a node setting).  ``partialFingerprints`` hashes rule, app
and resource, so a finding keeps its identity across runs.
"""

from __future__ import annotations

import hashlib
from typing import Any

import ramparts
from ramparts.scan.sarif import SCHEMA_URI

_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
_SCORE = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}


def fingerprint(finding: dict[str, Any]) -> str:
    raw = "\n".join((finding["rule"], finding.get("app") or "", finding["resource"]))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _rule(control: dict[str, Any]) -> dict[str, Any]:
    tags = ["security", "posture", *(f"owasp-serverless/{o.lower()}" for o in control["owasp"])]
    return {
        "id": control["id"],
        "name": control["title"].title().replace(" ", ""),
        "shortDescription": {"text": control["title"]},
        "fullDescription": {"text": f"{control['title']}: checks {control['checks']}."},
        "help": {
            "text": f"{control['remediation']}. See docs/posture-audit.md and "
            f"'ramparts explain {control['id']}'."
        },
        "defaultConfiguration": {"level": _LEVEL[control["severity"]]},
        "properties": {
            "tags": tags,
            "security-severity": _SCORE[control["severity"]],
            "platformControl": control["platform_control"],
        },
    }


def _result(f: dict[str, Any], index: int) -> dict[str, Any]:
    name = f"{f['app']}/{f['resource']}" if f.get("app") else f["resource"]
    return {
        "ruleId": f["rule"],
        "ruleIndex": index,
        "level": _LEVEL[f["severity"]],
        "message": {
            "text": f"{f['title']}: {f['resource']}: {f['evidence']}. Fix: {f['remediation']}"
        },
        "locations": [{"logicalLocations": [{"fullyQualifiedName": name, "kind": "resource"}]}],
        "partialFingerprints": {"rampartsPostureId/v1": fingerprint(f)},
        "properties": {
            "severity": f["severity"],
            "security-severity": _SCORE[f["severity"]],
            "scope": f["scope"],
            "app": f.get("app"),
            "function": f.get("function"),
            "resource": f["resource"],
            "evidence": f["evidence"],
            "owasp": f["owasp"],
            "remediation": f["remediation"],
        },
    }


def to_sarif(report: dict[str, Any]) -> dict[str, Any]:
    """The SARIF log of ``report`` (a dict; ``json.dumps`` it)."""
    controls = report["controls"]
    index = {c["id"]: i for i, c in enumerate(controls)}
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ramparts",
                        "fullName": "Ramparts posture audit",
                        "version": ramparts.__version__,
                        "semanticVersion": ramparts.__version__,
                        "rules": [_rule(c) for c in controls],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {"level": "note", "message": {"text": n}} for n in report["notes"]
                        ],
                        "properties": {
                            "score": report["score"],
                            "node": report["node"],
                            "app": report["app"],
                        },
                    }
                ],
                "results": [_result(f, index[f["rule"]]) for f in report["findings"]],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
