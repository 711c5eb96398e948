"""The detection engine over recorded streams: attacks fire, benign streams of the same size
stay silent.  Real shipped rules, real engine and alert desk; time is the records' own."""

from __future__ import annotations

from typing import Any

import pytest

from ramparts.respond.alerts import AlertDesk
from ramparts.respond.detections import DetectionEngine, Match
from ramparts.respond.rules import Rule, parse_rule
from ramparts.respond.ruleset import load_rules
from tests.respond.streams import (
    T0,
    access,
    audit,
    bad_key,
    deploy,
    egress,
    good_key,
    invocation,
    waf_block,
)


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_rules()


def run(rules: list[Rule], *batches: tuple[str, list[dict[str, Any]]]) -> list[Match]:
    engine = DetectionEngine(rules)
    out: list[Match] = []
    for source, records in batches:
        out.extend(engine.process(source, records))
    return out


def fired(matches: list[Match]) -> set[str]:
    return {m.rule.id for m in matches}


# -- failed authentications -----------------------------------------------------------------------
def test_twenty_bad_keys_from_one_address_fire(rules: list[Rule]) -> None:
    attack = [bad_key("203.0.113.9", T0 + i) for i in range(20)]
    matches = run(rules, ("audit", attack))
    assert fired(matches) == {"failed-auth-burst"}
    (m,) = matches
    assert m.group == "detail.source_ip=203.0.113.9"
    assert m.count == 20
    assert m.evidence == [r["id"] for r in attack]


def test_bad_aws_signatures_from_one_address_fire(rules: list[Rule]) -> None:
    attack = [
        audit("aws.auth", "deny", "ip:203.0.113.9", "aws:dynamodb", "endpoint:POST /", T0 + i,
              reason="signature_mismatch", source_ip="203.0.113.9", via="aws")
        for i in range(20)
    ]
    assert fired(run(rules, ("audit", attack))) == {"failed-auth-burst"}


def test_benign_streams_of_the_same_size_stay_silent(rules: list[Rule]) -> None:
    # 20 good keys; 20 bad keys from 20 addresses; 20 bad keys from one address over 20 minutes
    assert run(rules, ("audit", [good_key("203.0.113.9", T0 + i) for i in range(20)])) == []
    assert run(rules, ("audit", [bad_key(f"198.51.100.{i}", T0 + i) for i in range(20)])) == []
    assert run(rules, ("audit", [bad_key("203.0.113.9", T0 + 61 * i) for i in range(20)])) == []
    # 19 in the window is one short
    assert run(rules, ("audit", [bad_key("203.0.113.9", T0 + i) for i in range(19)])) == []


def test_a_flood_raises_one_alert_with_its_count(rules: list[Rule]) -> None:
    flood = [bad_key("203.0.113.9", T0 + i * 0.1) for i in range(500)]
    engine, desk = DetectionEngine(rules), AlertDesk("n1")
    new, changed = desk.take(engine.process("audit", flood[:250]))
    assert len(new) == 1 and changed == []
    more_new, changed = desk.take(engine.process("audit", flood[250:]))
    assert more_new == [] and [c["id"] for c in changed] == [new[0]["id"]]
    alert = new[0]
    assert alert["rule"] == "failed-auth-burst" and alert["severity"] == "high"
    assert alert["category"] == "A2"
    assert alert["count"] == 500
    assert len(alert["evidence"]) == 100  # bounded; the count keeps counting


def test_after_the_suppression_window_a_new_alert_is_raised(rules: list[Rule]) -> None:
    first = [bad_key("203.0.113.9", T0 + i) for i in range(20)]
    later = [bad_key("203.0.113.9", T0 + 3600 + i) for i in range(20)]
    desk = AlertDesk("n1")
    new, _ = desk.take(run(rules, ("audit", first + later)))
    assert len(new) == 2


