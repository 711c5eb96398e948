"""Fail closed: a shipped file no scanner could read is a high RP-G finding saying why."""

from __future__ import annotations

from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.source import SourceTree

GATE_RULES = {
    "RP-G001": Rule("RP-G001", "gate", "unparsable-python",
                    "A Python file does not parse, so no code rule could check it.", None),
    "RP-G002": Rule("RP-G002", "gate", "python-not-text",
                    "A shipped .py file is binary or not text in its encoding, so no code "
                    "rule could check it.", None),
    "RP-G003": Rule("RP-G003", "gate", "file-over-scan-limit",
                    "A shipped file is over the scan's size limit, so it was not scanned.", None),
}
_GATE_TEXT = {  # (message, remediation) per gate rule
    "RP-G001": ("{rel} does not parse ({reason}): no code rule checked it",
                "fix the syntax, or exclude the file with scan.exclude in ramparts.yaml "
                "if the app never imports it"),
    "RP-G002": ("{rel} is shipped as Python but cannot be read as code ({reason}): "
                "no code rule checked it",
                "remove it, rename it if it is data, or exclude it with scan.exclude"),
    "RP-G003": ("{rel} was not scanned: {reason}",
                "split or remove it, or exclude it with scan.exclude if it is data the app "
                "only reads"),
}


def gate_findings(tree: SourceTree, rules: dict[str, Rule], notes: list[str]) -> list[Finding]:
    """Fail closed: a shipped file no scanner could read is a high finding saying why."""
    out = []
    for sf in tree.problems:
        assert sf.problem is not None
        rule_id, reason = sf.problem.rule_id, sf.problem.reason
        rules[rule_id] = GATE_RULES[rule_id]
        message, remediation = _GATE_TEXT[rule_id]
        out.append(Finding(rule_id, Severity.HIGH, sf.rel, sf.problem.line,
                           message.format(rel=sf.rel, reason=reason), remediation, "gate",
                           None, fingerprint_text=reason))
    newer = [sf.rel for sf in tree.python if sf.newer_grammar]
    if newer:
        notes.append(f"{len(newer)} file(s) use syntax newer than Python 3.11 and were analysed "
                     "through libcst's grammar: " + ", ".join(newer[:10])
                     + (", ..." if len(newer) > 10 else "")
                     + "; this node's Python 3.11 cannot import them")
    if tree.excluded:
        notes.append(f"{len(tree.excluded)} shipped file(s) not scanned, each listed with its "
                     "reason under 'excluded'")
    return out
