"""Rule files: the shipped set loads and is mapped; an invalid file is refused by name and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ramparts.respond.errors import RuleError
from ramparts.respond.rules import CATEGORIES, SEVERITIES, shipped_rules_dir
from ramparts.respond.ruleset import load_rules

GOOD = """
id: my-rule
title: something
severity: high
category: A2
kind: threshold
match: {kind: gateway.auth, decision: deny}
group_by: [detail.source_ip]
threshold: 3
window: 30s
"""


def write(tmp_path: Path, text: str, name: str = "rule.yaml") -> Path:
    (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def test_shipped_rules_cover_the_brief_with_category_and_severity() -> None:
    rules = {r.id: r for r in load_rules()}
    for rule_id in ("failed-auth-burst", "policy-denial-burst", "new-egress-destination",
                    "sandbox-violation", "first-secret-read", "deploy-then-errors",
                    "audit-verification-failure", "deploy-gate-refusal",
                    "waf-block-burst"):
        assert rule_id in rules
    for r in rules.values():
        assert r.category in CATEGORIES and r.severity in SEVERITIES
        assert r.file.startswith(str(shipped_rules_dir()))


def test_a_valid_directory_replaces_the_shipped_set(tmp_path: Path) -> None:
    assert [r.id for r in load_rules(write(tmp_path, GOOD))] == ["my-rule"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (("severity: high", "severity: severe"), "severity", "must be one of"),
        (("category: A2", "category: SAS-2"), "category", "OWASP"),
        (("kind: threshold", "kind: ratio"), "kind", "must be one of"),
        (("threshold: 3", "threshold: 0"), "threshold", "whole number"),
        (("window: 30s", "window: soon"), "window", "not a duration"),
        (("group_by: [detail.source_ip]", "group_by: [source_ip]"), "group_by[0]",
         "not a field of audit records"),
        (("match: {kind: gateway.auth, decision: deny}", "match: {kind: {regex: '('}}"),
         "match.kind.regex", "regular expression"),
        (("match: {kind: gateway.auth, decision: deny}", "match: {kind: {like: x}}"),
         "match.kind.like", "unknown operator"),
        (("threshold: 3", "treshold: 3"), "treshold", "unknown field"),
        (("id: my-rule", "id: My Rule!"), "id", "lower-case"),
    ],
)
def test_an_invalid_field_is_named_with_its_file(
    tmp_path: Path, change: tuple[str, str], field: str, words: str
) -> None:
    assert change[0] in GOOD
    write(tmp_path, GOOD.replace(*change))
    with pytest.raises(RuleError) as caught:
        load_rules(tmp_path)
    assert caught.value.file == str(tmp_path / "rule.yaml")
    assert caught.value.field == field
    assert words in caught.value.message
    assert str(tmp_path / "rule.yaml") in caught.value.message


def test_broken_yaml_duplicates_and_empty_directories_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "id: [unclosed\n")
    with pytest.raises(RuleError, match="not valid YAML at line"):
        load_rules(tmp_path)
    write(tmp_path, GOOD)
    write(tmp_path, GOOD, "again.yaml")
    with pytest.raises(RuleError, match="also used in"):
        load_rules(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RuleError, match="no rule files"):
        load_rules(empty)
    with pytest.raises(RuleError, match="must name a directory"):
        load_rules(tmp_path / "missing")


def test_sequence_and_first_seen_fields_are_checked(tmp_path: Path) -> None:
    seq = """
    id: seq
    title: t
    severity: low
    category: A6
    kind: sequence
    steps:
      - match: {kind: registry.deploy}
        group_by: [detail.functions]
      - source: invocation
        match: {kind: x}
        group_by: [function]
    """
    write(tmp_path, seq)
    with pytest.raises(RuleError) as caught:
        load_rules(tmp_path)
    assert caught.value.field == "steps[1].match.kind"  # invocations have no kind
    first_seen = GOOD.replace("kind: threshold", "kind: first_seen")
    write(tmp_path, first_seen)
    with pytest.raises(RuleError) as caught:
        load_rules(tmp_path)
    assert caught.value.field == "threshold"
