"""The per-app concurrency cap (``app_limits: {concurrency: N}``) on one node.

The function's own cap is the supervisor's worker pool; this one spans all
of an app's functions.  A call that finds the app at its cap waits at most
``wait`` seconds for a slot, then is throttled: callers get a fast 429
instead of an unbounded queue (events wait in the bus instead, see the
dispatcher).  The count is per node: N nodes allow up to N x the cap.
"""

from __future__ import annotations

import asyncio
import collections


class AppSlots:
    """Invocations in flight per app, and the callers waiting for one to end."""

    def __init__(self) -> None:
        self._busy: collections.Counter[str] = collections.Counter()
        self._waiters: dict[str, collections.deque[asyncio.Future[None]]] = {}

    def busy(self, app: str) -> int:
        return self._busy[app]

    async def acquire(self, app: str, cap: int | None, wait: float) -> bool:
        """Take a slot of ``app`` (always, without a cap); False when none came in time."""
        if cap is None or self._busy[app] < cap:
            self._busy[app] += 1
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        queue = self._waiters.setdefault(app, collections.deque())
        while self._busy[app] >= cap:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            fut: asyncio.Future[None] = loop.create_future()
            queue.append(fut)
            try:
                async with asyncio.timeout(remaining):
                    await fut
            except TimeoutError:
                return False
            finally:
                if fut in queue:
                    queue.remove(fut)
        self._busy[app] += 1
        return True

    def release(self, app: str) -> None:
        """End one invocation of ``app`` and wake the longest waiter."""
        self._busy[app] -= 1
        if self._busy[app] <= 0:
            del self._busy[app]
        queue = self._waiters.get(app)
        while queue:
            fut = queue.popleft()
            if not fut.done():
                fut.set_result(None)
                break
        if queue is not None and not queue:
            self._waiters.pop(app, None)
