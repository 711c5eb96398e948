"""Waiting for a wake-up event with a timeout, without losing a cancellation.

Python 3.11's ``asyncio.wait_for`` returns the inner result instead of raising
``CancelledError`` when its task is cancelled in the same loop turn as the
awaited event fires (fixed in 3.12).  The node's background writers wait for
their wake-up that way; woken and cancelled at once (a denial audited, then
shutdown) one swallowed the cancel, looped on, and ``close`` waited for it
forever.  ``asyncio.timeout`` counts cancellations and re-raises the outside one.
"""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until ``event`` is set or ``timeout`` seconds pass; whether it is set."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True
