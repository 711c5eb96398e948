"""The refusal aggregator: a flood becomes few audit records whose counts add up."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ramparts.ratelimit.aggregate import KIND, OVERFLOW, DenialAggregator


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
