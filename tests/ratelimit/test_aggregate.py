"""The refusal aggregator: a flood becomes few audit records whose counts add up."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ramparts.ratelimit.aggregate import (
    KIND,
    OVERFLOW,
    WHOLE,
    AggregatedAudit,
    DenialAggregator,
)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Audit:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def emit(self, kind: str, **fields: Any) -> None:
        self.records.append({"kind": kind, **fields})


def _refuse(agg: DenialAggregator, who: str = "ip:192.0.2.1", route: str = "GET /a",
            rid: str = "r") -> None:
    agg.refused(principal=who, method="GET", route_key=route, limit="1/minute", request_id=rid,
                reason="rate_limited", source_ip="192.0.2.1")


def test_first_refusal_at_once_then_one_summary_per_interval() -> None:
    audit, clock = _Audit(), _Clock()
    agg = DenialAggregator(audit.emit, clock=clock)
    _refuse(agg, rid="first")
    assert len(audit.records) == 1
    first = audit.records[0]
    assert first["kind"] == KIND and first["decision"] == "deny"
    assert first["count"] == 1 and first["request_id"] == "first"
    assert first["limit"] == "1/minute" and first["resource"] == "route:GET /a"
    for i in range(999):
        _refuse(agg, rid=f"r{i}")
        clock.now += 0.003  # ~3 s of flood in all
        agg.flush()
    agg.flush(everything=True)
    assert sum(r["count"] for r in audit.records) == 1000
    assert len(audit.records) <= 5
    # At most one record per interval: timestamps of emission are a second apart.
    assert all(r["aggregated"] is True for r in audit.records)


def test_quiet_group_closes_and_next_refusal_is_recorded_at_once() -> None:
    audit, clock = _Audit(), _Clock()
    agg = DenialAggregator(audit.emit, clock=clock)
    _refuse(agg)
    clock.now += 1.5
    agg.flush()  # nothing pending: the group is dropped
    assert agg.groups == 0
    _refuse(agg)
    assert [r["count"] for r in audit.records] == [1, 1]


def test_groups_are_per_principal_and_route_and_bounded() -> None:
    audit, clock = _Audit(), _Clock()
    agg = DenialAggregator(audit.emit, clock=clock, max_groups=3)
    for i in range(10):
        _refuse(agg, who=f"ip:10.0.0.{i}")
    # three groups of their own, then one overflow group for the route
    assert [r["principal"] for r in audit.records] == [
        "ip:10.0.0.0", "ip:10.0.0.1", "ip:10.0.0.2", OVERFLOW
    ]
    assert "source_ip" not in audit.records[-1]
    agg.flush(everything=True)
    assert sum(r["count"] for r in audit.records) == 10


def test_close_writes_pending_counts() -> None:
    audit = _Audit()

    async def main() -> None:
        agg = DenialAggregator(audit.emit, interval=60.0)
        agg.start()
        for _ in range(5):
            _refuse(agg)
        await agg.close()

    asyncio.run(main())
    assert [r["count"] for r in audit.records] == [1, 4]


def test_an_audit_failure_never_fails_the_request() -> None:
    def broken(kind: str, **fields: Any) -> None:
        raise OSError("disk full")

    agg = DenialAggregator(broken)
    _refuse(agg)  # no exception


@pytest.mark.parametrize("count", [1, 7])
def test_metrics_and_detections_count_an_aggregated_record_as_its_count(count: int) -> None:
    from ramparts.observe.counting import represented

    record = {"detail": {"aggregated": True, "count": count}}
    assert represented(record) == count
    assert represented({"detail": {"count": 5}}) == 1  # not aggregated: one event
    assert represented({"detail": {"aggregated": True, "count": True}}) == 1
    assert represented({"detail": {"aggregated": True, "count": -3}}) == 1


# -- every flood-prone refusal, through AggregatedAudit (adv-dos F5) -------------------------


def _deny(audit: AggregatedAudit, kind: str, principal: str, rid: str, **detail: Any) -> None:
    audit.emit(kind, decision="deny", principal=principal, action="http:GET",
               resource="route:GET /a", request_id=rid, source_ip="192.0.2.7", **detail)


def test_guessed_credentials_from_one_address_are_one_group() -> None:
    audit, clock = _Audit(), _Clock()
    agg = DenialAggregator(audit.emit, clock=clock)
    floods = AggregatedAudit(agg)
    for i in range(100):  # a new key id every request
        _deny(floods, "gateway.auth", f"key:{i:012x}", f"r{i}", reason="api_key_unknown")
    agg.flush(everything=True)
    # The first WHOLE one record each, then one summary (no time passed).
    assert len(audit.records) == WHOLE + 1
    first, summary = audit.records[0], audit.records[-1]
    assert first["kind"] == "gateway.auth" and first["count"] == 1
    assert first["principal"] == "key:000000000000" and first["request_id"] == "r0"
    assert [r["request_id"] for r in audit.records[:WHOLE]] == [f"r{i}" for i in range(WHOLE)]
    assert summary["count"] == 100 - WHOLE
    assert summary["principal"] == "key:000000000063"  # the latest
    assert summary["request_ids"] == [f"r{i}" for i in range(WHOLE, WHOLE + 16)]  # bounded
    assert summary["source_ip"] == "192.0.2.7" and summary["aggregated"] is True


def test_different_attacks_and_kinds_stay_apart() -> None:
    audit = _Audit()
    agg = DenialAggregator(audit.emit, clock=_Clock())
    floods = AggregatedAudit(agg)
    _deny(floods, "gateway.waf", "ip:192.0.2.7", "a", reason="waf_blocked", rules=["xss-script"])
    _deny(floods, "gateway.waf", "ip:192.0.2.7", "b", reason="waf_blocked", rules=["sqli-union"])
    _deny(floods, "gateway.waf", "ip:192.0.2.7", "c", reason="method-not-declared",
          rule="method-not-declared")
    _deny(floods, "waf.detect", "ip:192.0.2.7", "d", reason="waf_detect", rules=["xss-script"])
    # each is the first of its group: written at once, whole
    assert [r["request_id"] for r in audit.records] == ["a", "b", "c", "d"]
    assert audit.records[0]["rules"] == ["xss-script"]
    assert audit.records[2]["rule"] == "method-not-declared"


def test_an_allowed_finding_keeps_its_decision() -> None:
    audit = _Audit()
    floods = AggregatedAudit(DenialAggregator(audit.emit, clock=_Clock()))
    floods.emit("waf.detect", decision="allow", principal="ip:192.0.2.7", action="http:GET",
                resource="route:GET /a", request_id="x", reason="waf_detect", rules=["r"])
    assert audit.records[0]["decision"] == "allow"
