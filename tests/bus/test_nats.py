"""What only the NATS bus must show: an idle queue is quiet.

A fetch that finds nothing before its timeout is the normal state of an idle
queue; it must come back as an empty receive, never as an error log line (with
a traceback) on every cycle, neither from our code nor from nats-py's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bus.targets import Target, bus_target

pytestmark = pytest.mark.nats


@pytest.fixture
def nats_target(tmp_path: Path) -> Iterator[Target]:
    yield from bus_target("nats", tmp_path)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_an_idle_queue_logs_nothing_at_error(nats_target: Target) -> None:
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    loop = asyncio.get_running_loop()
    unhandled: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    try:
        async with nats_target.connect() as bus:
            # Several fetch cycles of each length the dispatcher and callers use,
            # including the shortest (wait=0 still asks the server once).
            for wait in (1.0, 0.5, 0.0, 1.0, 0.0, 0.2):
                assert await bus.receive("fn.idle", max_messages=5, lease=10, wait=wait) == []
            # The idle consumer still works afterwards.
            await bus.enqueue("fn.idle", b"x")
            got: list = []
            for _ in range(10):
                got += await bus.receive("fn.idle", lease=10, wait=1.0)
                if got:
                    break
            assert [m.body for m in got] == [b"x"]
            await bus.ack(got[0])
            await asyncio.sleep(0.5)  # late replies to timed-out fetches land here
    finally:
        root.removeHandler(collect)
    errors = [r for r in collect.records if r.levelno >= logging.ERROR]
    assert errors == [], [f"{r.name}: {r.getMessage()}" for r in errors]
    assert unhandled == []
