"""A small write-behind buffer for append-only records.

Invocation records and audit events are written on every request; batching
them into one transaction every few hundred milliseconds keeps the hot path
free of disk waits.  ``flush()`` is awaited on shutdown and by readers that
must see their own writes (the control API flushes before listing).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ramparts.aio import wait_event

log = logging.getLogger("ramparts.observe")


class BufferedWriter:
    def __init__(
        self,
        write: Callable[[list[dict[str, Any]]], None],
        *,
        interval: float = 0.2,
        max_batch: int = 500,
    ) -> None:
        self._write = write
        self._interval = interval
        self._max_batch = max_batch
        self._rows: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()

    def add(self, row: dict[str, Any], *, urgent: bool = False) -> None:
        """Queue a row; ``urgent`` rows wake the writer now instead of on the next tick."""
        self._rows.append(row)
        if urgent or len(self._rows) >= self._max_batch:
            self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await wait_event(self._wake, self._interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # keep the rows and try again on the next tick
                log.exception("could not write %d buffered records", len(self._rows))

    async def flush(self) -> None:
        async with self._lock:
            if not self._rows:
                return
            rows, self._rows = self._rows, []
            try:
                await asyncio.to_thread(self._write, rows)
            except Exception:
                self._rows[:0] = rows
                raise

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self.flush()
