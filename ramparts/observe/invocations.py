"""Invocation records: what ran, on which version, how it ended, and its logs.

Records keep the handler's captured output but never the event payload or
the result, so nothing a caller sent is kept in the clear by this path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from ramparts.observe.buffer import BufferedWriter
from ramparts.runtime.types import FunctionSpec, InvocationResult
from ramparts.store import Store

MAX_LOG_CHARS = 64 * 1024
log = logging.getLogger("ramparts.observe")


class InvocationLog:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._buffer = BufferedWriter(self._write, max_batch=2000)
        self._sinks: list[Callable[[Sequence[dict[str, Any]]], None]] = []

    def add_sink(self, sink: Callable[[Sequence[dict[str, Any]]], None]) -> None:
        """Hand every stored invocation record to ``sink`` (detections, metrics): it runs on
        the writer's thread after the store accepted the batch, must be quick, and its
        failures are logged, never raised into the writer."""
        self._sinks.append(sink)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        self._store.add_invocations(rows)
        for sink in self._sinks:
            try:
                sink(rows)
            except Exception:
                log.exception("invocation sink %r failed", sink)

    def start(self) -> None:
        self._buffer.start()

    def record(self, spec: FunctionSpec, trigger: str, result: InvocationResult) -> None:
        self._buffer.add(
            {
                "request_id": result.request_id,
                "function": spec.function,
                "version": spec.version,
                "trigger": trigger,
                "status": result.status,
                "started_at": time.time() - result.duration_ms / 1000.0,
                "duration_ms": round(result.duration_ms, 3),
                "cold": int(result.cold),
                "error_type": result.error_type,
                "error_message": result.error_message,
                "logs": _logs_with_traceback(result)[:MAX_LOG_CHARS],
            }
        )

    async def flush(self) -> None:
        await self._buffer.flush()

    async def close(self) -> None:
        await self._buffer.close()


def _logs_with_traceback(result: InvocationResult) -> str:
    logs = result.logs or ""
    if result.traceback:
        logs += ("" if not logs or logs.endswith("\n") else "\n") + result.traceback
    elif result.status != "ok" and result.error_message:
        logs += ("" if not logs or logs.endswith("\n") else "\n") + (
            f"{result.error_type or 'Error'}: {result.error_message}\n"
        )
    return logs
