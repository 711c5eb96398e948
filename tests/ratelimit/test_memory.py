"""The memory:// store's one-pass hit: the same decisions as acquire() then window()."""

from __future__ import annotations

import time

from ramparts.ratelimit.memory import MovingWindowMemory


def test_hit_admits_up_to_the_limit_and_records_nothing_when_refused() -> None:
    memory = MovingWindowMemory()
    seen = [memory.hit("k", 3, 60) for _ in range(5)]
    assert [admitted for admitted, _, _ in seen] == [True, True, True, False, False]
    assert [count for _, _, count in seen] == [1, 2, 3, 3, 3]  # a refusal adds nothing
    first = seen[0][1]
    assert all(start == first for _, start, _ in seen)  # the oldest counted hit
    assert memory.window("k", 60) == (first, 3)


def test_hit_and_acquire_share_one_counter() -> None:
    memory = MovingWindowMemory()
    assert memory.acquire("k", 2, 60)
    assert memory.hit("k", 2, 60)[0]
    assert not memory.acquire("k", 2, 60)
    assert memory.hit("k", 2, 60) == (False, memory.window("k", 60)[0], 2)


def test_hits_older_than_the_window_are_forgotten() -> None:
    memory = MovingWindowMemory()
    assert memory.hit("k", 1, 1)[0]
    assert not memory.hit("k", 1, 1)[0]
    deadline = time.monotonic() + 10
    while not memory.hit("k", 1, 1)[0]:  # the window moves on; wait for it, bounded
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert memory.window("k", 1)[1] == 1


def test_reading_a_window_creates_no_counter() -> None:
    memory = MovingWindowMemory()
    now_before = time.time()
    start, count = memory.window("nobody", 60)
    assert count == 0 and start >= now_before
    assert memory.counters == 0


def test_fixed_window_counts_until_the_window_ends_then_starts_over() -> None:
    import asyncio

    from limits import parse
    from limits.aio.strategies import FixedWindowRateLimiter

    async def run() -> None:
        store = MovingWindowMemory()
        limiter = FixedWindowRateLimiter(store)
        limit = parse("2/second")
        assert await limiter.hit(limit, "k") and await limiter.hit(limit, "k")
        assert not await limiter.hit(limit, "k")  # third hit in the same window
        # limits counts every attempt in a fixed window, the refused one too
        assert await store.get(limit.key_for("k")) == 3
        assert await store.get_expiry(limit.key_for("k")) > time.time()
        await asyncio.sleep(1.2)
        assert await limiter.hit(limit, "k")  # a new window
        await store.clear(limit.key_for("k"))
        assert await store.get(limit.key_for("k")) == 0

    asyncio.run(run())
