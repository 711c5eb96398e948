"""Sigma rules (pySigma) over our records: they fire on the attack streams the native rules
catch, stay silent on benign ones, and an unsupported or invalid rule names its file and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ramparts.respond.detections import DetectionEngine
from ramparts.respond.errors import RuleError
from ramparts.respond.ruleset import load_rules
from tests.respond.streams import T0, audit, bad_key, good_key

pytest.importorskip("sigma", reason="pySigma is not installed (pip install 'ramparts[sigma]')")

BURST = """
title: Refused API keys from one address
id: 5d1d3c1b-9a3a-4f7e-9d0e-1a2b3c4d5e6f
status: test
level: high
tags: [owasp.a2, attack.credential_access]
logsource: {product: ramparts, service: audit}
detection:
  selection:
    kind: gateway.auth
    decision: deny
    detail.reason|startswith: API_KEY_      # case-insensitive, as Sigma says
  internal:
    detail.source_ip|cidr: 10.0.0.0/8
  condition: selection and not internal
ramparts: {group_by: [detail.source_ip], threshold: 20, window: 60s}
"""


def rules_dir(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def test_a_sigma_rule_fires_on_the_attack_and_not_on_benign_streams(tmp_path: Path) -> None:
    (rule,) = load_rules(rules_dir(tmp_path, **{"burst.yml": BURST}))
    assert (rule.severity, rule.category, rule.id) == (
        "high", "A2", "5d1d3c1b-9a3a-4f7e-9d0e-1a2b3c4d5e6f"
    )
    attack = [bad_key("203.0.113.9", T0 + i) for i in range(20)]
    matches = DetectionEngine([rule]).process("audit", attack)
    assert [(m.group, m.count) for m in matches] == [("detail.source_ip=203.0.113.9", 20)]
    benign = [good_key("203.0.113.9", T0 + i) for i in range(20)]
    internal = [bad_key("10.1.2.3", T0 + i) for i in range(20)]
    other_reason = [
        audit("gateway.auth", "deny", "ip:203.0.113.9", "http:GET", "route:GET /", T0 + i,
              reason="jwt_expired", source_ip="203.0.113.9")
        for i in range(20)
    ]
    for stream in (benign, internal, other_reason):
        assert DetectionEngine([rule]).process("audit", stream) == []


def test_sigma_and_native_rules_load_side_by_side(tmp_path: Path) -> None:
    native = """
    id: verify
    title: audit verification failed
    severity: critical
    category: A10
    kind: threshold
    match: {kind: audit.verify, decision: deny}
    """
    ids = {r.id for r in load_rules(rules_dir(tmp_path, **{"a.yml": BURST, "b.yaml": native}))}
    assert ids == {"5d1d3c1b-9a3a-4f7e-9d0e-1a2b3c4d5e6f", "verify"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("product: ramparts", "product: windows"), "logsource.product"),
        (("tags: [owasp.a2, attack.credential_access]", "tags: [attack.credential_access]"),
         "tags"),
        (("kind: gateway.auth", "EventID: 4625"), "detection.EventID"),
        (("detail.source_ip|cidr: 10.0.0.0/8", "detail.source_ip|re: '('"), ""),  # pySigma's
        (("threshold: 20", "treshold: 20"), "ramparts.treshold"),
        (("level: high", "level: severe"), ""),  # refused by pySigma, its message names it
    ],
)
def test_an_unsupported_or_invalid_sigma_rule_is_named(
    tmp_path: Path, change: tuple[str, str], field: str
) -> None:
    assert change[0] in BURST
    rules_dir(tmp_path, **{"burst.yml": BURST.replace(*change)})
    with pytest.raises(RuleError) as caught:
        load_rules(tmp_path)
    assert caught.value.file == str(tmp_path / "burst.yml")
    assert caught.value.field == field
    assert str(tmp_path / "burst.yml") in caught.value.message


def test_keyword_searches_are_refused(tmp_path: Path) -> None:
    keywords = BURST.replace(
        "  condition: selection and not internal",
        "  keywords: [mimikatz]\n  condition: keywords",
    )
    rules_dir(tmp_path, **{"kw.yml": keywords})
    with pytest.raises(RuleError, match="not supported") as caught:
        load_rules(tmp_path)
    assert caught.value.field == "detection"


def test_modifiers_and_quantified_conditions(tmp_path: Path) -> None:
    rule_text = """
    title: Modifiers
    id: 0b7e1f4e-2d6c-4a41-9a4c-3f0d1e2a5b6c
    level: informational
    tags: [owasp.a5]
    logsource: {product: ramparts, service: invocation}
    detection:
      sel_slow:
        duration_ms|gte: 1000
        function|contains: ORD
      sel_crash:
        status: crashed
        error_type: null
      sel_cold:
        cold: 1
        trigger|endswith: ttp
        request_id|exists: true
      condition: 1 of sel_*
    """
    (rule,) = load_rules(rules_dir(tmp_path, **{"m.yml": rule_text}))
    assert (rule.severity, rule.category, rule.steps[0].matcher.source) == ("low", "A5",
                                                                             "invocation")

    def inv(**fields: object) -> dict[str, object]:
        base = {"request_id": "r", "function": "x", "version": "v", "trigger": "topic",
                "status": "ok", "started_at": T0, "duration_ms": 1.0, "cold": 0,
                "error_type": "E"}
        return {**base, **fields}

    hits = [inv(function="orders", duration_ms=1500.0), inv(status="crashed", error_type=None),
            inv(cold=1, trigger="http")]
    misses = [inv(function="orders", duration_ms=999.0), inv(status="crashed"),
              inv(cold=1, trigger="topic"), inv(function="ship", duration_ms=5000.0)]
    for record in hits:
        assert len(DetectionEngine([rule]).process("invocation", [record])) == 1, record
    for record in misses:
        assert DetectionEngine([rule]).process("invocation", [record]) == [], record
    # an invocation rule never sees audit records
    assert DetectionEngine([rule]).process("audit", [bad_key("1.2.3.4", T0)]) == []
