"""Which per-request work the gateway runs off its event loop, and how much at once.

The node serves every request, every app and the control API on one asyncio
loop, so CPU one request spends there is latency for all the others.  Two
pieces of a request's work grow with what the client sent: parsing a JSON body
(ramparts.gateway.json_body) and the WAF's content inspection.  They run
inline only when they are small enough to cost well under a few milliseconds;
otherwise in a worker thread, at most ``THREADS`` at once, so a flood of heavy
requests queues behind those slots instead of holding the loop.

What makes inspection expensive is punctuation, not size: the full rule set
scans code-like text (``{%{%...``, ``'"<>``) 10-40 times slower per character
than words, which pass the plain-text prefilter.  So the inline budget counts
the bytes of a request the WAF reads that are not letters, digits or common
word separators.  Values the WAF decodes (base64 text, say) can still cost
more than their bytes on the wire show, so inline inspection also runs under
a work limit of its own (``INLINE_WORK``); a request that reaches it is
inspected again, whole, in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Worker threads request work may occupy at once (the machine has few cores).
THREADS = 2
#: A JSON body longer than this is parsed in a worker thread.
INLINE_JSON_BYTES = 4 * 1024
#: Inspected inline: at most this many bytes in all ...
INLINE_INSPECTION_BYTES = 16 * 1024
#: ... of which at most this many are not plain (about 1-2 ms of rule-set CPU).
INLINE_NON_PLAIN_BYTES = 1024
#: The WAF's own count of what it scans inline (``Waf.inspect(work_limit=...)``): values it
#: decodes (base64, percent, entities) can cost more than their bytes on the wire showed.
INLINE_WORK = 2 * 1024

_PLAIN_BYTES = (
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\r\n.,-_"
)


def inspection_is_heavy(parts: list[bytes]) -> bool:
    """Whether inspecting a request made of ``parts`` (query, headers, body) belongs off the loop.

    Cheap: a length sum and one C-speed ``bytes.translate`` per part.
    """
    if sum(len(p) for p in parts) > INLINE_INSPECTION_BYTES:
        return True
    non_plain = 0
    for part in parts:
        non_plain += len(part.translate(None, _PLAIN_BYTES))
        if non_plain > INLINE_NON_PLAIN_BYTES:
            return True
    return False


class Offload:
    """The gateway's worker-thread slots for request work."""

    def __init__(self, threads: int = THREADS) -> None:
        self._slots = asyncio.Semaphore(threads)

    async def run(self, heavy: bool, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)``: inline when not ``heavy``, else in a worker thread once a slot is free."""
        if not heavy:
            return fn(*args)
        async with self._slots:
            return await asyncio.to_thread(fn, *args)
