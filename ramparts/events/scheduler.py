"""Schedules (cron lines, EventBridge rate() and cron(), see ``cron``): at most
once per tick per cluster.

Every node ticks; for each schedule trigger whose next fire time has come,
the node tries to claim (function, trigger, tick) in the shared store.  The
claim is a unique insert, so exactly one node wins and enqueues the
EventBridge-style event.  Ticks that passed while no node was running are
not replayed (as with EventBridge, a missed schedule is missed).

``clock_offset`` (``RAMPARTS_SCHEDULER_CLOCK_OFFSET``, seconds) shifts the
clock the scheduler reads, and only that clock.  It exists for tests, which
bring the next whole minute close instead of waiting up to a minute for it;
the events' ``time`` is the shifted tick.  It is never meant for production.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ramparts.bus.base import Bus
from ramparts.events.cron import Schedule, ScheduleError, parse_schedule
from ramparts.events.subscriptions import Subscription, Subscriptions
from ramparts.store import Store

log = logging.getLogger("ramparts.scheduler")


class Scheduler:
    def __init__(
        self,
        *,
        store: Store,
        bus: Bus,
        subscriptions: Callable[[], Subscriptions],
        interval: float = 1.0,
        clock_offset: float = 0.0,
        paused: Callable[[str], bool] | None = None,
    ) -> None:
        self._store = store
        # A quarantined function's ticks pass unfired (not queued for later): a schedule
        # resumes with its next tick after the release.
        self._paused = paused or (lambda _fn: False)
        self._offset = clock_offset
        self._bus = bus
        self._subs = subscriptions
        self._interval = interval
        self._next: dict[tuple[str, str, str], float | None] = {}
        self._parsed: dict[str, Schedule | None] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._offset:
            log.warning(
                "scheduler clock shifted by %+.3f s (RAMPARTS_SCHEDULER_CLOCK_OFFSET, test-only):"
                " schedules fire at the wrong real time",
                self._offset,
            )
        self._task = asyncio.get_running_loop().create_task(self._run(), name="scheduler")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            try:
                await self.tick(time.time() + self._offset)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler tick failed")
            await asyncio.sleep(self._interval)

    async def tick(self, now: float) -> int:
        """Fire every due schedule; returns how many ticks this node won."""
        fired = 0
        seen = set()
        for sub in self._subs().schedules:
            key = (sub.function, sub.trigger_id, sub.config.cron)
            seen.add(key)
            schedule = self._schedule(sub.config.cron)
            if schedule is None:
                continue
            if key not in self._next:
                self._next[key] = schedule.next_after(now)
            nxt = self._next[key]
            while nxt is not None and nxt <= now:  # None: the schedule has no future left
                if self._paused(sub.function):
                    nxt = self._next[key] = schedule.next_after(nxt)
                    continue
                if await asyncio.to_thread(
                    self._store.claim_schedule_tick, sub.function, sub.trigger_id, nxt
                ):
                    await self.fire(sub, nxt)
                    fired += 1
                nxt = self._next[key] = schedule.next_after(nxt)
        for key in set(self._next) - seen:
            del self._next[key]
        return fired

    def _schedule(self, expression: str) -> Schedule | None:
        """Parsed once; the manifest refused what does not parse, so None is never normal."""
        if expression not in self._parsed:
            try:
                self._parsed[expression] = parse_schedule(expression)
            except ScheduleError:
                log.error("schedule %r cannot be evaluated: it does not fire", expression)
                self._parsed[expression] = None
        return self._parsed[expression]

    async def fire(self, sub: Subscription, tick: float) -> str:
        msg = self._subs().schedule_message(sub, tick)
        ids = await self._bus.enqueue_many([msg])
        return ids[0]
