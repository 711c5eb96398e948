"""Background writers stop when told to, even when woken in the same loop turn.

Python 3.11's ``asyncio.wait_for`` returns the inner result instead of raising
when its task is cancelled in the turn the awaited event fires.  The node's
writers (audit, invocation records, outbox relay, re-wrap, bus receive) waited
that way: a denial emitted just before shutdown swallowed the cancel and
``close`` waited forever (seen once in CI as a 120 s timeout).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from ramparts.aio import wait_event
from ramparts.observe.audit import AuditLog
from ramparts.observe.buffer import BufferedWriter
from ramparts.store.sql import SQLStore

_HANG_GUARD = 60.0  # far beyond any real close; only a lost cancel reaches it


async def _closes(close: Coroutine[Any, Any, None]) -> bool:
    """Whether ``close`` finishes by itself (not cancelled by a guard, which hides the bug)."""
    task = asyncio.get_running_loop().create_task(close)
    done, _ = await asyncio.wait({task}, timeout=_HANG_GUARD)
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return bool(done)


def test_wait_event_reports_set_and_timeout() -> None:
    async def scenario() -> tuple[bool, bool]:
        event = asyncio.Event()
        timed_out = await wait_event(event, 0.01)
        event.set()
        return timed_out, await wait_event(event, 5.0)

    assert asyncio.run(scenario()) == (False, True)


def test_a_cancel_in_the_turn_the_event_fires_is_not_lost() -> None:
    async def scenario() -> str:
        event = asyncio.Event()
        task = asyncio.get_running_loop().create_task(wait_event(event, 30.0))
        await asyncio.sleep(0)  # the task is now waiting on the event
        event.set()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"
        return "swallowed"

    assert asyncio.run(scenario()) == "cancelled"


def test_audit_log_closes_right_after_a_denial(tmp_path: Path) -> None:
    """emit (a deny wakes the writer) then close at once: close returns, the row is stored."""
    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")

    async def scenario() -> bool:
        audit = AuditLog(store, "n1")
        audit.start()
        await asyncio.sleep(0)  # the writer is waiting for its wake-up
        await audit.flush()
        audit.emit("test.event", decision="deny", principal="k", action="x:Y", resource="r")
        return await _closes(audit.close())

    try:
        assert asyncio.run(scenario())
        assert [r["kind"] for r in store.list_audit_events(0, 10)] == ["test.event"]
    finally:
        store.close()


def test_buffered_writer_closes_right_after_an_urgent_row() -> None:
    written: list[dict[str, int]] = []

    async def scenario() -> bool:
        writer = BufferedWriter(written.extend, interval=30.0)
        writer.start()
        await asyncio.sleep(0)
        writer.add({"n": 1}, urgent=True)
        return await _closes(writer.close())

    assert asyncio.run(scenario())
    assert written == [{"n": 1}]
