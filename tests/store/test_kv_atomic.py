"""``Store.kv_atomic``: read-decide-write in one transaction, on SQLite and PostgreSQL.

The attack: two writers race a conditional insert of the same key ("create if
absent").  Exactly one may win, every round, on either backend; a step that
raises writes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.store.base import KvChange, OutboxEntry
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


class Exists(Exception):
    pass


def _create_if_absent(store: SQLStore, key: str, who: bytes) -> bool:
    def step(old: dict[tuple[str, str], bytes | None]) -> KvChange:
        if old[("t", key)] is not None:
            raise Exists
        return KvChange({("t", key): who})

    try:
        store.kv_atomic("app", [("t", key)], step)
        return True
    except Exists:
        return False


def test_concurrent_conditional_inserts_have_exactly_one_winner(store: SQLStore) -> None:
    for round_ in range(15):
        key = f"k{round_}"
        barrier = threading.Barrier(4)
        wins: list[bytes] = []

        def racer(who: bytes, key: str = key, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            if _create_if_absent(store, key, who):
                wins.append(who)

        threads = [threading.Thread(target=racer, args=(f"w{i}".encode(),)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(wins) == 1, (round_, wins)
        assert store.kv_get("app", "t", key) == wins[0]


def test_concurrent_increments_lose_nothing(store: SQLStore) -> None:
    store.kv_put("app", "t", "n", b"0", [])

    def bump() -> None:
        for _ in range(10):
            store.kv_atomic(
                "app",
                [("t", "n")],
                lambda old: KvChange({("t", "n"): str(int(old[("t", "n")] or b"0") + 1).encode()}),
            )

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert store.kv_get("app", "t", "n") == b"40"


def test_a_failing_step_writes_nothing_and_events_join_the_write(store: SQLStore) -> None:
    store.kv_put("app", "t", "a", b"old", [])

    def boom(old: dict[tuple[str, str], bytes | None]) -> KvChange:
        raise Exists

    with pytest.raises(Exists):
        store.kv_atomic("app", [("t", "a"), ("u", "b")], boom)
    assert store.kv_get("app", "t", "a") == b"old"
    event = OutboxEntry(0, "fn.x", b"{}", {"kind": "table"}, "m1")
    store.kv_atomic(
        "app",
        [("t", "a"), ("u", "b")],
        lambda old: KvChange({("t", "a"): None, ("u", "b"): b"new"}, [event]),
    )
    assert store.kv_get("app", "t", "a") is None and store.kv_get("app", "u", "b") == b"new"
    assert [e.message_id for e in store.outbox_take(10)] == ["m1"]


def test_a_step_cannot_write_keys_it_did_not_read(store: SQLStore) -> None:
    with pytest.raises(ValueError):
        store.kv_atomic("app", [("t", "a")], lambda old: KvChange({("t", "other"): b"x"}))
    assert store.kv_get("app", "t", "other") is None
