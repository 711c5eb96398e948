"""Logic and configuration checks (family "logic", rules RP-L001..RP-L009).

The breaches serverless apps actually suffer are rarely injections: a JWT
read without checking its signature, a traceback handed to the caller, a
bucket made public, CORS open to any site with cookies, TLS verification
switched off, a password in the code, md5 on passwords, ``random`` for
tokens, a session cookie any script can read.  None needs attacker data to
flow anywhere, so these are not taint rules: each is an AST check on what
one call or one setting says, one module per concern.

The gate (``ramparts.scan.gate``) calls ``run(tree)``; ``RULES`` lists what
each id means for SARIF and the reports.
"""

from __future__ import annotations

from collections.abc import Callable

from ramparts.scan.findings import Finding, Rule
from ramparts.scan.logic import (
    cookies,
    cors,
    credentials,
    exception_text,
    jwt,
    public_acl,
    tls,
    weak_hash,
    weak_random,
)
from ramparts.scan.logic.context import Hit, ModuleContext
from ramparts.scan.source import SourceTree

__all__ = ["RULES", "run"]

_CHECKS: list[tuple[Rule, Callable[[ModuleContext], list[Hit]]]] = [
    (m.RULE, m.check)
    for m in (jwt, exception_text, public_acl, cors, tls, credentials, weak_hash, weak_random,
              cookies)
]
RULES: dict[str, Rule] = {rule.rule_id: rule for rule, _ in _CHECKS}


def run(tree: SourceTree) -> list[Finding]:
    """Every logic finding in the tree's parsed Python files, one per rule and line."""
    findings: list[Finding] = []
    for sf in tree.python:
        if sf.tree is None:
            continue
        ctx = ModuleContext(sf.tree)
        seen: set[tuple[str, int]] = set()
        for rule, check in _CHECKS:
            for hit in sorted(check(ctx), key=lambda h: (h.line, h.column)):
                if (hit.rule_id, hit.line) in seen:
                    continue
                seen.add((hit.rule_id, hit.line))
                findings.append(Finding(
                    rule_id=hit.rule_id, severity=hit.severity, path=sf.rel, line=hit.line,
                    column=hit.column, message=hit.message, remediation=hit.remediation,
                    family="logic", cwe=rule.cwe, fingerprint_text=sf.line(hit.line),
                ))
    return findings
