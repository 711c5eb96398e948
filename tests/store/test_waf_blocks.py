"""The WAF's run-time block list in the SQL store, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.store.base import BlockRecord
from ramparts.store.sql import SQLStore
from tests.postgres import state_url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLStore]:
    with state_url(request.param, tmp_path) as url:
        s = SQLStore(url)
        try:
            yield s
        finally:
            s.close()


def rec(network: str, expires_at: float | None = None, reason: str = "") -> BlockRecord:
    return BlockRecord(network, time.time(), expires_at, reason, "admin", "127.0.0.1", "n1")


def test_every_change_moves_the_generation_and_replaces_by_network(store: SQLStore) -> None:
    g0 = store.block_generation()
    assert store.block_put(rec("203.0.113.0/24", reason="scan")) is False
    g1 = store.block_generation()
    assert g1 > g0
    assert store.block_put(rec("203.0.113.0/24", reason="again")) is True
    assert store.block_generation() > g1
    rows = store.block_list()
    assert [(r.network, r.reason) for r in rows] == [("203.0.113.0/24", "again")]
    g2 = store.block_generation()
    assert store.block_delete("198.51.100.0/24", time.time()) is None
    assert store.block_generation() == g2, "deleting nothing changed nothing"
    removed = store.block_delete("203.0.113.0/24", time.time())
    assert removed is not None and removed.reason == "again"
    assert store.block_list() == []
    assert store.block_generation() > g2


def test_expired_entries_are_not_counted_and_are_pruned(store: SQLStore) -> None:
    now = time.time()
    store.block_put(rec("10.0.0.0/8", expires_at=now - 5))
    store.block_put(rec("2001:db8::/32", expires_at=now + 3600))
    store.block_put(rec("192.0.2.1/32"))
    assert store.block_count(now) == 2
    g = store.block_generation()
    gone = store.block_prune(now)
    assert [r.network for r in gone] == ["10.0.0.0/8"]
    assert store.block_generation() > g
    assert sorted(r.network for r in store.block_list()) == ["192.0.2.1/32", "2001:db8::/32"]
    assert store.block_prune(now) == []


def test_a_store_without_the_counter_gets_one(tmp_path: Path) -> None:
    """A store made before the block list existed: opening it adds the table and counter."""
    from sqlalchemy import delete

    from ramparts.store.sql import meta_t

    url = f"sqlite:///{tmp_path / 'state.db'}"
    first = SQLStore(url)
    with first.engine.begin() as conn:
        conn.execute(delete(meta_t).where(meta_t.c.key == "waf_blocks_generation"))
    first.close()
    again = SQLStore(url)
    try:
        assert again.block_generation() == 0
    finally:
        again.close()
