"""Rule ids, CWEs and calibrated severities (``rules.py``)."""

from __future__ import annotations

from ramparts.scan.findings import Severity
from ramparts.scan.taint import rules


def test_every_kind_has_a_rule_a_message_and_a_severity() -> None:
    assert set(rules.RULES) == set(rules.MESSAGES) == set(rules.SEVERITY) == rules.KINDS
    assert len({r.rule_id for r in rules.RULES.values()}) == 15
    assert all(r.family == "taint" and r.cwe for r in rules.RULES.values())


def test_only_log_and_trust_boundary_warn() -> None:
    warns = {k for k, s in rules.SEVERITY.items() if s is Severity.MEDIUM}
    assert warns == {"log", "trust-boundary"}
    assert all(s is Severity.HIGH for k, s in rules.SEVERITY.items() if k not in warns)
