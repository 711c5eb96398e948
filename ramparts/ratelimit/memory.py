"""The ``memory://`` counter store: a moving window per counter in this node's memory.

Why not ``limits.aio.storage.MemoryStorage``: after every hit it schedules a
sweep of *every* counter, each through its own thread hop
(``asyncio.to_thread``), so under load the sweep runs continuously and
measured about 450 µs per request on the gateway's loop, and a spray of
addresses (many counters) makes each sweep longer.  This store answers the
same two calls ``limits``' ``MovingWindowRateLimiter`` makes
(``acquire_entry``, ``get_moving_window``, with the same meaning), keeps one
deque of timestamps per counter (at most the limit's amount), and drops idle
counters in one pass at most once a second, inline (no thread, no task).

Everything runs on the event loop without awaiting, so a check-and-record is
atomic without locks.
"""

from __future__ import annotations

import time
from collections import deque

from limits.aio.storage import MovingWindowSupport, Storage

SWEEP_EVERY = 1.0


class MovingWindowMemory(Storage, MovingWindowSupport):
    """A moving-window counter per key: timestamps of the admitted requests, oldest first.

    Registers no URL scheme with ``limits`` (``STORAGE_SCHEME = None``): the
    library's own ``memory://`` stays what it is; ``RateLimiter`` builds this
    one directly.  The gateway counts with the moving window; the fixed-window
    calls work too, so any ``limits`` strategy can use this store.
    """

    STORAGE_SCHEME = None

    def __init__(self) -> None:
        super().__init__()
        self._events: dict[str, tuple[deque[float], float]] = {}  # key -> (times, expiry)
        self._fixed: dict[str, tuple[int, float]] = {}  # key -> (count, window end)
        self._last_sweep = time.monotonic()

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        return self.acquire(key, limit, expiry, amount)

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        return self.window(key, expiry)

    # The same two operations, synchronous: RateLimiter calls these on the request path
    # (no coroutine, no wrapper per call).
    def acquire(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Record ``amount`` hits now if the last ``expiry`` seconds hold at most
        ``limit - amount``; otherwise record nothing and refuse."""
        if amount > limit:
            return False
        times, now = self._current(key, expiry, create=True)
        if len(times) + amount > limit:
            return False
        times.extend([now] * amount)
        return True

    def hit(self, key: str, limit: int, expiry: int) -> tuple[bool, float, int]:
        """``acquire`` of one hit and ``window`` in one pass, for the request path:
        (admitted, the oldest counted hit's time or now, hits the window then holds)."""
        times, now = self._current(key, expiry, create=True)
        admitted = len(times) < limit
        if admitted:
            times.append(now)
        return admitted, times[0] if times else now, len(times)

    def window(self, key: str, expiry: int) -> tuple[float, int]:
        """(the oldest counted hit's time, or now; how many hits the window holds)."""
        times, now = self._current(key, expiry, create=False)
        if not times:
            return now, 0
        return times[0], len(times)

    def _current(self, key: str, expiry: int, *, create: bool) -> tuple[deque[float], float]:
        """The key's hits within the last ``expiry`` seconds (older ones dropped), and now."""
        now = time.time()
        if create:
            self._maybe_sweep()
        found = self._events.get(key)
        if found is None:
            times: deque[float] = deque()
            if create:
                self._events[key] = (times, float(expiry))
            return times, now
        times = found[0]
        cutoff = now - expiry
        while times and times[0] <= cutoff:
            times.popleft()
        return times, now

    def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < SWEEP_EVERY:
            return
        self._last_sweep = now
        wall = time.time()
        for key, (times, expiry) in list(self._events.items()):
            if not times or times[-1] <= wall - expiry:
                del self._events[key]  # nothing in its window any more
        for key, (_, ends) in list(self._fixed.items()):
            if ends <= wall:
                del self._fixed[key]

    @property
    def counters(self) -> int:
        return len(self._events)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    # The fixed-window half of limits' Storage interface.  The gateway's limiter uses the
    # moving window only; these keep the store a complete ``Storage`` (a count per key that
    # starts at the first hit and resets ``expiry`` seconds later), swept like the windows.
    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        self._maybe_sweep()
        count, ends = self._fixed.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + expiry
        self._fixed[key] = (count + amount, ends)
        return count + amount

    async def get(self, key: str) -> int:
        count, ends = self._fixed.get(key, (0, 0.0))
        return count if ends > time.time() else 0

    async def get_expiry(self, key: str) -> float:
        count, ends = self._fixed.get(key, (0, 0.0))
        return ends if ends > time.time() else time.time()

    async def check(self) -> bool:
        return True

    async def reset(self) -> int:
        count = len(self._events) + len(self._fixed)
        self._events.clear()
        self._fixed.clear()
        return count

    async def clear(self, key: str) -> None:
        self._events.pop(key, None)
        self._fixed.pop(key, None)

