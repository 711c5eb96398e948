"""Quarantine and lowered limits: a function taken out of service, or slowed, during an incident.

A quarantined function runs nothing: its HTTP routes answer 503
``function_quarantined``, direct and function-to-function invocations are
refused, its schedules do not fire, and its topic, queue, object, table and
webhook events stay in the bus (not consumed, not dead-lettered) until it is
released.  The list lives in the state store (``ResponseRecords``), so every
node of a cluster follows it: each node reads it at start, after its own
changes at once, and otherwise when the store's counter moved (polled about
once a second).  ``holds`` is a dict lookup: it sits on the request path.

Lowered limits (``lowered``) follow the same list and counter: a rate (counted
in the node's rate-limit storage, so shared by nodes that share it) and a
concurrency cap (counted per node) that apply on top of the manifest's, to
every trigger, until restored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ramparts.errors import Conflict, NotFound
from ramparts.respond.records import LimitRecord, QuarantineRecord, ResponseRecords

log = logging.getLogger("ramparts.respond")

POLL = 1.0


class Quarantines:
    def __init__(self, records: ResponseRecords) -> None:
        self._records = records
        self._held: dict[str, QuarantineRecord] = {}
        self._lowered: dict[str, LimitRecord] = {}
        self._generation = -1
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.reload(force=True)
        self._task = asyncio.get_running_loop().create_task(self._follow())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def holds(self, function: str) -> bool:
        """Whether ``function`` is quarantined (as of this node's last read)."""
        return function in self._held

    def lowered(self, function: str) -> LimitRecord | None:
        """``function``'s lowered limits, or None (as of this node's last read)."""
        return self._lowered.get(function)

    def lowered_all(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in sorted(self._lowered.values(), key=lambda r: r.created_at)]

    async def lower(
        self,
        function: str,
        *,
        rate: str | None,
        concurrency: int | None,
        actor: str,
        incident: str = "",
    ) -> LimitRecord:
        record = LimitRecord(function, rate, concurrency, time.time(), actor, incident)
        merged = await asyncio.to_thread(self._records.limit_put, record)
        await self.reload(force=True)
        return merged

    async def restore(self, function: str) -> LimitRecord:
        """Drop ``function``'s lowered limits; ``NotFound`` (``not_lowered``) if none."""
        removed = await asyncio.to_thread(self._records.limit_delete, function)
        await self.reload(force=True)
        if removed is None:
            raise NotFound(f"{function} has no lowered limits", code="not_lowered")
        return removed

    def active(self) -> list[QuarantineRecord]:
        return sorted(self._held.values(), key=lambda r: r.created_at)

    async def reload(self, force: bool = False) -> None:
        generation = await asyncio.to_thread(self._records.quarantine_generation)
        if generation == self._generation and not force:
            return
        rows = await asyncio.to_thread(self._records.quarantine_list)
        limits = await asyncio.to_thread(self._records.limit_list)
        self._held = {r.function: r for r in rows}
        self._lowered = {r.function: r for r in limits}
        self._generation = generation

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(POLL)
            try:
                await self.reload()
            except asyncio.CancelledError:
                raise
            except Exception:  # the last list stays in force; a quarantine never lapses
                log.exception("reading the quarantine list failed")

    async def add(
        self, function: str, reason: str, *, actor: str, incident: str = ""
    ) -> QuarantineRecord:
        """Quarantine ``function``; ``Conflict`` (``already_quarantined``) if it is."""
        record = QuarantineRecord(function, time.time(), reason, actor, incident)
        if not await asyncio.to_thread(self._records.quarantine_put, record):
            await self.reload(force=True)
            raise Conflict(f"{function} is quarantined already", code="already_quarantined")
        await self.reload(force=True)
        return record

    async def release(self, function: str) -> QuarantineRecord:
        """Release ``function``; ``NotFound`` (``not_quarantined``) if it is not quarantined."""
        removed = await asyncio.to_thread(self._records.quarantine_delete, function)
        await self.reload(force=True)
        if removed is None:
            raise NotFound(f"{function} is not quarantined", code="not_quarantined")
        return removed

    def public(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.active()]