# -- WAF refusals -------------------------------------------------------------------------------
def test_twenty_waf_blocks_from_one_address_fire(rules: list[Rule]) -> None:
    attack = [waf_block("203.0.113.7", T0 + i) for i in range(20)]
    (m,) = run(rules, ("audit", attack))
    assert m.rule.id == "waf-block-burst" and m.rule.category == "A1"
    assert m.group == "detail.source_ip=203.0.113.7"
    assert m.count == 20 and m.evidence == [r["id"] for r in attack]


def test_aggregated_waf_blocks_weigh_their_count_not_their_records(rules: list[Rule]) -> None:
    # a flood: its first 10 refusals one record each, then one record a second with a count
    whole = [waf_block("203.0.113.7", T0 + i * 0.1) for i in range(10)]
    assert run(rules, ("audit", [*whole, waf_block("203.0.113.7", T0 + 2, count=9)])) == []
    flood = [*whole, waf_block("203.0.113.7", T0 + 2, count=10)]
    (m,) = run(rules, ("audit", flood))
    assert m.rule.id == "waf-block-burst" and m.count == 20 and len(m.evidence) == 11


def test_spread_slow_or_other_waf_refusals_stay_silent(rules: list[Rule]) -> None:
    # 19 in the window; 20 over 20 minutes; 40 over 4 addresses under 20 each
    assert run(rules, ("audit", [waf_block("203.0.113.7", T0 + i) for i in range(19)])) == []
    assert run(rules, ("audit", [waf_block("203.0.113.7", T0 + 61 * i) for i in range(20)])) == []
    spread = [waf_block(f"198.51.100.{i % 4}", T0 + i * 0.5) for i in range(76)]
    assert run(rules, ("audit", spread)) == []
    # not injections: network rules (a run-time block, a denied network), a failed WAF,
    # and findings in detect mode (waf.detect, allowed)
    for reason in ("ip-runtime-block", "ip-deny", "check_failed"):
        refused = [waf_block("203.0.113.7", T0 + i, reason=reason) for i in range(25)]
        assert run(rules, ("audit", refused)) == [], reason
    detected = [
        waf_block("203.0.113.7", T0 + i, reason="waf_detect", kind="waf.detect") for i in range(25)
    ]
    assert run(rules, ("audit", detected)) == []


# -- policy denials -------------------------------------------------------------------------------
def test_policy_denial_burst_per_function_across_versions(rules: list[Rule]) -> None:
    attack = [
        access("orders", ("a" if i % 2 else "b") * 64, "kv:GetItem", f"kv:users/u{i}", False,
               T0 + i)
        for i in range(10)
    ]
    matches = run(rules, ("audit", attack))
    assert fired(matches) == {"policy-denial-burst"}
    assert matches[0].group == "principal=orders"


def test_allowed_calls_and_spread_denials_stay_silent(rules: list[Rule]) -> None:
    allowed = [access("orders", "a" * 64, "kv:GetItem", f"kv:orders/{i}", True, T0 + i)
               for i in range(10)]
    spread = [access(f"fn{i}", "a" * 64, "kv:GetItem", "kv:users/u", False, T0 + i)
              for i in range(10)]
    assert run(rules, ("audit", allowed)) == []
    assert run(rules, ("audit", spread)) == []


# -- deploy then errors (sequence) -----------------------------------------------------------------
def test_deploy_followed_by_errors_fires(rules: list[Rule]) -> None:
    d = deploy({"orders": "a" * 12, "ship": "b" * 12}, T0)
    errors = [invocation("orders", "error", T0 + 10 + i) for i in range(5)]
    matches = run(rules, ("audit", [d]), ("invocation", errors))
    assert fired(matches) == {"deploy-then-errors"}
    assert matches[0].group == "orders"
    assert matches[0].evidence[0] == d["id"]
    assert matches[0].evidence[1:] == [f"invocation:{r['request_id']}" for r in errors]


