"""A quarantined function's schedule does not fire: its ticks pass unfired (not queued for
later), and the schedule resumes with its next tick after the release.  A real SQLite store
and embedded bus; the scheduler is driven tick by tick with chosen times."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ramparts.bus import open_bus
from ramparts.events.scheduler import Scheduler
from ramparts.events.subscriptions import Subscription, Subscriptions
from ramparts.manifest import ScheduleTrigger
from ramparts.store import open_store


def test_quarantined_schedule_skips_its_ticks_and_resumes(tmp_path: Path) -> None:
    sub = Subscription("cron-fn", "app", 0, "schedule", ScheduleTrigger(cron="* * * * *"))

    class OneSchedule(Subscriptions):
        def __init__(self) -> None:
            super().__init__([])
            self.schedules = [sub]

    quarantined: set[str] = set()

    async def run() -> tuple[int, int, int]:
        bus = open_bus(f"embedded://{tmp_path / 'bus.db'}")
        await bus.open()
        store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
        subs = OneSchedule()
        scheduler = Scheduler(
            store=store, bus=bus, subscriptions=lambda: subs, paused=quarantined.__contains__
        )
        start = 1_800_000_000.0  # a minute boundary
        await scheduler.tick(start)
        before = await scheduler.tick(start + 61)  # one tick, fired
        quarantined.add("cron-fn")
        during = sum([await scheduler.tick(start + 60 * m + 1) for m in range(2, 5)])
        quarantined.discard("cron-fn")
        after = await scheduler.tick(start + 60 * 5 + 1)  # only the next tick: none made up
        depth = await bus.depth("fn.cron-fn")
        await bus.close()
        store.close()
        assert depth == before + during + after
        return before, during, after

    assert asyncio.run(run()) == (1, 0, 1)
