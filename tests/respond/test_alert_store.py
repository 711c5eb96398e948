"""Alerts in the state store (SQLite and PostgreSQL): stored, merged, filtered, newest first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.respond.alerts import AlertDesk
from ramparts.respond.detections import DetectionEngine
from ramparts.respond.ruleset import load_rules
from ramparts.store.sql import SQLStore
from tests.postgres import state_url
from tests.respond.streams import T0, bad_key


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLStore]:
    with state_url(request.param, tmp_path) as url:
        s = SQLStore(url)
        try:
            yield s
        finally:
            s.close()


def test_alerts_are_stored_merged_and_filtered(store: SQLStore) -> None:
    engine, desk = DetectionEngine(load_rules()), AlertDesk("n1")
    new, _ = desk.take(engine.process("audit", [bad_key("203.0.113.9", T0 + i) for i in range(20)]))
    store.add_alerts(new)
    _, changed = desk.take(
        engine.process("audit", [bad_key("203.0.113.9", T0 + 30 + i) for i in range(5)])
    )
    store.update_alerts(changed)
    (row,) = store.list_alerts(0.0, None, 10)
    assert row["id"] == new[0]["id"]
    assert row["rule"] == "failed-auth-burst" and row["severity"] == "high"
    assert row["count"] == 25 and len(row["evidence"]) == 25
    assert row["group_key"] == "detail.source_ip=203.0.113.9"
    assert row["last_ts"] == T0 + 34
    assert store.list_alerts(0.0, ["critical"], 10) == []
    assert row["ts"] == T0 + 19  # when the 20th record completed the match
    assert store.list_alerts(T0 + 20, None, 10) == []
    assert len(store.list_alerts(T0 + 19, ["high", "critical"], 10)) == 1