def test_errors_without_a_recent_deploy_stay_silent(rules: list[Rule]) -> None:
    d = deploy({"orders": "a" * 12}, T0)
    before = [invocation("orders", "error", T0 - 100 + i) for i in range(5)]
    other = [invocation("ship", "error", T0 + 10 + i) for i in range(5)]
    late = [invocation("orders", "error", T0 + 601 + i) for i in range(5)]
    ok = [invocation("orders", "ok", T0 + 10 + i) for i in range(5)]
    assert run(rules, ("invocation", before), ("audit", [d])) == []
    assert run(rules, ("audit", [d]), ("invocation", other)) == []
    assert run(rules, ("audit", [d]), ("invocation", late)) == []
    assert run(rules, ("audit", [d]), ("invocation", ok)) == []


# -- first seen -----------------------------------------------------------------------------------
def test_first_read_of_a_new_secret_after_learning_fires(rules: list[Rule]) -> None:
    arn = "arn:ramparts:secrets:shop:secret/{}"
    learned = [access("orders", "a" * 64, "secrets:GetSecretValue", arn.format("db"), True, T0)]
    usual = [access("orders", "a" * 64, "secrets:GetSecretValue", arn.format("db"), True,
                    T0 + 7200 + i) for i in range(3)]
    new = [access("orders", "a" * 64, "secrets:GetSecretValue", arn.format("signing-key"), True,
                  T0 + 7300)]
    assert run(rules, ("audit", learned + usual + usual)) == []  # benign: same size, no new
    matches = run(rules, ("audit", learned + usual + new))
    assert fired(matches) == {"first-secret-read"}
    assert matches[0].group == f"principal=orders, resource={arn.format('signing-key')}"


def test_new_egress_destination_and_denied_egress(rules: list[Rule]) -> None:
    base = [egress("orders", "api.pay.example:443", True, T0)]
    same = [egress("orders", "api.pay.example:443", True, T0 + 4000)]
    other = [egress("orders", "exfil.example:443", True, T0 + 4000)]
    assert run(rules, ("audit", base + same)) == []
    assert fired(run(rules, ("audit", base + other))) == {"new-egress-destination"}
    assert fired(run(rules, ("audit", [egress("orders", "1.2.3.4:80", False, T0)]))) == {
        "egress-denied"
    }


# -- single events ------------------------------------------------------------------------------
def test_single_event_rules(rules: list[Rule]) -> None:
    verify_bad = audit("audit.verify", "deny", "admin", "audit:Verify", "audit:n1", T0,
                       first_bad=41)
    verify_ok = audit("audit.verify", "allow", "admin", "audit:Verify", "audit:n1", T0)
    violation = audit("runtime.violation", "deny", "function:shop/orders",
                      "runtime:subprocess", "/bin/sh", T0, function="orders", version="a" * 64,
                      severity="high", rule="subprocess", blocked=True, mode="block")
    gate = audit("scan.gate", "deny", "admin", "scan:Gate", "app:shop", T0, fail_on="high")
    assert fired(run(rules, ("audit", [verify_bad]))) == {"audit-verification-failure"}
    assert run(rules, ("audit", [verify_ok])) == []
    assert fired(run(rules, ("audit", [violation]))) == {"sandbox-violation"}
    assert fired(run(rules, ("audit", [gate]))) == {"deploy-gate-refusal"}


def test_a_failed_scheduled_drill_fires_and_a_passed_one_does_not(rules: list[Rule]) -> None:
    failed = audit("drill.run", "deny", "node:n1", "drill:Run", "drill:credential-stuffing", T0,
                   status="failed", reason="no alert from rule failed-auth-burst", scheduled=True)
    passed = audit("drill.run", "allow", "node:n1", "drill:Run", "drill:injection-burst", T0,
                   status="passed", reason="", scheduled=True)
    matches = run(rules, ("audit", [passed, failed]))
    assert fired(matches) == {"drill-failed"}
    assert matches[0].rule.severity == "medium" and matches[0].evidence == [failed["id"]]


