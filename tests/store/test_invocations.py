"""Invocation records in the SQL store: filters and age-based pruning, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from ramparts.store.sql import SQLStore
from tests.postgres import state_url

DAY = 86400.0


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLStore]:
    with state_url(request.param, tmp_path) as url:
        s = SQLStore(url)
        try:
            yield s
        finally:
            s.close()


def row(rid: str, started_at: float, function: str = "f", status: str = "ok") -> dict[str, Any]:
    return {
        "request_id": rid,
        "function": function,
        "version": "v1",
        "trigger": "invoke",
        "status": status,
        "started_at": started_at,
        "duration_ms": 1.0,
        "cold": 0,
        "error_type": None,
        "error_message": None,
        "logs": "",
    }


def test_prune_deletes_only_records_older_than_the_cutoff(store: SQLStore) -> None:
    now = time.time()
    store.add_invocations(
        [row(f"old-{i}", now - 8 * DAY - i) for i in range(7)]
        + [row("recent", now - 3600), row("other-fn-old", now - 9 * DAY, function="g")]
    )
    # batches: 3 + 3 + 2 (of 8 old records), then nothing
    assert [store.delete_invocations_before(now - 7 * DAY, 3) for _ in range(4)] == [3, 3, 2, 0]
    assert [r["request_id"] for r in store.list_invocations("f", 0, 100)] == ["recent"]
    assert store.list_invocations("g", 0, 100) == []


def test_filters_by_request_id_and_time(store: SQLStore) -> None:
    now = time.time()
    store.add_invocations([row("a", now - 300), row("b", now - 200), row("c", now - 100)])
    assert [r["request_id"] for r in store.list_invocations("f", 0, 10, request_id="b")] == ["b"]
    got = store.list_invocations("f", 0, 10, since=now - 250, until=now - 100)
    assert [r["request_id"] for r in got] == ["b"]
    assert store.list_invocations("f", 0, 10, request_id="nope") == []


def test_an_older_store_gets_the_started_at_index(tmp_path: Path) -> None:
    """A state store made before the index existed gets it at open; the prune uses it."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    SQLStore(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_invocations_started_at"))
    assert "ix_invocations_started_at" not in {
        i["name"] for i in inspect(engine).get_indexes("invocations")
    }
    SQLStore(url).close()
    assert "ix_invocations_started_at" in {
        i["name"] for i in inspect(engine).get_indexes("invocations")
    }
    with engine.begin() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT seq FROM invocations WHERE started_at < :c LIMIT 10"
            ),
            {"c": time.time()},
        ).all()
    engine.dispose()
    assert any("ix_invocations_started_at" in str(step) for step in plan), plan


def test_reopening_restores_a_missing_started_at_index(store: SQLStore) -> None:
    """On both backends: a store without the index (an older release) gets it at open."""
    engine = store._engine
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_invocations_started_at"))
    assert "ix_invocations_started_at" not in {
        i["name"] for i in inspect(engine).get_indexes("invocations")
    }
    SQLStore(store._url).close()
    assert "ix_invocations_started_at" in {
        i["name"] for i in inspect(engine).get_indexes("invocations")
    }
