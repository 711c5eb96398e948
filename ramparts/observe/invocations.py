"""Invocation records: what ran, on which version, how it ended, and its logs.

Records keep the handler's captured output but never the event payload or
the result, so nothing a caller sent is kept in the clear by this path.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ramparts.config import parse_duration
from ramparts.errors import ConfigError, InvalidRequest
from ramparts.observe.buffer import BufferedWriter
from ramparts.observe.logs import INVOCATION_LOGGER, fields
from ramparts.runtime.types import FunctionSpec, InvocationResult
from ramparts.store import Store

MAX_LOG_CHARS = 64 * 1024
log = logging.getLogger("ramparts.observe")
ended = logging.getLogger(INVOCATION_LOGGER)
_PRUNE_BATCH = 5000  # records deleted per transaction by retention
_SCAN_PAGE = 1000  # records read per query while filtering by level
_SCAN_BUDGET = 10_000  # records one filtered request reads at most; the cursor resumes
#: Level names ``ramparts logs --level`` takes, and the ones handler log lines carry
#: (Python's names, and the shorter forms Lambda's JSON log format uses).
LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
_LINE_LEVELS = {**{k.upper(): v for k, v in LEVELS.items()}, "WARN": 30, "FATAL": 50}
# A line the runtime's log handler wrote: "[LEVEL]\t<time>\t<request id>\t<message>".
_LINE_LEVEL = re.compile(r"^\[([A-Z]{4,8})\]\t", re.MULTILINE)
#: What a stored request id looks like (the column holds 64 characters).
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_UNIX = re.compile(r"\d{1,12}(\.\d{1,9})?")


def parse_level(text: str, *, name: str = "level") -> int:
    """A level name (debug, info, warning, error, critical) as its number."""
    level = LEVELS.get(str(text).strip().lower())
    if level is None:
        raise InvalidRequest(
            f"{name}: {text!r} is not one of {', '.join(LEVELS)}", code="invalid_argument"
        )
    return level


def parse_instant(text: str, *, name: str, now: float | None = None) -> float:
    """Unix seconds for ``text``: ISO-8601 (UTC unless it carries an offset), unix
    seconds (``1764752400``), or a duration with a unit (``10m``) meaning that long ago."""
    raw = str(text).strip()
    if _UNIX.fullmatch(raw):
        return float(raw)
    if raw and raw[-1:] in "smhdw" and raw[:1].isdigit():
        try:
            return (time.time() if now is None else now) - parse_duration(raw, name=name)
        except ConfigError:
            pass
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(
            f"{name}: {text!r} is not a time (ISO-8601 such as 2026-12-03T08:00:00Z, "
            "unix seconds, or a duration ago such as 10m)",
            code="invalid_argument",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def invocation_level(row: dict[str, Any]) -> int:
    """An invocation's level: ERROR when it failed, else the highest level among the
    handler's log lines (``[WARNING]\t...``), INFO when it logged none."""
    level = LEVELS["error"] if row.get("status") != "ok" else LEVELS["info"]
    for name in _LINE_LEVEL.findall(row.get("logs") or ""):
        level = max(level, _LINE_LEVELS.get(name, 0))
    return level
_MAX_LINE_ERROR = 1024  # an error message's share of the one log line per invocation
# W3C Trace Context: version-traceid-parentid-flags, lowercase hex; version ff and
# all-zero ids are invalid (https://www.w3.org/TR/trace-context/#traceparent-header).
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


def trace_id_of(event: Any) -> str | None:
    """The W3C trace id an event carries, or None: its ``traceparent`` (an HTTP event's
    header, or a top-level field of other events); anything malformed counts as none."""
    if not isinstance(event, dict):
        return None
    headers = event.get("headers")
    value = headers.get("traceparent") if isinstance(headers, dict) else None
    if value is None:
        value = event.get("traceparent")
    if not isinstance(value, str) or len(value) > 256:
        return None
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None or match.group(1) == "ff":
        return None
    trace, parent = match.group(2), match.group(3)
    if trace == "0" * 32 or parent == "0" * 16:
        return None
    return trace


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

    def record(
        self,
        spec: FunctionSpec,
        trigger: str,
        result: InvocationResult,
        *,
        principal: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        """Store the invocation's record (write-behind) and log its one INFO line.

        ``result`` is already redacted (``redact_result``); the line's fields are
        redacted again by the formatter, and escaped there, so nothing a handler
        returned or raised becomes a line of the node's log.
        """
        ended.info(
            "invocation %s",
            result.status,
            extra=fields(
                request_id=result.request_id,
                trace_id=trace_id,
                function=spec.function,
                version=spec.version,
                trigger=trigger,
                principal=principal,
                duration_ms=round(result.duration_ms, 3),
                outcome=result.status,
                cold=bool(result.cold),
                error_type=result.error_type,
                error_message=(result.error_message or "")[:_MAX_LINE_ERROR] or None,
            ),
        )
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

    def query(
        self,
        function: str,
        after: int,
        limit: int,
        *,
        request_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        level: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """``function``'s records after seq ``after`` that pass the filters, oldest first,
        and the cursor (seq) to continue from.  Request id and time are filtered by the
        store; the level needs the (possibly sealed) logs, so it is filtered here, over
        at most ``_SCAN_BUDGET`` records per call.  Blocking: call it in a thread."""
        if level is None:
            rows = self._store.list_invocations(
                function, after, limit, request_id=request_id, since=since, until=until
            )
            return rows, (rows[-1]["seq"] if rows else after)
        found: list[dict[str, Any]] = []
        cursor, scanned = after, 0
        while len(found) < limit and scanned < _SCAN_BUDGET:
            page = self._store.list_invocations(
                function, cursor, _SCAN_PAGE, request_id=request_id, since=since, until=until
            )
            for row in page:
                scanned += 1
                cursor = row["seq"]
                if invocation_level(row) >= level:
                    found.append(row)
                    if len(found) == limit:
                        break
            if len(page) < _SCAN_PAGE:
                break
        return found, cursor

    async def prune(self, retain: float) -> int:
        """Delete records that started more than ``retain`` seconds ago; return how many.

        In batches, each its own transaction in a worker thread, so neither the
        event loop nor the store's writers wait on a large backlog.
        """
        cutoff = time.time() - retain
        total = 0
        while True:
            n = await asyncio.to_thread(self._store.delete_invocations_before, cutoff, _PRUNE_BATCH)
            total += n
            if n < _PRUNE_BATCH:
                return total

    async def retain(self, retain: float, on_pruned: Callable[[int], None]) -> None:
        """Prune now, then every tenth of ``retain`` (at least 1 s, at most an hour),
        until cancelled; ``on_pruned`` hears of each run that deleted something."""
        interval = min(3600.0, max(1.0, retain / 10))
        while True:
            try:
                if n := await self.prune(retain):
                    on_pruned(n)
            except asyncio.CancelledError:
                raise
            except Exception:  # the next run tries again; nothing is lost by waiting
                log.exception("pruning invocation records failed")
            await asyncio.sleep(interval)

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
