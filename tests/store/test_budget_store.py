"""Budget usage in the state store (SQLite and PostgreSQL): deltas add up, concurrently
too; a mark is taken once; overrides replace and clear; ended windows are pruned."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ramparts.budget.windows import Windows
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


def _row(scope: str, window: str, inv: int, ms: int, ends: float = 2e9) -> dict[str, object]:
    return {"scope": scope, "window": window, "invocations": inv, "compute_ms": ms, "ends_at": ends}


def test_deltas_from_many_writers_add_up(store: SQLStore) -> None:
    rows = [_row("function:f", "h:2026120311", 1, 10), _row("app:a", "h:2026120311", 1, 10)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: store.budget_add(rows), range(20)))
    store.budget_add([_row("function:f", "h:2026120311", -1, 5)])
    usage = store.budget_usage(["h:2026120311", "d:20261203"])
    assert usage == {
        ("function:f", "h:2026120311"): (19, 205),
        ("app:a", "h:2026120311"): (20, 200),
    }
    assert store.budget_usage(["h:2026120312"]) == {}


def test_a_mark_is_taken_once(store: SQLStore) -> None:
    assert store.budget_mark("function:f", "h:2026120311", "warning:invocations_per_hour", 1.0)
    assert not store.budget_mark("function:f", "h:2026120311", "warning:invocations_per_hour")
    assert store.budget_mark("function:f", "h:2026120312", "warning:invocations_per_hour")


def test_overrides_replace_and_clear(store: SQLStore) -> None:
    store.budget_set_override("function:f", {"invocations_per_day": 5})
    store.budget_set_override("function:f", {"invocations_per_day": 7, "invocations_per_hour": 2})
    assert store.budget_overrides() == {
        "function:f": {"invocations_per_day": 7, "invocations_per_hour": 2}
    }
    store.budget_set_override("function:f", None)
    assert store.budget_overrides() == {}


def test_ended_windows_are_pruned(store: SQLStore) -> None:
    store.budget_add(
        [_row("function:f", "h:old", 3, 0, ends=100.0), _row("function:f", "h:new", 1, 0)]
    )
    store.budget_mark("function:f", "h:old", "warning:x", 100.0)
    store.budget_prune(1000.0)
    assert store.budget_usage(["h:old", "h:new"]) == {("function:f", "h:new"): (1, 0)}
    assert store.budget_mark("function:f", "h:old", "warning:x", 100.0)  # the old mark is gone


def test_windows_are_utc_hours_and_days() -> None:
    w = Windows.at(1796299199.5)  # 2026-12-03T11:59:59.5Z
    assert (w.hour, w.day) == ("h:2026120311", "d:20261203")
    assert w.hour_ends == 1796299200.0 and w.day_ends == 1796342400.0
