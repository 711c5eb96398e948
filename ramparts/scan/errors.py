"""Errors of the deploy-time scan, under the project's ``RampartsError`` root.

    RampartsError
    ├── ScanError      the scan itself could not run as asked (bad baseline,
    │   │              unreadable advisory database, bad option)
    │   └── ScannerFailed  a scanner broke on the input: the gate fails closed
    └── DeployError
        └── ScanFailed a deploy was refused because of blocking findings
"""

from __future__ import annotations

from typing import Any

from ramparts.errors import DeployError, RampartsError


class ScanError(RampartsError):
    code = "scan_error"
    status = 400


class ScannerFailed(ScanError):
    """A scanner raised; the deploy is refused rather than let through unscanned."""

    code = "scanner_failed"
    status = 500


class ScanFailed(DeployError):
    """Blocking findings that no accepted risk covers; the node answers 422."""

    code = "scan_failed"
    status = 422

    def __init__(
        self,
        findings: list[dict[str, Any]],
        fail_on: str,
        *,
        app: str | None = None,
        notes: list[str] | None = None,
        excluded: list[dict[str, Any]] | None = None,
    ) -> None:
        self.findings = findings
        self.excluded = list(excluded or [])  # files the scan left unread, by reason
        self.fail_on = fail_on
        self.app = app
        self.notes = list(notes or [])
        lines = [
            f"  {f['id']}  {f['severity']:<8} {f['rule_id']:<9} {f['path']}:{f['line']}  "
            f"{f['message']}"
            for f in findings
        ]
        super().__init__(
            f"the deploy-time scan found {len(findings)} finding(s) at or above "
            f"'{fail_on}' severity; fix them, or accept each with "
            "--accept-risk ID --reason '...':\n" + "\n".join(lines)
        )

    def to_dict(self) -> dict[str, Any]:  # type: ignore[override]
        return {
            "code": self.code,
            "message": self.message,
            "fail_on": self.fail_on,
            "findings": self.findings,
            "notes": self.notes,
            "excluded": self.excluded,
        }