def test_alert_records_are_never_evaluated_again(rules: list[Rule]) -> None:
    alert = audit("alert", "deny", "node:n1", "detect:x", "detail.source_ip=1.2.3.4", T0)
    assert run(rules, ("audit", [alert] * 50)) == []


# -- bounded state --------------------------------------------------------------------------------
def test_groups_per_rule_are_capped() -> None:
    rule = parse_rule(
        {
            "id": "capped", "title": "t", "severity": "low", "category": "A2",
            "kind": "threshold", "match": {"kind": "gateway.auth"},
            "group_by": ["detail.source_ip"], "threshold": 3, "max_groups": 100,
        },
        file="capped.yaml",
    )
    engine = DetectionEngine([rule])
    engine.process("audit", [bad_key(f"10.0.{i // 250}.{i % 250}", T0) for i in range(5000)])
    assert engine.groups("capped") == 100


def test_a_rule_matching_kinds_by_operator_still_sees_every_kind() -> None:
    # the engine skips rules by kind only when the kind is a plain value or list
    rule = parse_rule(
        {
            "id": "any-gateway-denial", "title": "t", "severity": "low", "category": "A2",
            "kind": "threshold", "match": {"kind": {"prefix": "gateway."}, "decision": "deny"},
            "group_by": ["detail.source_ip"], "threshold": 2,
        },
        file="prefix.yaml",
    )
    engine = DetectionEngine([rule])
    assert engine.process("audit", [good_key("1.2.3.4", T0)] * 2) == []
    assert len(engine.process("audit", [bad_key("1.2.3.4", T0), bad_key("1.2.3.4", T0)])) == 1


def test_first_seen_values_are_capped_per_group_and_per_rule() -> None:
    from ramparts.respond.rules import MAX_VALUES, MAX_VALUES_PER_RULE

    rule = parse_rule(
        {
            "id": "new-dest", "title": "t", "severity": "low", "category": "A3",
            "kind": "first_seen", "match": {"kind": "egress.allow"},
            "group_by": ["detail.function"], "value": "resource",
        },
        file="seen.yaml",
    )
    engine = DetectionEngine([rule])
    one_group = [egress("f0", f"h{i}.example:443", True, T0) for i in range(MAX_VALUES + 50)]
    assert len(engine.process("audit", one_group)) == MAX_VALUES + 50  # all reported
    assert engine.values("new-dest") == MAX_VALUES  # the first 1,000 remembered
    groups = MAX_VALUES_PER_RULE // 500 + 20
    many = [  # the fields this rule reads, nothing else: 100,000 records build fast
        {"id": "", "ts": T0, "kind": "egress.allow", "resource": f"h{i}", "detail": {"function": g}}
        for g in range(1, groups) for i in range(500)
    ]
    engine.process("audit", many)
    assert engine.values("new-dest") <= MAX_VALUES_PER_RULE
    assert engine.groups("new-dest") < groups


def test_an_aggregated_record_weighs_its_count() -> None:
    # A rate-limit flood is audited as few records with a count (ramparts.ratelimit.aggregate):
    # a threshold over refusals must see the refusals, not the records.
    rule = parse_rule(
        {
            "id": "rl-flood", "title": "t", "severity": "low", "category": "A6",
            "kind": "threshold", "match": {"kind": "gateway.rate_limit", "decision": "deny"},
            "group_by": ["principal"], "threshold": 100, "window": "1m",
        },
        file="rl.yaml",
    )

    def refusals(count: int, ts: float) -> dict[str, Any]:
        return audit("gateway.rate_limit", "deny", "ip:203.0.113.9", "http:GET",
                     "route:GET /a", ts, count=count, aggregated=True, limit="1/minute")

    engine = DetectionEngine([rule])
    assert engine.process("audit", [refusals(1, T0), refusals(60, T0 + 1)]) == []
    (m,) = engine.process("audit", [refusals(39, T0 + 2)])
    assert m.count == 100
    assert len(m.evidence) == 3
